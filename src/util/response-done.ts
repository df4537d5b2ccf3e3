/**
 * A hook for "the response body has been fully sent", which for SSE is long
 * after the handler returned. Used by the tracing middleware (the server span
 * ends then), the rate limiter (a stream's slot is released then) and the
 * config generations (a request counts until its body is done).
 */
import type { ServerResponse } from "node:http";
import type { Context } from "hono";
import { nodeBindings } from "./node-bindings.js";

/** True for `text/event-stream` responses, whose bodies outlive the handler. */
export function isEventStream(res: Response): boolean {
  return (res.headers.get("content-type") ?? "").startsWith("text/event-stream");
}

/**
 * Calls `done` once the response body has been sent in full, failed, or been
 * cancelled by a departed client. Served by Node, an SSE response is done at
 * the Node response's `close`; otherwise its body is wrapped. Any other
 * response is complete when the handler returns, so `done` runs at once.
 * Call after `await next()`.
 *
 * @example
 * ```ts
 * await next();
 * whenResponseDone(c, () => span.end());
 * ```
 */
export function whenResponseDone(c: Context, done: () => void): void {
  const res = onBodyDone(c.res, done, nodeBindings(c)?.outgoing);
  // Hono's `c.res` setter rebuilds the response: only assign a wrapped one.
  if (res !== c.res) c.res = res;
}

/**
 * `res` with `done` called once its body has been sent in full, failed, or been cancelled. Only an SSE body
 * outlives the handler: with the Node response (`outgoing`) it is done at that response's `close` and `res` is
 * returned as is; without, its body is wrapped (a new Response). Any other response is complete already, so
 * `done` runs at once and `res` is returned. The headers are read first: reading `body` of @hono/node-server's
 * lightweight response rebuilds it.
 *
 * @example
 * ```ts
 * const res = onBodyDone(await app.fetch(req, env), () => inflight--, env.outgoing);
 * ```
 */
export function onBodyDone(res: Response, done: () => void, outgoing?: ServerResponse): Response {
  let called = false;
  const finish = () => {
    if (called) return;
    called = true;
    done();
  };
  if (!isEventStream(res)) {
    finish();
    return res;
  }
  // Served by Node: the response's own `close` (sent in full, or the client left); no stream wrapping.
  if (outgoing) {
    if (outgoing.closed) finish();
    else outgoing.once("close", finish);
    return res;
  }
  const body = res.body;
  if (!body) {
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
