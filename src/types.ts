/**
 * Types that cross folders: the request the router hands to a backend, the
 * chunks a backend streams back, the final result, and the retrieval passage.
 * Everything else stays private to its folder.
 */

/** One chat message after validation. `content` is flattened to text. */
export interface ChatMessage {
  role: "system" | "developer" | "user" | "assistant" | "tool";
  content: string;
  name?: string;
  /** Assistant tool calls (OpenAI shape), kept for templating. */
  toolCalls?: ToolCall[];
  /** For `role: tool`: which call this answers. */
  toolCallId?: string;
}

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A function the model may call (OpenAI `tools[i].function`), parameters already checked and normalized. */
export interface ToolDefinition {
  name: string;
  description?: string;
  /** A JSON schema of type object that node-llama-cpp's grammar can express. */
  parameters: Record<string, unknown>;
}

/**
 * Tools offered to the model on a chat request. `tool_choice: "none"` never
 * reaches the engine (the request is plain chat).
 * - `auto`: the chat template documents the tools; the model decides.
 * - `required` / `{ name }`: a grammar forces one call (or several, with `parallel`).
 */
export interface ToolsRequest {
  tools: ToolDefinition[];
  choice: "auto" | "required" | { name: string };
  /** Several calls in one answer (`parallel_tool_calls`, default true). */
  parallel: boolean;
}

/** A tool call the model made; the server gives it its `call_…` id. */
export interface GeneratedToolCall {
  name: string;
  /** The arguments as JSON text, exactly as generated. */
  arguments: string;
}

/** A piece of one tool call while streaming: the first piece of a call names it, later ones extend its arguments. */
export interface ToolCallFragment {
  /** Position of the call in the answer (0-based). */
  index: number;
  name?: string;
  arguments: string;
}

/** One alternative at a token position. `logprob` is the natural log of its probability. */
export interface TokenAlternative {
  token: string;
  logprob: number;
  /** UTF-8 bytes of `token`. */
  bytes: number[];
}

/** One generated token with its log probability and the most likely alternatives at its position. */
export interface TokenLogprob extends TokenAlternative {
  /** Character offset of the token's text in the answer. */
  offset: number;
  /** Most likely tokens at this position, most likely first (as many as asked for). */
  top: TokenAlternative[];
}

/**
 * One prompt token echoed back with its log probability given the tokens before it (legacy completions
 * `echo` + `logprobs`). The first token has none (`null`, nothing predicts it; with a BOS token that is
 * the BOS, whose text is empty), so every text token of a prompt that starts with BOS is scored.
 */
export interface PromptTokenLogprob extends Omit<TokenLogprob, "logprob"> {
  logprob: number | null;
}

/** Constrains output to JSON (any object) or to a JSON schema. */
export type OutputGrammar =
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema: Record<string, unknown> };

/** Sampling settings, already defaulted and range-checked by the server. */
export interface SamplingParams {
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  /** Up to four stop strings; the matched string is not returned. */
  stop: string[];
  seed?: number;
  presencePenalty: number;
  frequencyPenalty: number;
  grammar?: OutputGrammar;
  /** Report log probabilities with this many alternatives per token (0-20); absent = no logprobs. */
  logprobs?: number;
  /**
   * Completions only, with `logprobs`: also score the prompt (each prompt token's log probability given the
   * ones before it, as evaluated: BOS included when the model adds one). `maxTokens` may then be 0.
   */
  echo?: boolean;
}

/** What a backend is asked to do: chat (templated) or raw completion. */
export type GenerationInput =
  | { kind: "chat"; messages: ChatMessage[]; tools?: ToolsRequest }
  | {
      kind: "completion";
      prompt: string;
      /** Token ids of the prompt (OpenAI's `prompt: number[]`), evaluated as given (no BOS added); `prompt` is then "". */
      tokens?: number[];
    };

export type FinishReason = "stop" | "length";

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** Timings a backend reports for one generation, in milliseconds. */
export interface GenerationTimings {
  /** Time in the gateway queue before a slot was granted. */
  queueMs: number;
  /** From slot grant to the first token. */
  ttftMs: number;
  /** From first token to the last. */
  decodeMs: number;
  /** Prompt tokens served from the slot's KV cache (prefix reuse). */
  cachedPromptTokens: number;
}

/** One streamed piece of output: text (possibly empty while a UTF-8 char completes) and its token count. */
export interface GeneratedChunk {
  text: string;
  tokens: number;
  /** Log probabilities of the tokens whose text this chunk carries (when asked for). */
  logprobs?: TokenLogprob[];
  /** Tool-call pieces generated in this chunk. */
  toolCalls?: ToolCallFragment[];
  /**
   * The prompt's scored tokens (`echo` with `logprobs`), in a chunk of their own before any generated text
   * (its `text` is "" and `tokens` 0), so a streamed echo can send the prompt first; the result carries them too.
   */
  promptLogprobs?: PromptTokenLogprob[];
}

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  timings: GenerationTimings;
  /** Which shard produced it (`model#index` or a remote name). */
  shard: string;
  /** Tool calls the model made; `finishReason` stays `stop`/`length` (the server reports `tool_calls`). */
  toolCalls?: GeneratedToolCall[];
  /** Per-token log probabilities of `text`, when asked for. */
  logprobs?: TokenLogprob[];
  /** The prompt's tokens with their log probabilities (`echo` with `logprobs`); offsets are into the prompt text. */
  promptLogprobs?: PromptTokenLogprob[];
  /** The `stop` string that ended the generation (not part of `text`), when one did and the backend says which. */
  stopSequence?: string;
  /** Where the output breaks the request's JSON schemas (checked by the gateway after generation; absent when it matches). */
  schemaViolations?: SchemaViolation[];
}

/** One way a structured output breaks its schema (what the grammar could not carry). */
export interface SchemaViolation {
  /** What was validated: `response_format` (also `text.format` and Messages' `output_format`), or `tool_calls[i].arguments`. */
  target: string;
  /** JSON pointer into the output ("" for the whole value). */
  path: string;
  /** The schema keyword that failed (`maximum`, `pattern`, `multipleOf`, …; `json` when the output is not JSON, e.g. cut off by max_tokens). */
  keyword: string;
  message: string;
}

/** Callbacks and cancellation for one generation. */
export interface GenerationOptions {
  signal?: AbortSignal;
  onChunk?: (chunk: GeneratedChunk) => void;
}

/** A passage returned by retrieval. */
export interface RetrievedPassage {
  /** 1-based number used in the prompt and in `citations[].index`. */
  index: number;
  documentId: string;
  chunkId: string;
  title: string;
  source: string;
  text: string;
  score: number;
  metadata: Record<string, unknown>;
}

/** OpenAI `citations[]` entry on grounded answers. */
export interface Citation {
  index: number;
  document_id: string;
  title: string;
  source: string;
  score: number;
}

/** The identity a request runs as; `default` in open local mode. */
export interface Principal {
  /** Share weight of the key in the fair queue (default 1). */
  weight?: number;
  tenant: string;
  /** Key id (never the key), for logs and rate limits. */
  keyId: string;
  /** `undefined` = every model. */
  allowedModels?: string[];
  /** May read operator endpoints (`/v1/status`). True in open local mode. */
  admin: boolean;
}
