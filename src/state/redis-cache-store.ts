/**
 * The response cache in Redis, shared by every replica: the same
 * {@link CacheStore} contract as the in-process LRU, bounded by bytes (one
 * budget for all replicas, oldest entries evicted first) and by TTL.
 *
 * Outage policy: bypass. A read that fails or misses its deadline is a miss,
 * a write that fails is skipped; the response cache counts both as errors
 * and the request is generated as if the cache were empty.
 */
import { responseSize, type CachedResponse, type CacheStore, type CacheStoreStats } from "../cache/index.js";
import type { RedisConnection } from "./redis-connection.js";
import { BOUNDED_DELETE, BOUNDED_SET, runScript } from "./scripts.js";

export interface RedisCacheStoreOptions {
  redis: RedisConnection;
  /** Budget of all entries in Redis, in {@link responseSize} bytes. */
  maxBytes: number;
  /** Entries expire this long after they were stored. */
  ttlMs: number;
  /** Largest single entry; defaults to `maxBytes`. */
  maxEntryBytes?: number;
}

/**
 * @example
 * ```ts
 * const store = new RedisCacheStore({ redis, maxBytes: config.cache.maxBytes, ttlMs: config.cache.ttlMs });
 * const cache = new ResponseCache({ store });
 * ```
 */
export class RedisCacheStore implements CacheStore {
  private readonly redis: RedisConnection;
  private readonly maxBytes: number;
  private readonly maxEntryBytes: number;
  private readonly ttlMs: number;
  private last: CacheStoreStats;
  private refreshing = false;

  constructor({ redis, maxBytes, ttlMs, maxEntryBytes = maxBytes }: RedisCacheStoreOptions) {
    this.redis = redis;
    this.maxBytes = maxBytes;
    this.ttlMs = ttlMs;
    this.maxEntryBytes = Math.min(maxEntryBytes, maxBytes);
    this.last = { entries: 0, bytes: 0, maxBytes, evictions: 0 };
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    const raw = await this.redis.call("cache", (c) => c.get(this.entryKey(key)));
    if (raw === null) return undefined;
    const value = JSON.parse(raw) as CachedResponse;
    // A foreign or truncated value is a miss, never a malformed answer.
    if (typeof value?.text !== "string" || !Array.isArray(value.chunks) || typeof value.createdAt !== "number") return undefined;
    return value;
  }

  async set(key: string, value: CachedResponse): Promise<void> {
    const size = responseSize(value);
    if (size > this.maxEntryBytes) return;
    const { chunks, text, finishReason, usage, citations, createdAt } = value;
    const json = JSON.stringify({ chunks: chunks.map((ch) => ({ text: ch.text, tokens: ch.tokens })), text, finishReason, usage, ...(citations ? { citations } : {}), createdAt });
    await this.redis.call("cache", (c) =>
      runScript(c, BOUNDED_SET, [this.entryKey(key), ...this.bookKeys()], [json, size, this.ttlMs, this.maxBytes, 0]),
    );
  }

  async delete(key: string): Promise<void> {
    const [index, sizes, bytes] = this.bookKeys();
    await this.redis.call("cache", (c) => runScript(c, BOUNDED_DELETE, [this.entryKey(key), index, sizes, bytes], []));
  }

  /**
   * The last numbers read from Redis (refreshed in the background on each
   * call, so a scrape never waits on Redis). `entries` counts entries not yet
   * forgotten by the byte accounting, which drops TTL-expired ones lazily.
   */
  stats(): CacheStoreStats {
    if (!this.refreshing) {
      this.refreshing = true;
      void this.refresh().finally(() => (this.refreshing = false));
    }
    return { ...this.last };
  }

  /** Reads the shared numbers now. */
  async refresh(): Promise<CacheStoreStats> {
    const [index, , bytes, evictions] = this.bookKeys();
    try {
      const [entries, held, evicted] = await this.redis.call("cache", (c) =>
        Promise.all([c.zcount(index, Date.now() - this.ttlMs, "+inf"), c.get(bytes), c.get(evictions)]),
      );
      this.last = { entries, bytes: Number(held ?? 0), maxBytes: this.maxBytes, evictions: Number(evicted ?? 0) };
    } catch {
      // Keep the last known numbers.
    }
    return { ...this.last };
  }

  private entryKey(key: string): string {
    return this.redis.key("cache", "e", key);
  }

  /** Index zset, sizes hash, bytes counter, evictions counter. */
  private bookKeys(): [string, string, string, string] {
    return [this.redis.key("cache", "index"), this.redis.key("cache", "sizes"), this.redis.key("cache", "bytes"), this.redis.key("cache", "evictions")];
  }
}
