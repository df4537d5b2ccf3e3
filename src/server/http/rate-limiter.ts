/**
 * The per-key limiter behind the `rateLimit` middleware: token buckets for
 * requests, tokens and concurrent streams, in memory, one set per key.
 *
 * A key that floods drains only its own buckets, and a check is O(1) with no
 * shared queue, so it never slows another key. A bucket holds a minute's
 * allowance and refills continuously, so the advertised `Retry-After` is
 * exact: waiting it is enough. Tokens are reserved at admission (an estimate)
 * and reconciled with the real usage later; the level may go negative (debt).
 */
import { rateLimited } from "../../errors.js";

export interface KeyLimits {
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
  concurrentStreams?: number | undefined;
}

/** A continuously refilling bucket; the level may go negative (debt) when real usage exceeds a reservation. */
class TokenBucket {
  private level: number;
  private updated: number;
  private readonly perMs: number;

  constructor(
    readonly capacity: number,
    windowMs: number,
    now: number,
  ) {
    this.level = capacity;
    this.updated = now;
    this.perMs = capacity / windowMs;
  }

  available(now: number): number {
    this.level = Math.min(this.capacity, this.level + (now - this.updated) * this.perMs);
    this.updated = now;
    return this.level;
  }

  /** Milliseconds until `n` (at most the capacity) is available. */
  msUntil(n: number, now: number): number {
    const missing = Math.min(n, this.capacity) - this.available(now);
    return missing <= 0 ? 0 : missing / this.perMs;
  }

  msUntilFull(now: number): number {
    return (this.capacity - this.available(now)) / this.perMs;
  }

  take(n: number, now: number): void {
    this.level = this.available(now) - n;
  }

  give(n: number, now: number): void {
    this.level = Math.min(this.capacity, this.available(now) + n);
  }
}

interface KeyState {
  limits: KeyLimits;
  requests?: TokenBucket;
  tokens?: TokenBucket;
  streams: number;
}

/** Tokens held for one request until its real usage is known. */
export interface TokenReservation {
  /** Tokens currently charged for this request. */
  readonly reserved: number;
  /** Charge `extra` more now (e.g. retrieved passages grew the prompt). Never rejects: the request is already admitted. */
  add(extra: number): void;
  /** Replaces the reservation by the real usage (refunds or charges the difference). Idempotent. */
  settle(actualTokens: number): void;
  /** Gives the whole reservation back (the request failed before generating). */
  refund(): void;
}

/** What admission granted; release the stream slot when the stream ends. */
export interface Admission {
  keyId: string;
  tokens: TokenReservation | undefined;
  releaseStream(): void;
}

export interface AdmitRequest {
  /** Tokens to reserve (prompt estimate + max_tokens); clamped to the per-minute limit so a big request still fits a full bucket. */
  tokens?: number;
  /** Needs a concurrent-stream slot. */
  stream?: boolean;
}

export interface RateLimiterOptions {
  /** Limits by key id (see `hashApiKeys`); keys without any limit are not tracked. */
  keys: Iterable<{ keyId: string } & KeyLimits>;
  /** The "minute". Default 60 000; tests may shorten it. */
  windowMs?: number;
  /** Monotonic clock in ms. */
  now?: () => number;
}

/**
 * What the middleware needs from a limiter: the in-memory {@link RateLimiter}
 * or the Redis-backed `SharedRateLimiter` (config `redis.url`).
 */
export interface KeyLimiter {
  /** The key's limits, or `undefined` when it has none (not limited). */
  limitsOf(keyId: string): KeyLimits | undefined;
  /** Admits one request or throws a 429 (a shared limiter may also throw 503 when it fails closed). */
  admit(keyId: string, request?: AdmitRequest): Admission | Promise<Admission>;
  /** OpenAI's `x-ratelimit-*` headers for the key's current (or last known) state. */
  headers(keyId: string): Record<string, string>;
}

const NO_STREAM_RETRY_MS = 1000;

/**
 * Formats a duration the way OpenAI's `x-ratelimit-reset-*` headers do: `20ms`, `1.5s`, `6m0s`.
 *
 * @example
 * ```ts
 * formatResetDuration(90_500); // "1m30.5s"
 * ```
 */
export function formatResetDuration(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  if (whole < 1000) return `${whole}ms`;
  const minutes = Math.floor(whole / 60_000);
  const secs = Number(((whole - minutes * 60_000) / 1000).toFixed(3));
  return minutes > 0 ? `${minutes}m${secs}s` : `${secs}s`;
}

/**
 * The per-key limiter behind the middleware; usable on its own.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ keys: [{ keyId: "k1", requestsPerMinute: 60, tokensPerMinute: 10_000 }] });
 * const admission = limiter.admit("k1", { tokens: 300 }); // throws a 429 GatewayError when over a limit
 * admission.tokens?.settle(212);
 * ```
 */
export class RateLimiter implements KeyLimiter {
  private readonly states = new Map<string, KeyState>();
  private readonly now: () => number;

  constructor({ keys, windowMs = 60_000, now = () => performance.now() }: RateLimiterOptions) {
    this.now = now;
    const t = now();
    for (const { keyId, requestsPerMinute, tokensPerMinute, concurrentStreams } of keys) {
      if (requestsPerMinute === undefined && tokensPerMinute === undefined && concurrentStreams === undefined) continue;
      this.states.set(keyId, {
        limits: { requestsPerMinute, tokensPerMinute, concurrentStreams },
        ...(requestsPerMinute ? { requests: new TokenBucket(requestsPerMinute, windowMs, t) } : {}),
        ...(tokensPerMinute ? { tokens: new TokenBucket(tokensPerMinute, windowMs, t) } : {}),
        streams: 0,
      });
    }
  }

  /** The key's limits, or `undefined` when it has none (not limited). */
  limitsOf(keyId: string): KeyLimits | undefined {
    return this.states.get(keyId)?.limits;
  }

  /**
   * Admits one request or throws a 429 (`rate_limit_exceeded`, with
   * `Retry-After`, `retry-after-ms` and the `x-ratelimit-*` headers). All or
   * nothing: a refused request consumes no allowance.
   */
  admit(keyId: string, { tokens = 0, stream = false }: AdmitRequest = {}): Admission {
    const state = this.states.get(keyId);
    if (!state) return { keyId, tokens: undefined, releaseStream: () => undefined };
    const now = this.now();
    const { limits } = state;
    const want = state.tokens ? Math.min(Math.max(0, Math.ceil(tokens)), state.tokens.capacity) : 0;

    if (state.requests && state.requests.msUntil(1, now) > 0) {
      throw this.refusal(keyId, `Rate limit reached for requests per minute (RPM): limit ${limits.requestsPerMinute}.`, state.requests.msUntil(1, now));
    }
    if (state.tokens && want > 0 && state.tokens.msUntil(want, now) > 0) {
      const wait = state.tokens.msUntil(want, now);
      throw this.refusal(keyId, `Rate limit reached for tokens per minute (TPM): limit ${limits.tokensPerMinute}, requested ${want}.`, wait);
    }
    if (stream && limits.concurrentStreams !== undefined && state.streams >= limits.concurrentStreams) {
      throw this.refusal(keyId, `Too many concurrent streams for this API key: limit ${limits.concurrentStreams}.`, NO_STREAM_RETRY_MS);
    }

    state.requests?.take(1, now);
    let releaseStream = () => undefined as void;
    if (stream && limits.concurrentStreams !== undefined) {
      state.streams++;
      let released = false;
      releaseStream = () => {
        if (released) return;
        released = true;
        state.streams--;
      };
    }
    return { keyId, tokens: state.tokens ? this.reservation(state.tokens, want) : undefined, releaseStream };
  }

  /** OpenAI's `x-ratelimit-*` headers for the key's current state (empty when it is not limited). */
  headers(keyId: string): Record<string, string> {
    const state = this.states.get(keyId);
    if (!state) return {};
    const now = this.now();
    const out: Record<string, string> = {};
    if (state.requests) {
      out["x-ratelimit-limit-requests"] = String(state.requests.capacity);
      out["x-ratelimit-remaining-requests"] = String(Math.max(0, Math.floor(state.requests.available(now))));
      out["x-ratelimit-reset-requests"] = formatResetDuration(state.requests.msUntilFull(now));
    }
    if (state.tokens) {
      out["x-ratelimit-limit-tokens"] = String(state.tokens.capacity);
      out["x-ratelimit-remaining-tokens"] = String(Math.max(0, Math.floor(state.tokens.available(now))));
      out["x-ratelimit-reset-tokens"] = formatResetDuration(state.tokens.msUntilFull(now));
    }
    return out;
  }

  private refusal(keyId: string, message: string, retryAfterMs: number) {
    return rateLimited(`${message} Please try again in ${formatResetDuration(retryAfterMs)}.`, retryAfterMs, this.headers(keyId));
  }

  private reservation(bucket: TokenBucket, initial: number): TokenReservation {
    let reserved = initial;
    let settled = false;
    const now = this.now;
    bucket.take(initial, now());
    const reconcile = (actual: number) => {
      if (settled) return;
      settled = true;
      const delta = reserved - Math.max(0, actual);
      if (delta > 0) bucket.give(delta, now());
      else if (delta < 0) bucket.take(-delta, now());
      reserved = Math.max(0, actual);
    };
    return {
      get reserved() {
        return reserved;
      },
      add(extra) {
        if (settled || !(extra > 0)) return;
        bucket.take(extra, now());
        reserved += extra;
      },
      settle: (actual) => reconcile(actual),
      refund: () => reconcile(0),
    };
  }
}

/** Rough tokens of text: ~4 characters a token for English BPE vocabularies. */
const CHARS_PER_TOKEN = 4;

/**
 * Tokens to reserve for a request body: its size as a prompt estimate, plus the
 * completion budget for generation endpoints (`max_completion_tokens`,
 * `max_tokens`, else the default). Invalid bodies are estimated by size; the
 * route refuses them and the reservation is refunded.
 */
export function estimateRequestTokens(
  text: string,
  { defaultMaxTokens = 256, maxTokensCap = Infinity, generates: generatesOpt }: { defaultMaxTokens?: number; maxTokensCap?: number; generates?: boolean } = {},
): { tokens: number; stream: boolean } {
  const prompt = Math.ceil(text.length / CHARS_PER_TOKEN);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { tokens: prompt, stream: false };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { tokens: prompt, stream: false };
  const b = body as Record<string, unknown>;
  // Unless the caller knows the endpoint: chat/Messages bodies have `messages`, completions `prompt`.
  const generates = generatesOpt ?? ("messages" in b || "prompt" in b);
  const requested = [b.max_completion_tokens, b.max_tokens, b.max_output_tokens].find((v): v is number => Number.isInteger(v) && (v as number) > 0);
  const completion = generates ? Math.min(maxTokensCap, requested ?? defaultMaxTokens) : 0;
  return { tokens: prompt + completion, stream: b.stream === true };
}
