/**
 * The response cache as the server uses it: look up, or generate once for all
 * identical concurrent misses, store only complete successful answers, and
 * count what happened for metrics.
 */
import type { GeneratedChunk } from "../types.js";
import { AbortError, SingleFlight } from "./single-flight.js";
import type { CacheStore } from "./store.js";
import type { CachedResponse, CacheDirective, CacheLookupResult, CacheStoreStats, CrossReplicaFlight, GeneratedResponse } from "./types.js";

export interface ResponseCacheOptions {
  store: CacheStore;
  /** `false`: every request bypasses (no lookup, no store, no coalescing). */
  enabled?: boolean;
  /** Epoch milliseconds clock for `createdAt` and `max-age`; injectable for tests. */
  now?: () => number;
  /**
   * Coalesce identical misses across gateway replicas too (the Redis
   * implementation lives in `src/state`). Absent: only within this process.
   */
  crossReplica?: CrossReplicaFlight;
  /**
   * Observer seam (telemetry): called as each {@link ResponseCache.lookup}
   * starts; the function it returns (if any) is called with the result. Default: none.
   */
  onLookup?: () => ((result: CacheLookupResult) => void) | undefined;
}

/** Monotonic counters since start, for the metrics collector. */
export interface CacheCounters {
  hit: number;
  miss: number;
  bypass: number;
  /** Requests that joined an identical in-flight generation instead of starting one (here or on another replica). */
  coalesced: number;
  /** Answers written to the store. */
  stored: number;
  /** Store failures (get or set); the request carried on as a miss / unstored. */
  errors: number;
}

export interface GenerateOptions<R extends GeneratedResponse> {
  /** This caller's cancellation (client disconnect, its deadline). Aborting it never cancels other callers' shared generation. */
  signal?: AbortSignal;
  /**
   * Receives every chunk of the answer exactly once, whatever its source:
   * live while this caller's own generation runs, or replayed in one go for a
   * cache hit or a joined generation. Omit for non-streamed requests.
   */
  onChunk?: (chunk: GeneratedChunk) => void;
  /**
   * Runs the generation. Must send every chunk to `ctx.onChunk` (that is how
   * the chunk list for streamed replays is collected), honour `ctx.signal`,
   * and throw on failure, abort or timeout — a returned value is taken as a
   * complete answer.
   */
  generate: (ctx: { signal: AbortSignal; onChunk: (chunk: GeneratedChunk) => void }) => Promise<R>;
}

export interface CacheOutcome<R extends GeneratedResponse> {
  /** `hit`: from the store; `miss`: generated (possibly shared); `bypass`: generated, cache not consulted. */
  cache: CacheLookupResult;
  /** True when this caller joined another caller's in-flight generation. */
  shared: boolean;
  /** The answer; on a hit it is the stored entry (read-only). */
  response: CachedResponse;
  /** The generator's own result (timings, shard, ...); `undefined` on a hit or when another replica generated. Shared by joiners. */
  result?: R | undefined;
}

interface Generated<R> {
  response: CachedResponse;
  /** Absent when another replica generated the answer (only its stored entry is known). */
  result?: R | undefined;
}

const FINISH_REASONS: ReadonlySet<string> = new Set(["stop", "length"]);

/**
 * Exact response cache: a {@link CacheStore} plus single-flight coalescing.
 *
 * How the gateway uses it (`src/server/generation/cached-producer.ts`): the
 * lookup first, so the `x-switchyard-cache` header is known before a stream
 * starts; on a miss, `generate()` runs the producer once for every identical
 * concurrent caller (single-flight) and stores a complete answer.
 *
 * @example
 * ```ts
 * const cache = new ResponseCache<GenerationResult>({ store: new LruCacheStore({ maxBytes: 64 << 20, ttlMs: 600_000 }) });
 * const key = cacheKey({ tenant, endpoint: "chat", model, modelIdentity, input: messages, params, ragVersion });
 * const directive = cacheDirectiveFor(c.req.header("cache-control"), { temperature: params.temperature, seed: params.seed });
 * const found = await cache.lookup(key, directive);
 * if (found.value) return replay(found.value.chunks);  // "hit": the stored answer, chunk by chunk
 * const out = await cache.generate(key, directive, {
 *   signal,                                          // this caller's disconnect or deadline
 *   onChunk: (chunk) => sse.write(chunk),            // omit for a non-streamed answer
 *   generate: ({ signal, onChunk }) => produce(onChunk, signal),
 * });
 * // out.cache: "miss" | "bypass"; out.response: text, finishReason, usage, citations; out.shared: joined another caller
 * ```
 *
 * `getOrGenerate()` is both steps in one call, for callers that need no header before the answer.
 */
export class ResponseCache<R extends GeneratedResponse = GeneratedResponse> {
  readonly enabled: boolean;
  private readonly backing: CacheStore;
  private readonly now: () => number;
  private readonly onLookup: ResponseCacheOptions["onLookup"];
  private readonly flights = new SingleFlight<Generated<R>>();
  private readonly crossReplica: CrossReplicaFlight | undefined;
  private readonly count: CacheCounters = { hit: 0, miss: 0, bypass: 0, coalesced: 0, stored: 0, errors: 0 };

  constructor({ store, enabled = true, now = Date.now, crossReplica, onLookup }: ResponseCacheOptions) {
    this.backing = store;
    this.crossReplica = crossReplica;
    this.onLookup = onLookup;
    this.enabled = enabled;
    this.now = now;
  }

  /**
   * Looks the key up if the directive allows it (counted as one lookup).
   * An entry older than `directive.maxAgeMs` is a miss. A failing store is a
   * miss too: the cache must never fail a request it could have generated.
   */
  async lookup(key: string, directive: CacheDirective): Promise<{ result: CacheLookupResult; value?: CachedResponse }> {
    const observed = this.onLookup?.();
    const found = await this.find(key, directive);
    observed?.(found.result);
    return found;
  }

  private async find(key: string, directive: CacheDirective): Promise<{ result: CacheLookupResult; value?: CachedResponse }> {
    if (!this.enabled || !directive.lookup) {
      this.count.bypass++;
      return { result: "bypass" };
    }
    let value: CachedResponse | undefined;
    try {
      value = await this.backing.get(key);
    } catch {
      this.count.errors++;
    }
    if (value && (directive.maxAgeMs === undefined || this.now() - value.createdAt <= directive.maxAgeMs)) {
      this.count.hit++;
      return { result: "hit", value };
    }
    this.count.miss++;
    return { result: "miss" };
  }

  /**
   * Stores an answer if the directive, the switch and the answer allow it.
   * Refused: a finish reason other than `stop`/`length` (a partial or
   * aborted result that slipped through), or chunks that carry no text while
   * `text` has some (the generator did not forward its chunks, so a streamed
   * replay would be empty). An empty answer with no chunks is legitimate.
   * Resolves `true` when written; store failures reject.
   */
  async store(key: string, value: CachedResponse, directive: CacheDirective): Promise<boolean> {
    if (!this.enabled || !directive.store || !isComplete(value)) return false;
    await this.backing.set(key, value);
    this.count.stored++;
    return true;
  }

  /**
   * Generates without consulting the store (use after a {@link lookup} miss
   * or bypass). With `directive.lookup`, identical concurrent calls share one
   * generation; otherwise this caller gets its own. A complete answer is
   * stored before the shared run settles, so there is no moment when a new
   * identical request finds neither the flight nor the entry.
   *
   * Rejects with the generation's error (shared by all joiners), or with an
   * `AbortError` once this caller's own signal aborts.
   */
  async generate(key: string, directive: CacheDirective, options: GenerateOptions<R>): Promise<CacheOutcome<R>> {
    const { signal, onChunk } = options;
    const coalesce = this.enabled && directive.lookup;
    const cache: CacheLookupResult = coalesce ? "miss" : "bypass";
    const work = (workSignal: AbortSignal): Promise<Generated<R>> =>
      this.runGeneration(key, directive, options, workSignal);
    const crossReplica = this.crossReplica;
    const coalesced = crossReplica
      ? async (workSignal: AbortSignal): Promise<Generated<R> & { remote?: true }> => {
          const out = await crossReplica.run(key, workSignal, () => work(workSignal));
          return out.owner ? out.value : { response: out.entry, remote: true };
        }
      : work;

    if (!coalesce) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      let own: Generated<R>;
      try {
        own = await work(signal ?? new AbortController().signal);
      } catch (err) {
        // Same contract as the shared path: a caller that aborted sees an AbortError.
        if (signal?.aborted) throw new AbortError(signal.reason);
        throw err;
      }
      if (signal?.aborted) throw new AbortError(signal.reason);
      return { cache, shared: false, response: own.response, result: own.result };
    }

    const { value, shared } = await this.flights.run(key, signal, coalesced);
    // An answer generated on another replica reaches even this flight's starter as a replay.
    const remote = "remote" in value;
    if (shared || remote) {
      this.count.coalesced++;
      if (onChunk) replay(value.response, onChunk);
    }
    return { cache, shared: shared || remote, response: value.response, ...(value.result === undefined ? {} : { result: value.result }) };
  }

  /**
   * {@link lookup}, then replay on a hit or {@link generate} otherwise.
   * `onChunk` sees the whole answer in every case.
   */
  async getOrGenerate(key: string, directive: CacheDirective, options: GenerateOptions<R>): Promise<CacheOutcome<R>> {
    const found = await this.lookup(key, directive);
    if (found.value) {
      if (options.signal?.aborted) throw new AbortError(options.signal.reason);
      if (options.onChunk) replay(found.value, options.onChunk);
      return { cache: "hit", shared: false, response: found.value };
    }
    return this.generate(key, directive, options);
  }

  /** Lookups by result and other counters since start (a copy). */
  counters(): CacheCounters {
    return { ...this.count };
  }

  stats(): CacheStoreStats {
    return this.backing.stats();
  }

  /** One real generation: forwards chunks live to the caller that started it, collects them, stores on success. */
  private async runGeneration(
    key: string,
    directive: CacheDirective,
    options: GenerateOptions<R>,
    workSignal: AbortSignal,
  ): Promise<Generated<R>> {
    const { signal: callerSignal, onChunk: callerOnChunk } = options;
    const chunks: GeneratedChunk[] = [];
    let forward = callerOnChunk !== undefined;
    const onChunk = (chunk: GeneratedChunk): void => {
      chunks.push(chunk);
      // The starter may have left while joiners still wait: stop writing to it,
      // and never let its broken writer fail the shared generation.
      if (!forward || callerSignal?.aborted) return;
      try {
        callerOnChunk?.(chunk);
      } catch {
        forward = false;
      }
    };

    const result = await options.generate({ signal: workSignal, onChunk });
    const response: CachedResponse = {
      chunks,
      text: result.text,
      finishReason: result.finishReason,
      usage: result.usage,
      ...(result.citations ? { citations: result.citations } : {}),
      createdAt: this.now(),
    };
    // A generator that returns normally after its signal fired may hold a partial answer.
    if (!workSignal.aborted) {
      try {
        await this.store(key, response, directive);
      } catch {
        this.count.errors++;
      }
    }
    return { response, result };
  }
}

function isComplete(value: CachedResponse): boolean {
  if (!FINISH_REASONS.has(value.finishReason)) return false;
  if (!Array.isArray(value.chunks) || typeof value.text !== "string") return false;
  return value.text === "" || value.chunks.some((c) => c.text !== "");
}

function replay(response: CachedResponse, onChunk: (chunk: GeneratedChunk) => void): void {
  for (const chunk of response.chunks) onChunk(chunk);
}
