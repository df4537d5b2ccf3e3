/**
 * Bounded HTTP labels for the tracing and metrics middleware: the route
 * pattern and the status class. ("The response was fully sent" lives in
 * `src/util/response-done.ts`: the rate limiter needs it too.)
 */
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";

/** Label for requests that matched no route: never the raw path (unbounded, may carry ids). */
export const UNMATCHED_ROUTE = "unmatched";

/**
 * The route pattern that served (or would have served) this request, e.g.
 * `/v1/models/:id`. Middleware registered with `app.use` have method `ALL`; the
 * last other match is the handler, even when a middleware answered first (401, 429).
 *
 * @example
 * ```ts
 * await next();
 * counter.inc({ route: routePattern(c) });
 * ```
 */
export function routePattern(c: Context): string {
  const handler = matchedRoutes(c).findLast((r) => r.method !== "ALL");
  return handler?.path ?? UNMATCHED_ROUTE;
}

/**
 * `2xx` … `5xx`. Our 499 (client closed) is a `4xx`.
 *
 * @example
 * ```ts
 * statusClass(429); // "4xx"
 * ```
 */
export function statusClass(status: number): string {
  const cls = Math.min(5, Math.max(1, Math.floor(status / 100)));
  return `${cls}xx`;
}
