/**
 * API-key revocation shared by every replica: a key revoked on one replica is
 * refused by all within `refreshMs`. Keys are named by their key id (a prefix
 * of the key's SHA-256, as in logs), never by the secret.
 *
 * Checks are synchronous against a mirror of the shared set, re-read every
 * `refreshMs`; a replica's own revocations land in the mirror at once.
 *
 * Outage policy: last known list. Keys revoked before the outage stay
 * refused; a revocation during the outage applies on the replica that took it
 * and rejects (the caller reports it) so an operator knows to repeat it.
 */
import type { RedisConnection } from "./redis-connection.js";

export interface RevocationsOptions {
  redis: RedisConnection;
  /** How often the mirror is re-read (ms). Default 1000. */
  refreshMs?: number;
}

/**
 * @example
 * ```ts
 * const revocations = new Revocations({ redis });
 * await revocations.start();
 * await revocations.revoke(record.keyId);
 * revocations.isRevoked(record.keyId); // true here at once, on other replicas within refreshMs
 * ```
 */
export class Revocations {
  private readonly redis: RedisConnection;
  private mirror = new Set<string>();
  /** Revoked here while Redis was unreachable: still refused here, written to Redis on the next refresh. */
  private readonly pending = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor({ redis, refreshMs = 1000 }: RevocationsOptions) {
    this.redis = redis;
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
  }

  /** Reads the shared set once (call before serving). Never throws. */
  async start(): Promise<void> {
    await this.refresh();
  }

  isRevoked(keyId: string): boolean {
    return this.mirror.has(keyId) || this.pending.has(keyId);
  }

  /** Revokes a key on every replica. Applies here at once even when Redis is down, then rejects (retried on each refresh). */
  async revoke(keyId: string): Promise<void> {
    this.mirror.add(keyId);
    try {
      await this.redis.call("revocations", (c) => c.sadd(this.key(), keyId));
    } catch (err) {
      this.pending.add(keyId);
      throw err;
    }
  }

  /** Lifts a revocation on every replica. Rejects when Redis is down (nothing changes then). */
  async restore(keyId: string): Promise<void> {
    await this.redis.call("revocations", (c) => c.srem(this.key(), keyId));
    this.pending.delete(keyId);
    this.mirror.delete(keyId);
  }

  /** Writes pending revocations, then re-reads the shared set (the timer does this every `refreshMs`). Never throws. */
  async refresh(): Promise<void> {
    try {
      const pending = [...this.pending];
      if (pending.length > 0) {
        await this.redis.call("revocations", (c) => c.sadd(this.key(), ...pending));
        for (const id of pending) this.pending.delete(id);
      }
      this.mirror = new Set(await this.redis.call("revocations", (c) => c.smembers(this.key())));
    } catch {
      // Keep the last known list.
    }
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  private key(): string {
    return this.redis.key("revoked");
  }
}
