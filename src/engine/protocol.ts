/**
 * The typed IPC protocol between the gateway and a shard process.
 * Messages travel over Node's `fork` channel as JSON.
 */
import type { GeneratedChunk, GeneratedToolCall, GenerationInput, SamplingParams, FinishReason, PromptTokenLogprob, TokenLogprob, TokenUsage } from "../types.js";

/** How a shard process loads its model. Sent once, as the first message. */
export interface ShardSpec {
  /** `model#index`, used in logs and the `x-switchyard-shard` header. */
  shardId: string;
  model: string;
  modelPath: string;
  /** Tokens of context per slot (sequence). */
  contextSize: number;
  slots: number;
  threads: number;
  /** `"auto"`, `"max"` or a layer count. */
  gpuLayers: "auto" | "max" | number;
  /** llama.cpp backend: `"auto"` falls back to CPU when no GPU works. */
  gpu: "auto" | "cuda" | "vulkan" | "metal" | false;
  /** Chat wrapper: `"auto"` = from the GGUF's template, general wrapper when it has none. */
  chatWrapper: "auto" | "general" | "chatml" | "llama2";
  batchSize?: number;
  /**
   * LoRA adapters applied to every sequence of this shard, with their scales. node-llama-cpp
   * binds adapters to a context, so a shard serves exactly one adapter set (the base model
   * when absent or empty); an alias with adapters gets shards of its own.
   */
  adapters?: AdapterSpec[];
}

/** One LoRA adapter GGUF and the scale it is applied with (llama.cpp multiplies by `alpha / rank` too). */
export interface AdapterSpec {
  name: string;
  path: string;
  scale: number;
}

export interface ShardInfo {
  contextSize: number;
  trainContextSize: number;
  slots: number;
  gpu: string | false;
  chatWrapper: string;
  embeddingLength: number;
  modelBytes: number;
}

/**
 * KV cache cells (tokens) of a shard: `used` = cells held by the sequences generating now (a finished
 * conversation's retained prefix is not counted: it is reusable, not pressure, as vLLM's
 * `kv_cache_usage_perc` leaves cached free blocks out); `total` = slots × tokens of context per slot.
 */
export interface KvCells {
  used: number;
  total: number;
}

export interface WireGenerateRequest {
  input: GenerationInput;
  params: SamplingParams;
  requestId: string;
  traceparent?: string;
}

export type ParentMessage =
  | { type: "init"; spec: ShardSpec }
  | { type: "generate"; id: number; slot: number; request: WireGenerateRequest }
  | { type: "abort"; id: number }
  | { type: "embed"; id: number; input: string[] }
  /** Counts the prompt tokens; with `ids`, answers them too (a completion prompt's tokens; BOS first when `ids` is "special" and the model adds one). */
  | { type: "tokenize"; id: number; input: GenerationInput; ids?: "text" | "special" }
  /** The text of a token-id prompt (special tokens as no text), for the PII guardrails to scan. */
  | { type: "detokenize"; id: number; tokens: number[] }
  /** Heartbeat: the shard answers `pong` with the same `seq` from its event loop. */
  | { type: "ping"; seq: number }
  | { type: "shutdown" };

export interface WireDone {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  cachedPromptTokens: number;
  ttftMs: number;
  decodeMs: number;
  /** Calls the model made (`finishReason` stays stop/length). */
  toolCalls?: GeneratedToolCall[];
  /** Per-token log probabilities of `text`, when the request asked for them. */
  logprobs?: TokenLogprob[];
  /** The prompt's tokens scored (`echo` with `logprobs`). */
  promptLogprobs?: PromptTokenLogprob[];
  /** The `stop` string that ended the generation, when one did. */
  stopSequence?: string;
}

/** Error codes a shard reports; `client` ones are the caller's fault and never count against the shard. */
export interface WireError {
  message: string;
  code: "context_length_exceeded" | "invalid_grammar" | "invalid_request" | "engine_error" | "aborted";
  /** The request field at fault, for client errors (e.g. `tools[0].function.parameters`). */
  param?: string;
}

export type ChildMessage =
  | { type: "ready"; info: ShardInfo }
  | { type: "fatal"; message: string }
  | ({ type: "chunk"; id: number } & GeneratedChunk)
  | { type: "done"; id: number; result: WireDone }
  | { type: "embedded"; id: number; vectors: number[][]; tokens: number }
  | { type: "tokenized"; id: number; tokens: number; ids?: number[] }
  | { type: "detokenized"; id: number; text: string }
  /** Heartbeat answer; carries the KV cache occupancy at that moment. */
  | { type: "pong"; seq: number; kv: KvCells }
  | { type: "error"; id: number; error: WireError };
