/** Response headers set by middleware after `next()`. */
import type { Context } from "hono";

/**
 * Sets a header on the response a handler already returned, on that
 * response's own headers: `c.header()` at that point makes Hono copy the
 * response (`new Response(res.body, res)`), which turns @hono/node-server's
 * lightweight response into a stream it writes on its slow path.
 *
 * @example
 * ```ts
 * await next();
 * setHeaderAfterNext(c, "x-switchyard-overhead-ms", "0.42");
 * ```
 */
export function setHeaderAfterNext(c: Context, name: string, value: string): void {
  if (c.finalized) c.res.headers.set(name, value);
  else c.header(name, value);
}
