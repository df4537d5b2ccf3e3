/**
 * The HTTP side of a graceful shutdown ({@link RequestDrain}): counts every
 * request until its body was sent, refuses new API requests (`/v1/*`) with a
 * 503 and `Retry-After` once draining started, and hands the drain deadline to
 * the request as the `shutdown` context variable (the generation pipeline ends
 * streams and queued requests when it aborts).
 */
import type { MiddlewareHandler } from "hono";
import { whenResponseDone } from "../../../util/response-done.js";
import { nodeBindings } from "../../../util/node-bindings.js";
import type { AppEnv } from "../env.js";
import type { RequestDrain } from "../drain.js";

export interface DrainVariables {
  /**
   * Aborts at the drain deadline of a shutdown, with the GatewayError the request then ends with as
   * its reason (503 + `Retry-After`); absent when the app runs without a drain (tests).
   */
  shutdown: AbortSignal | undefined;
}

export interface DrainGateOptions {
  drain: RequestDrain;
  /** Paths refused while draining. Default: the API, `/v1/` (health, metrics and the UI still answer). */
  refuses?: (path: string) => boolean;
}

/**
 * Mount after the API's error envelope is chosen (Anthropic's on `/v1/messages`), before auth.
 *
 * @example
 * ```ts
 * app.use(drainGate({ drain }));
 * ```
 */
export function drainGate({ drain, refuses = (path) => path.startsWith("/v1/") }: DrainGateOptions): MiddlewareHandler<AppEnv> {
  return async function drainGateMiddleware(c, next) {
    if (drain.draining && refuses(c.req.path)) {
      // The client should take its retry elsewhere: this connection is not kept.
      c.header("connection", "close");
      throw drain.refusal();
    }
    const release = drain.enter();
    c.set("shutdown", drain.signal);
    // Under node:http the response's `close` (sent in full, or the connection gone) ends the count, with
    // no wrapper around a stream's body; elsewhere (`app.request()`) the body is watched instead.
    const node = nodeBindings(c);
    if (node?.outgoing.destroyed) release(); // the client is already gone: nothing left to drain
    else node?.outgoing.once("close", release);
    try {
      await next();
    } catch (err) {
      release();
      throw err;
    }
    if (!node) whenResponseDone(c, release);
  };
}
