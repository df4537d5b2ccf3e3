/**
 * Small HTTP helpers shared by the tracing, metrics and rate-limit middleware:
 * the bounded labels (route pattern, status class) and a hook for "the response
 * body has been fully sent", which for SSE is long after the handler returned.
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

/** True for `text/event-stream` responses, whose bodies outlive the handler. */
export function isEventStream(res: Response): boolean {
  return (res.headers.get("content-type") ?? "").startsWith("text/event-stream");
}

/**
 * Calls `done` once the response body has been sent in full, failed, or been
 * cancelled by a departed client. Streamed (SSE) bodies are wrapped; any other
 * response is complete when the handler returns, so `done` runs at once. Call
 * after `await next()`.
 *
 * @example
 * ```ts
 * await next();
 * whenResponseDone(c, () => span.end());
 * ```
 */
export function whenResponseDone(c: Context, done: () => void): void {
  let called = false;
  const finish = () => {
    if (called) return;
    called = true;
    done();
  };
  const body = c.res.body;
  if (!body || !isEventStream(c.res)) return finish();
  const reader = body.getReader();
  const wrapped = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: ended, value } = await reader.read();
        if (ended) {
          controller.close();
          finish();
        } else controller.enqueue(value);
      } catch (err) {
        controller.error(err);
        finish();
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
  c.res = new Response(wrapped, { status: c.res.status, statusText: c.res.statusText, headers: c.res.headers });
}
