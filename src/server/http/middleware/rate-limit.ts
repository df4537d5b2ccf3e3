/**
 * Per-key rate limits as middleware: requests per minute, tokens per minute,
 * concurrent streams (config `auth.keys[].requestsPerMinute|tokensPerMinute|concurrentStreams`).
 * The limiter itself is `../rate-limiter.ts`.
 *
 * Tokens are reserved at admission from the request body (the rough prompt
 * size plus `max_tokens`) and reconciled with the real usage that the
 * generation pipeline leaves in the `usage` context variable (see
 * {@link RateLimitVariables}); a request that fails with an error gets its
 * reservation back. Every response of a limited key carries OpenAI's
 * `x-ratelimit-*` headers.
 */
import type { MiddlewareHandler } from "hono";
import type { TokenUsage } from "../../../types.js";
import { whenResponseDone } from "../../../util/response-done.js";
import type { AppEnv } from "../env.js";
import { readBodyText } from "../body.js";
import { setHeaderAfterNext } from "../response-headers.js";
import { resolveKeyRecords, type ApiKeyConfig, type ApiKeyRecord } from "./auth.js";
import { RateLimiter, estimateRequestTokens, type Admission, type KeyLimiter } from "../rate-limiter.js";

/**
 * Per-request state of the limits, as typed context variables:
 * `admission` is set by the middleware, `usage` by whoever knows the real
 * usage (the generation pipeline, once the answer is complete).
 */
export interface RateLimitVariables {
  /** What admission granted (absent for unlimited keys). */
  admission: Admission | undefined;
  /** The tokens this request really used; settles the token reservation. */
  usage: TokenUsage | undefined;
}

function settle(admission: Admission, usage: TokenUsage | undefined): void {
  if (usage) admission.tokens?.settle(usage.promptTokens + usage.completionTokens);
}

export interface RateLimitOptions {
  /** Config `auth.keys` (their limits, by key id). Ignored when `records` is given. */
  keys?: readonly ApiKeyConfig[];
  /** The keys already hashed once by the app (`hashApiKeys`). */
  records?: readonly ApiKeyRecord[];
  /** Config `limits.defaultMaxTokens`: the completion budget of a request without `max_tokens`. */
  defaultMaxTokens?: number;
  /** Config `limits.maxTokensCap`. */
  maxTokensCap?: number;
  /** The "minute". Default 60 000. */
  windowMs?: number;
  /** Use this limiter instead of building one from `keys` (the shared one on Redis, or one to inspect in tests). */
  limiter?: KeyLimiter;
  /**
   * POST paths whose JSON body is read at admission to reserve tokens and spot
   * streams. Only endpoints under the general body limit: reading a body here
   * happens before any route-level limit (document uploads have their own).
   */
  estimatePaths?: readonly string[];
}

/** The OpenAI endpoints that spend tokens. */
export const TOKEN_PATHS: readonly string[] = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/messages"];

/**
 * Enforces the principal's limits (mount after `auth`). Unlimited keys and
 * open mode pass straight through without reading the body.
 *
 * @example
 * ```ts
 * app.use("/v1/*", auth({ keys: config.auth.keys }));
 * app.use("/v1/*", rateLimit({ keys: config.auth.keys, defaultMaxTokens: config.limits.defaultMaxTokens }));
 * ```
 */
export function rateLimit({
  keys = [],
  records,
  defaultMaxTokens = 256,
  maxTokensCap = Infinity,
  windowMs = 60_000,
  limiter,
  estimatePaths = TOKEN_PATHS,
}: RateLimitOptions = {}): MiddlewareHandler<AppEnv> {
  const limits: KeyLimiter = limiter ?? new RateLimiter({ keys: resolveKeyRecords(keys, records), windowMs });
  const peek = new Set(estimatePaths);
  return async function rateLimitMiddleware(c, next) {
    const keyId = c.get("principal").keyId;
    const keyLimits = limits.limitsOf(keyId);
    if (!keyLimits) return next();
    let request: { tokens: number; stream: boolean } = { tokens: 0, stream: false };
    if (c.req.method === "POST" && peek.has(c.req.path) && (keyLimits.tokensPerMinute !== undefined || keyLimits.concurrentStreams !== undefined)) {
      // Read once: the route's own parse reads the same string (and the body limit still applies).
      request = estimateRequestTokens(await readBodyText(c), { defaultMaxTokens, maxTokensCap, generates: c.req.path !== "/v1/embeddings" });
    }
    const admission = await limits.admit(keyId, request);
    c.set("admission", admission);
    try {
      await next();
    } catch (err) {
      admission.tokens?.refund();
      admission.releaseStream();
      throw err;
    }
    // An error answer generated nothing: give its tokens back.
    if (c.res.status >= 400) admission.tokens?.refund();
    // A complete answer has its usage by now; a stream settles when it ends.
    else settle(admission, c.get("usage"));
    for (const [k, v] of Object.entries(limits.headers(keyId))) setHeaderAfterNext(c, k, v);
    whenResponseDone(c, () => {
      settle(admission, c.get("usage"));
      admission.releaseStream();
    });
  };
}
