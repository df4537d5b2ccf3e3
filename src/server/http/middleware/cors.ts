/**
 * CORS, off by default: a gateway holding API keys should not be callable from
 * any web page. Listing origins in `server.corsOrigins` turns it on for them.
 */
import type { MiddlewareHandler } from "hono";
import { cors as honoCors } from "hono/cors";

export interface CorsOptions {
  /** Config `server.corsOrigins`; empty = CORS off. `"*"` allows any origin. */
  origins?: readonly string[];
  /** Preflight cache lifetime in seconds. Default 600. */
  maxAgeSeconds?: number;
}

/** Response headers a browser client may read: ids, rate limits, retry hints, our timings. */
const EXPOSED_HEADERS = [
  "x-request-id",
  "retry-after",
  "retry-after-ms",
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-reset-tokens",
  "x-switchyard-shard",
  "x-switchyard-cache",
  "x-switchyard-schema-violations",
  "x-switchyard-cache-similarity",
  "x-switchyard-overhead-ms",
];

/**
 * With no origins configured it passes every request through untouched (no
 * CORS headers, preflights unanswered), so browsers refuse cross-origin calls.
 * Mount it before `auth`: preflight requests carry no key and must not get a 401.
 *
 * @example
 * ```ts
 * app.use(cors({ origins: config.server.corsOrigins }));
 * ```
 */
export function cors({ origins = [], maxAgeSeconds = 600 }: CorsOptions = {}): MiddlewareHandler {
  if (origins.length === 0) {
    return async function corsOff(_c, next) {
      await next();
    };
  }
  const allowed = origins.includes("*") ? "*" : [...origins];
  const inner = honoCors({
    origin: allowed,
    allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
    exposeHeaders: EXPOSED_HEADERS,
    maxAge: maxAgeSeconds,
  });
  return async function corsMiddleware(c, next) {
    return inner(c, next);
  };
}
