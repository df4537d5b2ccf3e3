/**
 * A hook for "the response body has been fully sent", which for SSE is long
 * after the handler returned. Used by the tracing middleware (the server span
 * ends then) and the rate limiter (a stream's slot is released then).
 */
import type { Context } from "hono";

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
  c.res = onBodyDone(c.res, done);
}

/**
 * `res` with `done` called once its body has been sent in full, failed, or been cancelled: an SSE body is
 * wrapped (a new Response), any other response is complete already, so `done` runs at once and `res` is returned.
 *
 * @example
 * ```ts
 * const res = onBodyDone(await app.fetch(req), () => inflight--);
 * ```
 */
export function onBodyDone(res: Response, done: () => void): Response {
  let called = false;
  const finish = () => {
    if (called) return;
    called = true;
    done();
  };
  const body = res.body;
  if (!body || !isEventStream(res)) {
    finish();
    return res;
  }
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
  return new Response(wrapped, { status: res.status, statusText: res.statusText, headers: res.headers });
}
