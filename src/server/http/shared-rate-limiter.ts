/**
 * The per-key limiter shared by every gateway replica (config `redis.url`):
 * requests/min and tokens/min buckets and concurrent-stream leases decided in
 * Redis (`RedisLimitStore`), so N replicas admit what one would.
 *
 * Outage policy (config `redis.limitsOnOutage`): `local` (default) answers
 * from an in-process {@link RateLimiter} holding 1/`replicas` of every limit,
 * logged once per outage and counted in `switchyard_redis_fallbacks_total`;
 * `closed` refuses with 503 and `Retry-After`. Either way no request waits
 * longer than the Redis deadline.
 */
import { rateLimited, requestTooLarge, unavailable } from "../../errors.js";
import type { RedisConnection, RedisLimitStore, LimitDecision, LimitView } from "../../state/index.js";
import type { Logger } from "../../telemetry/logger.js";
import { RateLimiter, formatResetDuration, tokenReservation, tooLargeMessage, type Admission, type AdmitRequest, type KeyLimiter, type KeyLimits, type TokenReservation } from "./rate-limiter.js";

export interface SharedRateLimiterOptions {
  store: RedisLimitStore;
  redis: RedisConnection;
  /** Limits by key id (see `hashApiKeys`); keys without any limit are not tracked. */
  keys: Iterable<{ keyId: string } & KeyLimits>;
  /** Replicas sharing the limits; the local fallback holds 1/replicas of each. Default 2. */
  replicas?: number;
  /** `local` (default): the 1/replicas fallback; `closed`: 503 while Redis is unreachable. */
  onOutage?: "local" | "closed";
  /** The window of the per-minute limits, in ms. Default 60 000 (config `limits.rateWindowMs`). */
  windowMs?: number;
  logger?: Logger;
}

const OUTAGE_RETRY_MS = 1000;

/**
 * @example
 * ```ts
 * const limiter = new SharedRateLimiter({ store: new RedisLimitStore({ redis }), redis, keys: hashApiKeys(config.auth.keys) });
 * app.use("/v1/*", rateLimit({ limiter }));
 * ```
 */
export class SharedRateLimiter implements KeyLimiter {
  private readonly store: RedisLimitStore;
  private readonly redis: RedisConnection;
  private readonly limits = new Map<string, KeyLimits>();
  private readonly fallback: RateLimiter;
  private readonly onOutage: "local" | "closed";
  private readonly logger: Logger | undefined;
  /** The `x-ratelimit-*` headers of each key's last decision in Redis. */
  private readonly last = new Map<string, Record<string, string>>();
  private inOutage = false;

  constructor({ store, redis, keys, replicas = 2, onOutage = "local", windowMs = 60_000, logger }: SharedRateLimiterOptions) {
    this.store = store;
    this.redis = redis;
    this.onOutage = onOutage;
    this.logger = logger;
    const share = (n: number | undefined) => (n === undefined ? undefined : Math.max(1, Math.floor(n / replicas)));
    const local: Array<{ keyId: string } & KeyLimits> = [];
    for (const { keyId, requestsPerMinute, tokensPerMinute, concurrentStreams } of keys) {
      if (requestsPerMinute === undefined && tokensPerMinute === undefined && concurrentStreams === undefined) continue;
      this.limits.set(keyId, { requestsPerMinute, tokensPerMinute, concurrentStreams });
      local.push({ keyId, requestsPerMinute: share(requestsPerMinute), tokensPerMinute: share(tokensPerMinute), concurrentStreams: share(concurrentStreams) });
    }
    this.fallback = new RateLimiter({ keys: local, windowMs });
  }

  limitsOf(keyId: string): KeyLimits | undefined {
    return this.limits.get(keyId);
  }

  async admit(keyId: string, { tokens = 0, stream = false }: AdmitRequest = {}): Promise<Admission> {
    const limits = this.limits.get(keyId);
    if (!limits) return { keyId, tokens: undefined, releaseStream: () => undefined };
    const tpm = limits.tokensPerMinute;
    const want = tpm ? Math.max(0, Math.ceil(tokens)) : 0;
    if (tpm && want > tpm) throw requestTooLarge(tooLargeMessage(tpm, want), this.headers(keyId));
    let decision: LimitDecision;
    try {
      decision = await this.store.admit(keyId, limits, { tokens: want, stream });
    } catch (err) {
      return this.outage(keyId, { tokens, stream }, err);
    }
    if (this.inOutage) {
      this.inOutage = false;
      this.logger?.info({}, "shared rate limits: Redis answers again, limits are shared again");
    }
    const headers = toHeaders(decision);
    this.last.set(keyId, headers);
    if (!decision.admitted) {
      const message =
        decision.reason === "requests"
          ? `Rate limit reached for requests per minute (RPM): limit ${limits.requestsPerMinute}.`
          : decision.reason === "tokens"
            ? `Rate limit reached for tokens per minute (TPM): limit ${tpm}, requested ${want}.`
            : `Too many concurrent streams for this API key: limit ${limits.concurrentStreams}.`;
      throw rateLimited(`${message} Please try again in ${formatResetDuration(decision.retryAfterMs)}.`, decision.retryAfterMs, headers);
    }
    const lease = decision.lease;
    let released = false;
    return {
      keyId,
      tokens: tpm ? this.reservation(keyId, decision.admission, want) : undefined,
      releaseStream: () => {
        if (released || !lease) return;
        released = true;
        void this.store.release(lease);
      },
    };
  }

  headers(keyId: string): Record<string, string> {
    return this.inOutage ? this.fallback.headers(keyId) : (this.last.get(keyId) ?? {});
  }

  private outage(keyId: string, request: AdmitRequest, err: unknown): Admission {
    this.redis.fellBack("limits");
    if (!this.inOutage) {
      this.inOutage = true;
      this.logger?.warn(
        { err: err instanceof Error ? err.message : String(err), policy: this.onOutage },
        this.onOutage === "closed" ? "shared rate limits: Redis unreachable, refusing limited keys" : "shared rate limits: Redis unreachable, enforcing 1/replicas of each limit locally",
      );
    }
    if (this.onOutage === "closed") {
      throw unavailable("Rate limits cannot be checked right now; retry shortly.", OUTAGE_RETRY_MS);
    }
    return this.fallback.admit(keyId, request);
  }

  /** Tokens held in Redis; adjustments that fail are dropped (the admission leaves the window anyway). */
  private reservation(keyId: string, admission: string, initial: number): TokenReservation {
    return tokenReservation(initial, (delta) => {
      this.store.adjustTokens(keyId, admission, delta).catch(() => undefined);
    });
  }
}

function toHeaders(d: LimitDecision): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (kind: "requests" | "tokens", v: LimitView | undefined) => {
    if (!v) return;
    out[`x-ratelimit-limit-${kind}`] = String(v.limit);
    out[`x-ratelimit-remaining-${kind}`] = String(v.remaining);
    out[`x-ratelimit-reset-${kind}`] = formatResetDuration(v.resetMs);
  };
  put("requests", d.requests);
  put("tokens", d.tokens);
  return out;
}
