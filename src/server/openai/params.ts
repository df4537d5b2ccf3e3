/**
 * Validated OpenAI request → engine input and sampling params. Every field is
 * either honoured or refused with a 400 naming it; nothing is silently dropped.
 */
import { acceptedSchema } from "./tool-schema.js";
import type { SwitchyardConfig } from "../../config/index.js";
import { invalidRequest } from "../../errors.js";
import type { ChatMessage, GenerationInput, OutputGrammar, SamplingParams } from "../../types.js";
import type { ChatRequest, CompletionRequest } from "./schemas.js";

type Limits = SwitchyardConfig["limits"];
type CommonRequest = ChatRequest | CompletionRequest;

type ContentPart = { type: "text"; text: string } | { type: "refusal"; refusal: string } | { type: "image_url" | "input_audio" | "file" };

/** Message content as text: text and refusal parts joined; images, audio and files refused by name. */
function flatten(content: string | readonly ContentPart[] | null | undefined, param: string): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content
    .map((p, j) => {
      if (p.type === "text" && "text" in p) return p.text;
      if (p.type === "refusal" && "refusal" in p) return p.refusal;
      throw invalidRequest(`Content parts of type '${p.type}' are not supported by this server (text-only models).`, {
        param: `${param}[${j}]`,
        code: "unsupported_parameter",
      });
    })
    .join("");
}

export function toChatMessages(req: ChatRequest, limits: Limits): ChatMessage[] {
  if (req.messages.length > limits.maxMessages) {
    throw invalidRequest(`Too many messages: ${req.messages.length} > ${limits.maxMessages}.`, { param: "messages", code: "too_many_messages" });
  }
  return req.messages.map((m, i): ChatMessage => {
    const param = `messages[${i}].content`;
    switch (m.role) {
      case "assistant":
        if (m.audio != null) unsupported(`messages[${i}].audio`, "Audio replies");
        if (m.function_call != null) unsupported(`messages[${i}].function_call`, "The deprecated function_call (use tool_calls)");
        m.tool_calls?.forEach((call, j) => checkArguments(call.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`));
        return {
          role: "assistant",
          // A refusal the assistant gave earlier is what it said.
          content: flatten(m.content, param) || (m.refusal ?? ""),
          ...(m.name ? { name: m.name } : {}),
          ...(m.tool_calls?.length ? { toolCalls: m.tool_calls } : {}),
        };
      case "tool":
        return { role: "tool", content: flatten(m.content, param), toolCallId: m.tool_call_id, ...(m.name ? { name: m.name } : {}) };
      default:
        return { role: m.role, content: flatten(m.content, param), ...(m.name ? { name: m.name } : {}) };
    }
  });
}

/** Arguments the template renders as a call: JSON text (empty = no arguments). */
function checkArguments(args: string, param: string): void {
  if (args.trim() === "") return;
  try {
    JSON.parse(args);
  } catch {
    throw invalidRequest("Tool call arguments must be a JSON string.", { param });
  }
}

function unsupported(param: string, what: string): never {
  throw invalidRequest(`${what} is not supported by this server.`, { param, code: "unsupported_parameter" });
}

/**
 * Below this a temperature is greedy in all but name. llama.cpp samples in
 * float32: 1e-41 becomes a denormal whose reciprocal overflows, and a grammar
 * sampler then aborts the shard process (found by the fuzz test). So tiny
 * temperatures are treated as 0, which is also what they mean.
 */
const GREEDY_BELOW = 1e-6;

function effectiveTemperature(t: number): number {
  return t < GREEDY_BELOW ? 0 : t;
}

/** Checks shared by chat and completions; returns the sampling params. */
function commonParams(req: CommonRequest, maxTokens: number | null | undefined, defaultMaxTokens: number, limits: Limits): SamplingParams {
  if ((req.n ?? 1) > limits.maxN) {
    throw invalidRequest(`n is too large: ${req.n}. This server allows at most ${limits.maxN} choices per request.`, { param: "n", code: "n_exceeded" });
  }
  if (req.logit_bias && Object.keys(req.logit_bias).length > 0) unsupported("logit_bias", "logit_bias");
  if (req.stream_options && !req.stream) throw invalidRequest("stream_options is only allowed when stream is true.", { param: "stream_options" });
  const stop = req.stop == null ? [] : typeof req.stop === "string" ? [req.stop] : req.stop;
  if (stop.length > limits.maxStop) throw invalidRequest(`At most ${limits.maxStop} stop sequences are allowed.`, { param: "stop", code: "too_many_stop" });
  if (stop.some((s) => s.length === 0)) throw invalidRequest("Stop sequences must not be empty.", { param: "stop" });
  const max = maxTokens ?? defaultMaxTokens;
  if (max > limits.maxTokensCap) {
    throw invalidRequest(`max_tokens is too large: ${max}. This server allows at most ${limits.maxTokensCap}.`, { param: "max_tokens", code: "max_tokens_exceeded" });
  }
  return {
    maxTokens: max,
    temperature: effectiveTemperature(req.temperature ?? 1),
    topP: req.top_p ?? 1,
    topK: req.top_k ?? 0,
    stop,
    ...(req.seed == null ? {} : { seed: req.seed }),
    presencePenalty: req.presence_penalty ?? 0,
    frequencyPenalty: req.frequency_penalty ?? 0,
  };
}

/** Chat fields of OpenAI's spec that cannot change a local model's output: accepted, then reported. */
const IGNORED_CHAT_PARAMS = [
  "metadata",
  "store",
  "service_tier",
  "safety_identifier",
  "prompt_cache_key",
  "prompt_cache_retention",
  "prompt_cache_options",
  "prediction",
  "verbosity",
  "reasoning_effort",
  "moderation",
] as const;

/**
 * The ignored fields a chat request set (for `x-switchyard-ignored-params`).
 *
 * @example
 * ```ts
 * ignoredChatParams({ ...req, prompt_cache_key: "k", store: false }); // ["store", "prompt_cache_key"]
 * ```
 */
export function ignoredChatParams(req: ChatRequest): string[] {
  return IGNORED_CHAT_PARAMS.filter((name) => req[name] != null);
}

/** Chat sampling params; tools are read by {@link toolsRequestOf} (tool-params.ts). */
export function chatParams(req: ChatRequest, limits: Limits): SamplingParams {
  if (req.audio != null) unsupported("audio", "Audio output");
  if (req.modalities?.includes("audio")) unsupported("modalities", "Audio output");
  if (req.web_search_options != null) unsupported("web_search_options", "Web search");
  if (req.functions !== undefined) unsupported("functions", "The deprecated functions (use tools)");
  if (req.function_call !== undefined) unsupported("function_call", "The deprecated function_call (use tool_choice)");
  if (req.top_logprobs != null && !req.logprobs) {
    throw invalidRequest("top_logprobs requires logprobs to be true.", { param: "top_logprobs" });
  }
  const params = commonParams(req, req.max_completion_tokens ?? req.max_tokens, limits.defaultMaxTokens, limits);
  const grammar = grammarOf(req.response_format);
  if (grammar && req.logprobs) {
    throw invalidRequest("logprobs cannot be combined with response_format json_object/json_schema.", { param: "logprobs" });
  }
  return {
    ...params,
    ...(grammar ? { grammar } : {}),
    ...(req.logprobs ? { logprobs: req.top_logprobs ?? 0 } : {}),
  };
}

export function completionParams(req: CompletionRequest, limits: Limits): SamplingParams {
  if (req.max_tokens === 0 && !req.echo) throw invalidRequest("max_tokens must be at least 1 (0 only with echo).", { param: "max_tokens" });
  if (req.suffix) unsupported("suffix", "suffix");
  if ((req.best_of ?? 1) > 1) unsupported("best_of", "best_of > 1");
  // OpenAI's legacy completions default to 16 tokens.
  const params = commonParams(req, req.max_tokens, 16, limits);
  // `logprobs: 0` still asks for the chosen tokens' log probabilities.
  return req.logprobs == null ? params : { ...params, logprobs: req.logprobs, ...(req.echo ? { echo: true } : {}) };
}

/** The one prompt of a completions request: text, or token ids (`number[]` or `[number[]]`). */
export function completionInput(req: CompletionRequest): GenerationInput & { kind: "completion" } {
  const prompt = req.prompt;
  if (typeof prompt === "string") return { kind: "completion", prompt };
  if (typeof prompt[0] === "number") return { kind: "completion", prompt: "", tokens: prompt as number[] };
  if (prompt.length > 1) unsupported("prompt", "More than one prompt per request");
  const first = prompt[0]!;
  return typeof first === "string" ? { kind: "completion", prompt: first } : { kind: "completion", prompt: "", tokens: first };
}

function grammarOf(format: ChatRequest["response_format"]): OutputGrammar | undefined {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json_object" };
  if (!format.json_schema.schema) {
    throw invalidRequest("response_format.json_schema.schema is required.", { param: "response_format.json_schema.schema" });
  }
  return { type: "json_schema", name: format.json_schema.name, schema: acceptedSchema(format.json_schema.schema, "response_format.json_schema.schema") };
}
