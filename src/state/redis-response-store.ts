/**
 * Stored Responses-API responses in Redis, so `GET /v1/responses/{id}` and
 * `previous_response_id` work whichever replica stored the response. Bounded
 * per tenant by count and bytes (oldest first), optionally by TTL; another
 * tenant's id is simply unknown (keys are tenant-scoped).
 *
 * Outage policy: local copy. Every put also lands in a bounded in-process
 * store; when Redis cannot answer, reads fall back to it, so a replica still
 * serves the responses it stored itself, and a put that fails is counted.
 */
import type { ResponseStore, StoredResponse } from "../server/responses/index.js";
import type { RedisConnection } from "./redis-connection.js";
import { BOUNDED_DELETE, BOUNDED_SET, runScript } from "./scripts.js";

export interface RedisResponseStoreOptions {
  redis: RedisConnection;
  /** The in-process store that backs reads during an outage (e.g. a small `MemoryResponseStore`). */
  local: ResponseStore;
  /** Responses kept per tenant; the oldest go first. Default 1000. */
  maxPerTenant?: number;
  /** Serialized bytes kept per tenant. Default 64 MiB. */
  maxBytesPerTenant?: number;
  /** Lifetime of a stored response in ms (0 = until evicted). Default 0. */
  ttlMs?: number;
}

/**
 * @example
 * ```ts
 * const store = new RedisResponseStore({ redis, local: new MemoryResponseStore({ maxPerTenant: 100 }) });
 * await store.put("acme", { response, input, conversation });
 * ```
 */
export class RedisResponseStore implements ResponseStore {
  private readonly redis: RedisConnection;
  private readonly local: ResponseStore;
  private readonly maxPerTenant: number;
  private readonly maxBytesPerTenant: number;
  private readonly ttlMs: number;

  constructor({ redis, local, maxPerTenant = 1000, maxBytesPerTenant = 64 * 1024 * 1024, ttlMs = 0 }: RedisResponseStoreOptions) {
    this.redis = redis;
    this.local = local;
    this.maxPerTenant = maxPerTenant;
    this.maxBytesPerTenant = maxBytesPerTenant;
    this.ttlMs = ttlMs;
  }

  async put(tenant: string, stored: StoredResponse): Promise<void> {
    await this.local.put(tenant, stored);
    const json = JSON.stringify(stored);
    try {
      await this.redis.call("responses", (c) =>
        runScript(c, BOUNDED_SET, this.keys(tenant, stored.response.id), [json, Buffer.byteLength(json), this.ttlMs, this.maxBytesPerTenant, this.maxPerTenant]),
      );
    } catch {
      this.redis.fellBack("responses");
    }
  }

  async get(tenant: string, id: string): Promise<StoredResponse | undefined> {
    let raw: string | null;
    try {
      raw = await this.redis.call("responses", (c) => c.get(this.keys(tenant, id)[0]));
    } catch {
      this.redis.fellBack("responses");
      return this.local.get(tenant, id);
    }
    return raw === null ? undefined : (JSON.parse(raw) as StoredResponse);
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    const existedHere = await this.local.delete(tenant, id);
    const [entry, index, sizes, bytes] = this.keys(tenant, id);
    try {
      return Number(await this.redis.call("responses", (c) => runScript(c, BOUNDED_DELETE, [entry, index, sizes, bytes], []))) > 0;
    } catch {
      this.redis.fellBack("responses");
      return existedHere;
    }
  }

  async dispose(): Promise<void> {
    await this.local.dispose();
  }

  /** Value, index, sizes, bytes, evictions — all under the tenant. */
  private keys(tenant: string, id: string): [string, string, string, string, string] {
    const k = (...parts: string[]) => this.redis.key("responses", tenant, ...parts);
    return [k("r", id), k("index"), k("sizes"), k("bytes"), k("evictions")];
  }
}
