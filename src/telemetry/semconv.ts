/**
 * OpenTelemetry semantic-convention attribute names the gateway emits, pinned
 * here as constants. The GenAI conventions are still "development" upstream and
 * are renamed from time to time (`gen_ai.system` → `gen_ai.provider.name`,
 * `prompt_tokens` → `input_tokens`), so we pin the names we emit instead of
 * importing a moving package; a rename is then one visible change in this file.
 *
 * @example
 * ```ts
 * span.setAttribute(ATTR_GEN_AI_REQUEST_MODEL, "tiny");
 * ```
 */

// --- GenAI (https://opentelemetry.io/docs/specs/semconv/gen-ai/) -------------------------

/** `chat`, `text_completion`, `embeddings`. */
export const ATTR_GEN_AI_OPERATION_NAME = "gen_ai.operation.name";
/** Who serves the model; ours is the gateway itself. */
export const ATTR_GEN_AI_PROVIDER_NAME = "gen_ai.provider.name";
export const ATTR_GEN_AI_REQUEST_MODEL = "gen_ai.request.model";
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens";
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature";
export const ATTR_GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p";
export const ATTR_GEN_AI_REQUEST_TOP_K = "gen_ai.request.top_k";
export const ATTR_GEN_AI_REQUEST_SEED = "gen_ai.request.seed";
export const ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty";
export const ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty";
export const ATTR_GEN_AI_OUTPUT_TYPE = "gen_ai.output.type";
export const ATTR_GEN_AI_RESPONSE_ID = "gen_ai.response.id";
export const ATTR_GEN_AI_RESPONSE_MODEL = "gen_ai.response.model";
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons";
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
/** Opt-in content attributes: only set when `telemetry.recordContent` is true. */
export const ATTR_GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages";
export const ATTR_GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages";
/** Span event at the first generated token (TTFT is the event's offset from span start). */
export const EVENT_GEN_AI_FIRST_TOKEN = "gen_ai.first_token";

/** Values of `gen_ai.operation.name`. */
export const GEN_AI_OPERATION = { chat: "chat", textCompletion: "text_completion", embeddings: "embeddings" } as const;
export type GenAiOperation = (typeof GEN_AI_OPERATION)[keyof typeof GEN_AI_OPERATION];

/** Our value of `gen_ai.provider.name`. */
export const GEN_AI_PROVIDER = "switchyard";

// --- HTTP, server, errors --------------------------------------------------------------

export const ATTR_HTTP_REQUEST_METHOD = "http.request.method";
export const ATTR_HTTP_ROUTE = "http.route";
export const ATTR_HTTP_RESPONSE_STATUS_CODE = "http.response.status_code";
export const ATTR_URL_PATH = "url.path";
export const ATTR_ERROR_TYPE = "error.type";

// --- Switchyard's own (namespaced, not standard) ---------------------------------------

export const ATTR_SWITCHYARD_REQUEST_ID = "switchyard.request_id";
export const ATTR_SWITCHYARD_SHARD = "switchyard.shard";
export const ATTR_SWITCHYARD_QUEUE_MS = "switchyard.queue_ms";
export const ATTR_SWITCHYARD_TTFT_MS = "switchyard.ttft_ms";
export const ATTR_SWITCHYARD_CACHED_PROMPT_TOKENS = "switchyard.cached_prompt_tokens";
export const ATTR_SWITCHYARD_CACHE_RESULT = "switchyard.cache.result";
export const ATTR_SWITCHYARD_RETRIEVAL_PASSAGES = "switchyard.retrieval.passages";
