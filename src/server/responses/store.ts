/**
 * Stored Responses (`store: true`, OpenAI's default): what `GET
 * /v1/responses/{id}`, `.../input_items`, `DELETE` and `previous_response_id`
 * read back. Behind the {@link ResponseStore} interface so a shared store
 * (Redis, for several gateway replicas) can replace the in-memory default.
 * Every operation is scoped by tenant: another tenant's id is simply unknown.
 */
import { LRUCache } from "lru-cache";
import type { ConversationItem } from "./items.js";
import type { ResponseObject } from "./render.js";

export interface StoredResponse {
  /** The response object as last rendered (completed, incomplete or failed). */
  response: ResponseObject;
  /** This request's input items, in order (what `input_items` lists). */
  input: ConversationItem[];
  /**
   * The whole conversation a continuation starts from: the previous response's
   * conversation, this input, then this output. Instructions are not carried over (as OpenAI).
   */
  conversation: ConversationItem[];
}

/**
 * Where stored responses live. Implementations bound what they keep (oldest or
 * least recently used go first) and are safe to call concurrently.
 */
export interface ResponseStore {
  put(tenant: string, stored: StoredResponse): Promise<void>;
  /** `undefined` for an unknown, expired, deleted or other tenant's id. */
  get(tenant: string, id: string): Promise<StoredResponse | undefined>;
  /** True when the id existed for this tenant. */
  delete(tenant: string, id: string): Promise<boolean>;
  /** Idempotent. */
  dispose(): Promise<void>;
}

export interface MemoryResponseStoreOptions {
  /** Responses kept per tenant; the least recently used go first. Default 1000. */
  maxPerTenant?: number;
  /** Serialized bytes kept per tenant (JSON length). Default 64 MiB. */
  maxBytesPerTenant?: number;
  /** Lifetime of a stored response in ms (0 = until evicted). Default 0; OpenAI keeps them 30 days. */
  ttlMs?: number;
}

/**
 * The default store: one bounded LRU per tenant, in this process's memory (lost on restart).
 *
 * @example
 * ```ts
 * const store = new MemoryResponseStore({ maxPerTenant: 500 });
 * await store.put("acme", { response, input, conversation });
 * (await store.get("acme", response.id))?.response.status; // "completed"
 * ```
 */
export class MemoryResponseStore implements ResponseStore {
  private readonly tenants = new Map<string, LRUCache<string, StoredResponse>>();
  private readonly opts: Required<MemoryResponseStoreOptions>;

  constructor(opts: MemoryResponseStoreOptions = {}) {
    this.opts = { maxPerTenant: opts.maxPerTenant ?? 1000, maxBytesPerTenant: opts.maxBytesPerTenant ?? 64 * 1024 * 1024, ttlMs: opts.ttlMs ?? 0 };
  }

  private cache(tenant: string): LRUCache<string, StoredResponse> {
    let cache = this.tenants.get(tenant);
    if (!cache) {
      cache = new LRUCache<string, StoredResponse>({
        max: this.opts.maxPerTenant,
        maxSize: this.opts.maxBytesPerTenant,
        sizeCalculation: (v) => Math.max(1, JSON.stringify(v).length),
        ...(this.opts.ttlMs > 0 ? { ttl: this.opts.ttlMs } : {}),
      });
      this.tenants.set(tenant, cache);
    }
    return cache;
  }

  async put(tenant: string, stored: StoredResponse): Promise<void> {
    // A copy: later changes to the caller's objects must not reach the store (a Redis store serializes too).
    this.cache(tenant).set(stored.response.id, structuredClone(stored));
  }

  async get(tenant: string, id: string): Promise<StoredResponse | undefined> {
    const found = this.tenants.get(tenant)?.get(id);
    return found ? structuredClone(found) : undefined;
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    return this.tenants.get(tenant)?.delete(id) ?? false;
  }

  async dispose(): Promise<void> {
    for (const cache of this.tenants.values()) cache.clear();
    this.tenants.clear();
  }
}
