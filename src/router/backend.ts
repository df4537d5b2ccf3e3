/**
 * The uniform backend interface: a local shard process or a remote
 * OpenAI-compatible upstream look the same to the router.
 */
import type { EventRelay } from "lifecycle-utils";
import type { GenerationInput, GenerationOptions, SamplingParams } from "../types.js";
import type { KvCells, WireDone, WireError } from "../engine/protocol.js";

/**
 * Why a backend failed a call. The engine's wire codes (a local shard's
 * `EngineError`, carried over IPC) plus what the router itself sees:
 * `crashed` (the process died or the upstream connection broke mid-call),
 * `load_failed`, `not_ready`, `timeout` (no answer within the call's deadline).
 * `src/router/backend-errors.ts` maps them to HTTP.
 */
export type BackendErrorCode = WireError["code"] | "crashed" | "load_failed" | "not_ready" | "timeout";

/**
 * The router's "a backend failed" error: both {@link LocalBackend} (from its
 * shard process) and {@link RemoteBackend} (from the upstream's answer) throw it.
 *
 * @example
 * ```ts
 * throw new BackendError("invalid_request", "upstream answered 400: unknown model", "model");
 * ```
 */
export class BackendError extends Error {
  constructor(
    readonly code: BackendErrorCode,
    message: string,
    /** The request field at fault, for client errors. */
    readonly param?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "BackendError";
  }
}

/** `unhealthy`: running but not answering its heartbeat; out of rotation until it recovers or is restarted. */
export type BackendState = "starting" | "ready" | "unhealthy" | "restarting" | "failed" | "stopped";

export interface BackendGenerateOptions extends GenerationOptions {
  requestId: string;
  /**
   * False when the client takes the answer whole: a remote upstream is then
   * asked for `stream: false` (one chunk with the whole text, at the end).
   * Local shards ignore it. Default true.
   */
  stream?: boolean;
  traceparent?: string;
}

export interface Backend {
  /** `model#index` for local shards, `model@host` for remote ones. */
  readonly id: string;
  readonly kind: "local" | "remote";
  /** A remote backend's base URL (`http://10.0.0.7:8080/v1`): the key of its breaker state shared across replicas. */
  readonly upstream?: string;
  /** Concurrent generations it accepts (slots). */
  readonly capacity: number;
  readonly state: BackendState;
  /** Times the backend was restarted after a crash. */
  readonly restarts: number;
  /** Why the backend is `failed`, when it is. */
  readonly lastError: string | undefined;
  /** Tokens of context per slot, once known. */
  readonly contextSize: number | undefined;
  /** KV cache occupancy, for backends that can tell (a local shard, from its heartbeat); absent or undefined otherwise. */
  readonly kvCells?: KvCells | undefined;
  /** Starts the backend; resolves when ready, rejects when it cannot load. */
  start(): Promise<void>;
  /** Generates on one slot (0 ≤ slot < capacity); the router guarantees the slot is free. */
  generate(slot: number, input: GenerationInput, params: SamplingParams, opts: BackendGenerateOptions): Promise<WireDone>;
  embed(texts: string[], signal?: AbortSignal): Promise<{ vectors: number[][]; tokens: number }>;
  /** Prompt tokens of an input after templating, when the backend can tell without a slot. */
  countTokens?(input: GenerationInput, signal?: AbortSignal): Promise<number>;
  /** A text's token ids as a completion prompt has them (`special`: BOS first when the model adds one): a local shard's tokenizer, or a remote's `/tokenize`. */
  tokenize?(prompt: string, special: boolean, signal?: AbortSignal): Promise<number[]>;
  /** The text of token ids (special tokens give none): a local shard's tokenizer. */
  detokenize?(tokens: number[], signal?: AbortSignal): Promise<string>;
  /**
   * Resolves once the backend confirms nothing runs on `slot` any more (after an abort the work may outlive the
   * caller's answer). The router hands the slot out again only then. Absent: free as soon as `generate` settles.
   */
  whenSlotFree?(slot: number): Promise<void>;
  /** Fires on every state change: `backend.onStateChange.createListener(fn)` returns a handle to dispose. */
  readonly onStateChange: EventRelay<BackendState>;
  /** Stops the backend and frees its resources. */
  dispose(): Promise<void>;
}
