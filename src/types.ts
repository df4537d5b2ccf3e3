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
}

/** What a backend is asked to do: chat (templated) or raw completion. */
export type GenerationInput =
  | { kind: "chat"; messages: ChatMessage[] }
  | { kind: "completion"; prompt: string };

export interface GenerationRequest {
  /** Gateway request id, for logs and tracing. */
  requestId: string;
  /** Resolved model name (not the alias the client used). */
  model: string;
  input: GenerationInput;
  params: SamplingParams;
  /** Session key for slot affinity (`user` or `x-session-id`). */
  sessionKey?: string;
  /** W3C traceparent to continue the trace inside the shard. */
  traceparent?: string;
}

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
}

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  timings: GenerationTimings;
  /** Which shard produced it (`model#index` or a remote name). */
  shard: string;
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
  tenant: string;
  /** Key id (never the key), for logs and rate limits. */
  keyId: string;
  /** `undefined` = every model. */
  allowedModels?: string[];
}
