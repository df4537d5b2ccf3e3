/**
 * Semantic-cache entries in Redis, next to the exact cache (`cache:sem:*`,
 * same connection, prefix and outage policy), so every replica answers from
 * the same questions. Per scope (see `semanticScope`): a list of index items
 * — id, anchors, expiry and the unit vector as base64 float32 — searched by
 * brute force on the replica (a scope holds at most `maxEntriesPerScope`),
 * and a hash of the stored answers, read only on a hit.
 *
 * Outage policy: bypass. A lookup that fails is a miss and a store that fails
 * is skipped; the caller (the pipeline's semantic stage) does both.
 */
import { randomUUID } from "node:crypto";
import type { CachedResponse, SemanticEntry, SemanticMatch, SemanticStore } from "../cache/index.js";
import type { RedisConnection } from "./redis-connection.js";
import { SEMANTIC_ADD, runScript } from "./scripts.js";

export interface RedisSemanticStoreOptions {
  redis: RedisConnection;
  /** Most entries kept per scope; the oldest go first. Config `cache.semantic.maxEntriesPerScope`. */
  maxEntriesPerScope: number;
}

/** One index item as stored (the answer lives in the scope's hash under `id`). */
interface IndexItem {
  id: string;
  q: string;
  a: string[];
  x: number;
  v: string;
}

function encodeVector(v: readonly number[]): string {
  return Buffer.from(Float32Array.from(v).buffer).toString("base64");
}

function decodeVector(s: string): Float32Array {
  const bytes = Buffer.from(s, "base64");
  return new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
}

function sameAnchors(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * @example
 * ```ts
 * const store = new RedisSemanticStore({ redis, maxEntriesPerScope: config.cache.semantic.maxEntriesPerScope });
 * const cache = new SemanticCache({ embedder, store, threshold: 0.8, ttlMs: 600_000 });
 * ```
 */
export class RedisSemanticStore implements SemanticStore {
  private readonly redis: RedisConnection;
  private readonly maxEntries: number;
  private added = 0;
  private readonly scopes = new Set<string>();

  constructor({ redis, maxEntriesPerScope }: RedisSemanticStoreOptions) {
    this.redis = redis;
    this.maxEntries = maxEntriesPerScope;
  }

  async nearest(scope: string, vector: number[], anchors: readonly string[], minSimilarity: number): Promise<SemanticMatch | undefined> {
    const items = await this.redis.call("cache", (c) => c.lrange(this.indexKey(scope), 0, -1));
    const now = Date.now();
    let best: { item: IndexItem; vector: Float32Array; similarity: number } | undefined;
    for (const raw of items) {
      const item = JSON.parse(raw) as IndexItem;
      if (item.x <= now || !sameAnchors(item.a, anchors)) continue;
      const v = decodeVector(item.v);
      if (v.length !== vector.length) continue;
      let similarity = 0;
      for (let i = 0; i < v.length; i++) similarity += v[i]! * vector[i]!;
      if (similarity >= minSimilarity && (!best || similarity > best.similarity)) best = { item, vector: v, similarity };
    }
    if (!best) return undefined;
    const { item } = best;
    const answer = await this.redis.call("cache", (c) => c.hget(this.answersKey(scope), item.id));
    // Trimmed or expired in between, or a foreign value: a miss, never a malformed answer.
    if (answer === null) return undefined;
    const response = JSON.parse(answer) as CachedResponse;
    if (typeof response?.text !== "string" || !Array.isArray(response.chunks)) return undefined;
    const entry: SemanticEntry = { question: item.q, vector: Array.from(best.vector), anchors: item.a, response, expiresAt: item.x };
    return { entry, similarity: best.similarity };
  }

  async add(scope: string, entry: SemanticEntry): Promise<void> {
    const ttlMs = Math.max(1, entry.expiresAt - Date.now());
    const id = randomUUID();
    const item: IndexItem = { id, q: entry.question, a: entry.anchors, x: entry.expiresAt, v: encodeVector(entry.vector) };
    const { chunks, text, finishReason, usage, citations, createdAt } = entry.response;
    const answer = JSON.stringify({ chunks: chunks.map((ch) => ({ text: ch.text, tokens: ch.tokens })), text, finishReason, usage, ...(citations ? { citations } : {}), createdAt });
    await this.redis.call("cache", (c) =>
      runScript(c, SEMANTIC_ADD, [this.indexKey(scope), this.answersKey(scope)], [JSON.stringify(item), id, answer, this.maxEntries, ttlMs]),
    );
    this.added++;
    this.scopes.add(scope);
  }

  /** What this replica added (scopes and entries), not what Redis holds: a scrape never waits on Redis. */
  stats(): { scopes: number; entries: number } {
    return { scopes: this.scopes.size, entries: this.added };
  }

  private indexKey(scope: string): string {
    return this.redis.key("cache", "sem", scope, "index");
  }

  private answersKey(scope: string): string {
    return this.redis.key("cache", "sem", scope, "answers");
  }
}
