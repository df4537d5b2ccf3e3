/**
 * Per-key limits shared by every replica: requests/min and tokens/min as
 * sliding window logs (at most the limit in any window; the in-memory
 * limiter's semantics), concurrent streams as leases with a TTL.
 * One Lua script decides an admission atomically (all or nothing, on the
 * Redis server's clock); token reservations are settled with real usage
 * afterwards; a live replica renews its leases, a dead one's expire.
 *
 * This module only talks to Redis and reports decisions; it throws when
 * Redis cannot answer, and the limiter that uses it applies the outage
 * policy (a local limiter at 1/replicas of each limit, or fail closed).
 */
import { randomUUID } from "node:crypto";
import type { RedisConnection } from "./redis-connection.js";
import { ADJUST, ADMIT, RENEW_LEASES, runScript } from "./scripts.js";

/** A key's limits, as configured in `auth.keys[]`. */
export interface SharedKeyLimits {
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
  concurrentStreams?: number | undefined;
}

/** One limit's state right after a decision. */
export interface LimitView {
  limit: number;
  /** Whole units left (never negative). */
  remaining: number;
  /** Milliseconds until the window is empty again. */
  resetMs: number;
}

/** A concurrent-stream slot held in Redis until released or expired. */
export interface StreamLease {
  readonly key: string;
  readonly id: string;
}

export type LimitDecision =
  | { admitted: true; requests?: LimitView; tokens?: LimitView; lease?: StreamLease; /** The admission's id in the tokens log (settle with it). */ admission: string }
  | { admitted: false; reason: "requests" | "tokens" | "streams"; retryAfterMs: number; requests?: LimitView; tokens?: LimitView };

export interface RedisLimitStoreOptions {
  redis: RedisConnection;
  /** The "minute" in ms. Default 60 000; tests shorten it. */
  windowMs?: number;
  /** A lease not renewed for this long expires (ms). Default 30 000; renewed every third of it. */
  leaseTtlMs?: number;
}

const RENEW_BATCH = 256;

/**
 * @example
 * ```ts
 * const limits = new RedisLimitStore({ redis, leaseTtlMs: config.redis.streamLeaseTtlMs });
 * const d = await limits.admit(keyId, { requestsPerMinute: 60, concurrentStreams: 2 }, { tokens: 0, stream: true });
 * if (d.admitted && d.lease) await limits.release(d.lease); // when the stream ends
 * ```
 */
export class RedisLimitStore {
  private readonly redis: RedisConnection;
  private readonly windowMs: number;
  private readonly leaseTtlMs: number;
  private readonly leases = new Map<string, StreamLease>();
  private readonly timer: NodeJS.Timeout;
  private disposed = false;

  constructor({ redis, windowMs = 60_000, leaseTtlMs = 30_000 }: RedisLimitStoreOptions) {
    this.redis = redis;
    this.windowMs = windowMs;
    this.leaseTtlMs = leaseTtlMs;
    this.timer = setInterval(() => void this.renew(), Math.max(10, Math.floor(leaseTtlMs / 3)));
    this.timer.unref();
  }

  /**
   * Decides one admission. `tokens` above the key's tokens/min is refused by
   * the caller first (it could never fit). Throws when Redis does not answer
   * within its deadline.
   */
  async admit(keyId: string, limits: SharedKeyLimits, { tokens = 0, stream = false }: { tokens?: number; stream?: boolean } = {}): Promise<LimitDecision> {
    const rpm = limits.requestsPerMinute ?? 0;
    const tpm = limits.tokensPerMinute ?? 0;
    const streamLimit = stream ? (limits.concurrentStreams ?? 0) : 0;
    const leaseId = streamLimit > 0 ? randomUUID() : "";
    const admission = randomUUID();
    const streamsKey = this.redis.key("limits", keyId, "streams");
    const reply = (await this.redis.call("limits", (c) =>
      runScript(
        c,
        ADMIT,
        [...this.logKeys(keyId, "rpm"), ...this.logKeys(keyId, "tpm"), streamsKey],
        [rpm, tpm, this.windowMs, Math.max(0, Math.ceil(tokens)), streamLimit, leaseId, this.leaseTtlMs, admission],
      ),
    )) as [number, string, number, number, number, number, number, number];
    const [ok, reason, retryMs, reqRemaining, reqReset, tokRemaining, tokReset] = reply;
    const views = {
      ...(rpm > 0 ? { requests: { limit: rpm, remaining: reqRemaining, resetMs: reqReset } } : {}),
      ...(tpm > 0 ? { tokens: { limit: tpm, remaining: tokRemaining, resetMs: tokReset } } : {}),
    };
    if (ok !== 1) return { admitted: false, reason: reason as "requests" | "tokens" | "streams", retryAfterMs: retryMs, ...views };
    if (streamLimit === 0) return { admitted: true, ...views, admission };
    const lease: StreamLease = { key: streamsKey, id: leaseId };
    this.leases.set(leaseId, lease);
    return { admitted: true, ...views, lease, admission };
  }

  /**
   * Settles admission `admission`'s tokens: charges (`delta` > 0) or refunds
   * (`delta` < 0); resolves to what the window holds now. Throws when Redis does not answer.
   */
  async adjustTokens(keyId: string, admission: string, delta: number): Promise<number> {
    const reply = await this.redis.call("limits", (c) => runScript(c, ADJUST, this.logKeys(keyId, "tpm"), [this.windowMs, admission, Math.round(delta)]));
    return Number(reply);
  }

  /** A log's keys: the zset of admissions and the hash of their amounts. */
  private logKeys(keyId: string, kind: "rpm" | "tpm"): [string, string] {
    return [this.redis.key("limits", keyId, kind), this.redis.key("limits", keyId, `${kind}-amounts`)];
  }

  /** Frees a stream slot. Never throws: a lease Redis cannot free now expires by itself. */
  async release(lease: StreamLease): Promise<void> {
    if (!this.leases.delete(lease.id)) return;
    try {
      await this.redis.call("limits", (c) => c.zrem(lease.key, lease.id));
    } catch {
      // Expires after leaseTtlMs at the latest.
    }
  }

  /** Leases this replica holds (and renews). */
  get heldLeases(): number {
    return this.leases.size;
  }

  /** Extends every held lease once (the timer does this every third of the TTL). Resolves to how many were extended. */
  async renew(): Promise<number> {
    if (this.disposed || this.leases.size === 0) return 0;
    const all = [...this.leases.values()];
    let extended = 0;
    for (let i = 0; i < all.length; i += RENEW_BATCH) {
      const batch = all.slice(i, i + RENEW_BATCH);
      try {
        const n = await this.redis.call("limits", (c) =>
          runScript(c, RENEW_LEASES, batch.map((l) => l.key), [this.leaseTtlMs, ...batch.map((l) => l.id)]),
        );
        extended += Number(n);
      } catch {
        // The next tick tries again; a lease missed for a whole TTL expires (and its stream keeps running).
      }
    }
    return extended;
  }

  /** Stops renewing (held leases then expire within the TTL). Idempotent. */
  dispose(): void {
    this.disposed = true;
    clearInterval(this.timer);
  }
}
