/**
 * Types shared inside the response cache and with its callers.
 */
import type { Citation, FinishReason, GeneratedChunk, TokenUsage } from "../types.js";

/**
 * One stored answer. `chunks` is kept next to `text` so a streamed hit replays
 * the same token-sized SSE chunks a live generation would have sent, while a
 * non-streamed hit answers with `text`. Treat it as read-only: the in-process
 * store hands the same object to every reader.
 */
export interface CachedResponse {
  chunks: GeneratedChunk[];
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  citations?: Citation[];
  /** Epoch milliseconds when the generation finished; used for `Cache-Control: max-age`. */
  createdAt: number;
}

export interface CacheStoreStats {
  entries: number;
  /** Estimated bytes held (see `responseSize`). */
  bytes: number;
  maxBytes: number;
  /** Entries dropped to make room (not TTL expiries, not explicit deletes). */
  evictions: number;
}

/** `bypass`: the cache was not consulted (disabled, non-deterministic request, `no-cache`/`no-store`). */
export type CacheLookupResult = "hit" | "miss" | "bypass";

/**
 * How a response was served, as `x-switchyard-cache` says: the exact cache's result, or
 * `semantic` when the exact cache missed and the semantic cache answered with a paraphrase's stored answer.
 */
export type CacheServed = CacheLookupResult | "semantic";

/**
 * What a request allows the cache to do, from `Cache-Control` and the
 * request's determinism (see `cacheDirective` / `cacheDirectiveFor`).
 */
export interface CacheDirective {
  /** May the answer come from the cache (or from an identical in-flight generation)? */
  lookup: boolean;
  /** May a fresh answer be stored? */
  store: boolean;
  /** `Cache-Control: max-age`: a stored answer older than this is treated as a miss. */
  maxAgeMs?: number;
}

/** The part of a generation's result the cache keeps; the router's `GenerationResult` satisfies it. */
export interface GeneratedResponse {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  citations?: Citation[];
}

/** What a {@link CrossReplicaFlight} gave: this replica's own generation, or the entry another replica stored. */
export type CrossReplicaOutcome<T> = { owner: true; value: T } | { owner: false; entry: CachedResponse };

/**
 * Single-flight across gateway replicas (e.g. a Redis lock): `work` runs on
 * one replica; the others receive the entry it stored. Implementations fall
 * back to running `work` themselves whenever coordination fails, so `run`
 * rejects only with `work`'s own error or an `AbortError` for `signal`.
 */
export interface CrossReplicaFlight {
  run<T>(key: string, signal: AbortSignal, work: () => Promise<T>): Promise<CrossReplicaOutcome<T>>;
}
