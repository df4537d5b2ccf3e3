/**
 * Session → upstream affinity shared by every replica: a conversation keeps
 * hitting the remote upstream that holds its prefix in its KV cache, whichever
 * replica receives the next turn.
 *
 * Outage policy: local affinity. A lookup that fails answers "unknown" (the
 * router then uses its own prefix affinity and least-load choice); a failed
 * write is dropped.
 */
import type { RedisConnection } from "./redis-connection.js";

export interface AffinityStoreOptions {
  redis: RedisConnection;
  /** How long an idle session stays pinned (ms). Default 30 minutes. */
  ttlMs?: number;
}

/**
 * @example
 * ```ts
 * const affinity = new AffinityStore({ redis, ttlMs: config.redis.affinityTtlMs });
 * const pinned = await affinity.get("gpt-small", sessionId); // upstream id or undefined
 * await affinity.set("gpt-small", sessionId, chosen.id);
 * ```
 */
export class AffinityStore {
  private readonly redis: RedisConnection;
  private readonly ttlMs: number;

  constructor({ redis, ttlMs = 30 * 60_000 }: AffinityStoreOptions) {
    this.redis = redis;
    this.ttlMs = ttlMs;
  }

  /** The upstream pinned for this session of `model`, if any. Never throws. */
  async get(model: string, session: string): Promise<string | undefined> {
    try {
      return (await this.redis.call("affinity", (c) => c.get(this.key(model, session)))) ?? undefined;
    } catch {
      this.redis.fellBack("affinity");
      return undefined;
    }
  }

  /** Pins (or re-pins) the session to `upstream`, extending its lifetime. Never throws. */
  async set(model: string, session: string, upstream: string): Promise<void> {
    try {
      await this.redis.call("affinity", (c) => c.set(this.key(model, session), upstream, "PX", this.ttlMs));
    } catch {
      this.redis.fellBack("affinity");
    }
  }

  private key(model: string, session: string): string {
    return this.redis.key("affinity", model, session);
  }
}
