/**
 * The access log and the `x-switchyard-overhead-ms` header (gateway time
 * minus the time inside the model), plus the defaults of the per-request
 * variables the later middleware refine (`principal`, `modelMs`).
 *
 * Cheap on the hot path: the header goes onto the finished response's own
 * headers (never `c.header()` after `next()`, which makes Hono rebuild the
 * response and @hono/node-server take its slow write path), and successful
 * requests are logged at a sampled rate (config
 * `telemetry.accessLogSampleRate`); errors (status ≥ 400, thrown) always are.
 */
import type { MiddlewareHandler } from "hono";
import type { Principal } from "../../../types.js";
import type { Logger } from "../../../telemetry/logger.js";
import type { AppEnv } from "../env.js";
import { setHeaderAfterNext } from "../response-headers.js";

export interface AccessLogOptions {
  logger: Logger;
  /** The principal of a request no auth middleware saw (`/healthz`, a refused key). */
  defaultPrincipal: Principal;
  /**
   * Share of successful (status < 400) requests logged, 0–1: `1` logs every
   * request, `0` none; errors are always logged. Default 1. Sampling draws
   * at random, so a logged line stands for about 1/rate requests.
   */
  sampleRate?: number;
  /** Random numbers in [0, 1) for sampling (tests pass a fixed sequence). Default `Math.random`. */
  random?: () => number;
}

/**
 * @example
 * ```ts
 * app.use(accessLog({ logger, defaultPrincipal: OPEN_PRINCIPAL, sampleRate: 0.05 }));
 * ```
 */
export function accessLog({ logger, defaultPrincipal, sampleRate = 1, random = Math.random }: AccessLogOptions): MiddlewareHandler<AppEnv> {
  const line = (c: Parameters<MiddlewareHandler<AppEnv>>[0], status: number, ms: number) =>
    logger.info(
      { requestId: c.get("requestId"), method: c.req.method, path: c.req.path, status, tenant: c.get("principal").tenant, durationMs: Math.round(ms), ...(sampleRate < 1 && status < 400 ? { sampleRate } : {}) },
      "request",
    );
  return async function accessLogMiddleware(c, next) {
    const started = performance.now();
    c.set("principal", defaultPrincipal);
    c.set("modelMs", 0);
    await next();
    const ms = performance.now() - started;
    setHeaderAfterNext(c, "x-switchyard-overhead-ms", Math.max(0, ms - c.get("modelMs")).toFixed(2));
    const status = c.res.status;
    if (status >= 400 || (sampleRate > 0 && (sampleRate >= 1 || random() < sampleRate))) line(c, status, ms);
  };
}
