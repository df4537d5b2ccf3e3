/**
 * The Node request and response under a Hono context, when the app is served
 * by @hono/node-server (`c.env.incoming` / `c.env.outgoing`). Reading them
 * directly keeps the server's lightweight request: touching `c.req.raw`'s
 * body or signal builds a WHATWG `Request` (with a body stream and an
 * AbortController) for every request. Absent under `app.request()`, where
 * callers fall back to the WHATWG objects.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "hono";

export interface NodeBindings {
  incoming: IncomingMessage;
  outgoing: ServerResponse;
}

/**
 * @example
 * ```ts
 * const node = nodeBindings(c);
 * if (node) node.outgoing.once("close", onClose);
 * ```
 */
export function nodeBindings(c: Context): NodeBindings | undefined {
  const env: unknown = c.env;
  if (typeof env !== "object" || env === null || !("incoming" in env) || !("outgoing" in env)) return undefined;
  return env as NodeBindings;
}

/**
 * Calls `onGone` once if the client disconnects before the response is fully
 * sent (one `close` listener on the Node response); with no Node bindings,
 * listens to the WHATWG request's signal instead. Returns a function that
 * removes the listener.
 *
 * @example
 * ```ts
 * const stop = onClientGone(c, () => controller.abort());
 * ```
 */
export function onClientGone(c: Context, onGone: () => void): () => void {
  const node = nodeBindings(c);
  if (!node) {
    const signal = c.req.raw.signal;
    if (signal.aborted) {
      onGone();
      return () => undefined;
    }
    signal.addEventListener("abort", onGone, { once: true });
    return () => signal.removeEventListener("abort", onGone);
  }
  // Not the request: Node destroys it once its body has been read.
  const { outgoing } = node;
  const onClose = () => {
    if (!outgoing.writableFinished) onGone();
  };
  if (outgoing.destroyed) {
    onClose();
    return () => undefined;
  }
  outgoing.once("close", onClose);
  return () => outgoing.off("close", onClose);
}

/**
 * An AbortController aborted when the client disconnects before the response
 * is fully sent (`onClientGone`: one listener on the Node response, no WHATWG
 * `Request` built). Dispose it once the work it guards has settled.
 *
 * @example
 * ```ts
 * using abort = clientSignal(c);
 * const { vectors } = await pool.embed(texts, abort.signal);
 * ```
 */
export function clientSignal(c: Context): AbortController & Disposable {
  const controller = new AbortController();
  const stop = onClientGone(c, () => controller.abort());
  return Object.assign(controller, { [Symbol.dispose]: stop });
}
