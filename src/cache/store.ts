/**
 * Where cached responses live. {@link CacheStore} is deliberately small and
 * async so a shared store (e.g. Redis) can serve several gateway replicas
 * later; {@link LruCacheStore} is the in-process default, bounded by bytes
 * and by TTL.
 */
import { LRUCache } from "lru-cache";
import type { CachedResponse, CacheStoreStats } from "./types.js";

/**
 * Storage for cached responses, keyed by `cacheKey(...)`.
 *
 * Implementations decide eviction and expiry; callers only rely on: `get`
 * never returns an expired entry, `set` may silently decline (too large),
 * and `stats` is cheap enough for a metrics scrape (a remote store may
 * return its last known numbers).
 */
export interface CacheStore {
  get(key: string): Promise<CachedResponse | undefined>;
  set(key: string, value: CachedResponse): Promise<void>;
  delete(key: string): Promise<void>;
  stats(): CacheStoreStats;
}

export interface LruCacheStoreOptions {
  /** Budget for all entries, in estimated bytes (see {@link responseSize}). */
  maxBytes: number;
  /** Entries expire this long after they were stored (reads do not extend it). */
  ttlMs: number;
  /** Largest single entry; defaults to `maxBytes`. Larger entries are not stored. */
  maxEntryBytes?: number;
  /** Monotonic milliseconds clock; injectable for tests. Defaults to `performance.now`. */
  now?: () => number;
}

/** Fixed cost per entry: the key (64 hex chars), the object shells, usage, createdAt, LRU bookkeeping. */
const ENTRY_OVERHEAD_BYTES = 256;
/** Per chunk: the object, its `tokens` number, the array slot. */
const CHUNK_OVERHEAD_BYTES = 48;

/**
 * Estimated memory of an entry. UTF-8 length stands in for V8's string size
 * (1 or 2 bytes per char) — close enough for a budget, and what a remote
 * store would hold. `text` and every chunk's text are both counted because
 * both are kept.
 *
 * @example
 * ```ts
 * responseSize(entry); // e.g. 256 + 2 * textBytes + 48 * chunks
 * ```
 */
export function responseSize(value: CachedResponse): number {
  let bytes = ENTRY_OVERHEAD_BYTES + Buffer.byteLength(value.text, "utf8");
  for (const chunk of value.chunks) bytes += CHUNK_OVERHEAD_BYTES + Buffer.byteLength(chunk.text, "utf8");
  if (value.citations) bytes += Buffer.byteLength(JSON.stringify(value.citations), "utf8");
  return bytes;
}

/**
 * In-process LRU store on `lru-cache`, bounded by estimated bytes and TTL.
 * Expiry is lazy (no timers): an expired entry is dropped when read, when it
 * reaches the LRU tail, or when {@link stats} purges before reporting.
 *
 * @example
 * ```ts
 * const store = new LruCacheStore({ maxBytes: config.cache.maxBytes, ttlMs: config.cache.ttlMs });
 * await store.set(key, response);
 * const again = await store.get(key);
 * ```
 */
export class LruCacheStore implements CacheStore {
  private readonly lru: LRUCache<string, CachedResponse>;
  private readonly maxBytes: number;
  private evictions = 0;

  constructor(options: LruCacheStoreOptions) {
    this.maxBytes = options.maxBytes;
    this.lru = new LRUCache<string, CachedResponse>({
      maxSize: options.maxBytes,
      maxEntrySize: options.maxEntryBytes ?? options.maxBytes,
      sizeCalculation: responseSize,
      ttl: options.ttlMs,
      ttlAutopurge: false,
      updateAgeOnGet: false,
      allowStale: false,
      dispose: (_value, _key, reason) => {
        // Only capacity pressure counts; expiries, overwrites and deletes are not evictions.
        if (reason === "evict") this.evictions++;
      },
      // An injected clock must be read on every check: lru-cache otherwise
      // caches "now" for `ttlResolution` ms of real time.
      ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
    });
  }

  get(key: string): Promise<CachedResponse | undefined> {
    return Promise.resolve(this.lru.get(key));
  }

  /** Stores a frozen copy, so neither the writer nor any reader can change what others replay. */
  set(key: string, value: CachedResponse): Promise<void> {
    this.lru.set(key, freezeCopy(value));
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.lru.delete(key);
    return Promise.resolve();
  }

  /** Purges expired entries first so the gauges report what is really held. */
  stats(): CacheStoreStats {
    this.lru.purgeStale();
    return { entries: this.lru.size, bytes: this.lru.calculatedSize, maxBytes: this.maxBytes, evictions: this.evictions };
  }
}

function freezeCopy(value: CachedResponse): CachedResponse {
  const copy: CachedResponse = {
    chunks: Object.freeze(value.chunks.map((c) => Object.freeze({ text: c.text, tokens: c.tokens }))) as CachedResponse["chunks"],
    text: value.text,
    finishReason: value.finishReason,
    usage: Object.freeze({ ...value.usage }),
    createdAt: value.createdAt,
  };
  if (value.citations) {
    copy.citations = Object.freeze(value.citations.map((c) => Object.freeze({ ...c }))) as NonNullable<CachedResponse["citations"]>;
  }
  return Object.freeze(copy);
}
