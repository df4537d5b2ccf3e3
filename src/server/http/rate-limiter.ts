/**
 * The per-key limiter behind the `rateLimit` middleware: requests per
 * minute, tokens per minute and concurrent streams, in memory, one set per key.
 *
 * Window semantics (the same as the shared limiter's in Redis): a sliding
 * window log. A key is admitted when what it was admitted in the last
 * `windowMs` (60 s), plus this request, fits the limit, so no 60-second
 * window ever holds more than the limit: RPM 10 admits at most 10 requests
 * in any 60 s, and a burst of 10 is fine. A refused request's `Retry-After`
 * is exact: when enough of the window's oldest admissions leave it.
 *
 * Tokens are reserved at admission (the prompt estimate plus `max_tokens`, or
 * the default cap) and settled with the real usage later: a refund lowers
 * the request's own entry in the log, usage above the reservation raises it.
 * A request whose reservation alone exceeds the key's tokens/min can never
 * fit: it is refused at once (429, no `Retry-After`), never admitted clamped.
 * A key flooding touches only its own log, so it never slows another key.
 */
import { rateLimited, requestTooLarge } from "../../errors.js";

export interface KeyLimits {
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
  concurrentStreams?: number | undefined;
}

/** One admission in a {@link WindowLog}: when, and how much (1 for a request; tokens, settled later, for a reservation). */
interface LogEntry {
  readonly at: number;
  amount: number;
  expired: boolean;
}

/**
 * A sliding window log: what was admitted in the last `windowMs`, oldest
 * first. Memory is one entry per admission still in the window.
 */
class WindowLog {
  private entries: LogEntry[] = [];
  private head = 0;
  private sum = 0;

  constructor(
    readonly capacity: number,
    private readonly windowMs: number,
  ) {}

  /** What the last window holds (entries that left it are dropped). */
  used(now: number): number {
    while (this.head < this.entries.length && this.entries[this.head]!.at <= now - this.windowMs) {
      const e = this.entries[this.head++]!;
      e.expired = true;
      this.sum -= e.amount;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    if (this.head === this.entries.length) this.sum = 0; // no drift once empty
    return this.sum;
  }

  /** Milliseconds until `n` more fit the window (0 = now; Infinity when `n` exceeds the capacity). */
  msUntil(n: number, now: number): number {
    if (n > this.capacity) return Infinity;
    let excess = this.used(now) + n - this.capacity;
    if (excess <= 0) return 0;
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      excess -= e.amount;
      if (excess <= 0) return e.at + this.windowMs - now;
    }
    return this.windowMs;
  }

  /** Milliseconds until the window is empty (OpenAI's `x-ratelimit-reset-*`). */
  msUntilEmpty(now: number): number {
    this.used(now);
    const last = this.entries[this.entries.length - 1];
    return last === undefined || last.expired ? 0 : last.at + this.windowMs - now;
  }

  add(amount: number, now: number): LogEntry {
    this.used(now);
    const entry: LogEntry = { at: now, amount, expired: false };
    this.entries.push(entry);
    this.sum += amount;
    return entry;
  }

  /**
   * Changes an admission's amount by `delta` (settlement). An entry that
   * already left the window takes no refund; usage above it is charged now.
   */
  adjust(entry: LogEntry, delta: number, now: number): void {
    this.used(now);
    if (!entry.expired) {
      entry.amount += delta;
      this.sum += delta;
    } else if (delta > 0) this.add(delta, now);
  }
}

interface KeyState {
  limits: KeyLimits;
  requests?: WindowLog;
  tokens?: WindowLog;
  streams: number;
}

/** Tokens held for one request until its real usage is known. */
export interface TokenReservation {
  /** Tokens currently charged for this request. */
  readonly reserved: number;
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
  /** Tokens to reserve (prompt estimate + max_tokens); more than the key's tokens/min is refused at once (it could never fit). */
  tokens?: number;
  /** Needs a concurrent-stream slot. */
  stream?: boolean;
}

export interface RateLimiterOptions {
  /** Limits by key id (see `hashApiKeys`); keys without any limit are not tracked. */
  keys: Iterable<{ keyId: string } & KeyLimits>;
  /** The window of the per-minute limits, in ms. Default 60 000 (config `limits.rateWindowMs`); tests shorten it. */
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
    for (const { keyId, requestsPerMinute, tokensPerMinute, concurrentStreams } of keys) {
      if (requestsPerMinute === undefined && tokensPerMinute === undefined && concurrentStreams === undefined) continue;
      this.states.set(keyId, {
        limits: { requestsPerMinute, tokensPerMinute, concurrentStreams },
        ...(requestsPerMinute ? { requests: new WindowLog(requestsPerMinute, windowMs) } : {}),
        ...(tokensPerMinute ? { tokens: new WindowLog(tokensPerMinute, windowMs) } : {}),
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
    const want = state.tokens ? Math.max(0, Math.ceil(tokens)) : 0;

    if (state.tokens && want > state.tokens.capacity) throw requestTooLarge(tooLargeMessage(limits.tokensPerMinute!, want), this.headers(keyId));
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

    state.requests?.add(1, now);
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
      out["x-ratelimit-remaining-requests"] = String(Math.max(0, Math.floor(state.requests.capacity - state.requests.used(now))));
      out["x-ratelimit-reset-requests"] = formatResetDuration(state.requests.msUntilEmpty(now));
    }
    if (state.tokens) {
      out["x-ratelimit-limit-tokens"] = String(state.tokens.capacity);
      out["x-ratelimit-remaining-tokens"] = String(Math.max(0, Math.floor(state.tokens.capacity - state.tokens.used(now))));
      out["x-ratelimit-reset-tokens"] = formatResetDuration(state.tokens.msUntilEmpty(now));
    }
    return out;
  }

  private refusal(keyId: string, message: string, retryAfterMs: number) {
    return rateLimited(`${message} Please try again in ${formatResetDuration(retryAfterMs)}.`, retryAfterMs, this.headers(keyId));
  }

  private reservation(log: WindowLog, initial: number): TokenReservation {
    const entry = log.add(initial, this.now());
    return tokenReservation(initial, (delta) => log.adjust(entry, delta, this.now()));
  }
}

/**
 * A reservation of `initial` tokens that is settled (or refunded) once: the difference between the real usage and
 * what was reserved goes to `adjust` (never called with 0). Shared by the in-memory and the Redis limiter.
 */
export function tokenReservation(initial: number, adjust: (delta: number) => void): TokenReservation {
  let reserved = initial;
  let settled = false;
  const reconcile = (actual: number) => {
    if (settled) return;
    settled = true;
    const real = Math.max(0, actual);
    if (real !== reserved) adjust(real - reserved);
    reserved = real;
  };
  return {
    get reserved() {
      return reserved;
    },
    settle: (actual) => reconcile(actual),
    refund: () => reconcile(0),
  };
}

/** OpenAI's wording for a request that can never fit the key's tokens/min. */
export function tooLargeMessage(tokensPerMinute: number, requested: number): string {
  return (
    `Request too large for tokens per minute (TPM): limit ${tokensPerMinute}, requested ${requested}. ` +
    "Lower max_tokens (or the prompt): a request must fit the key's tokens per minute."
  );
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
