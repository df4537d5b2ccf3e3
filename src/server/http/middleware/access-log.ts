/**
 * The access log and the `x-switchyard-overhead-ms` header (gateway time
 * minus the time inside the model), plus the defaults of the per-request
 * variables the later middleware refine (`principal`, `modelMs`).
 */
import type { MiddlewareHandler } from "hono";
import type { Principal } from "../../../types.js";
import type { Logger } from "../../../telemetry/logger.js";
import type { AppEnv } from "../env.js";

export interface AccessLogOptions {
  logger: Logger;
  /** The principal of a request no auth middleware saw (`/healthz`, a refused key). */
  defaultPrincipal: Principal;
}

/**
 * @example
 * ```ts
 * app.use(accessLog({ logger, defaultPrincipal: OPEN_PRINCIPAL }));
 * ```
 */
export function accessLog({ logger, defaultPrincipal }: AccessLogOptions): MiddlewareHandler<AppEnv> {
  return async function accessLogMiddleware(c, next) {
    const started = performance.now();
    c.set("principal", defaultPrincipal);
    c.set("modelMs", 0);
    await next();
    const ms = performance.now() - started;
    c.header("x-switchyard-overhead-ms", Math.max(0, ms - c.get("modelMs")).toFixed(2));
    logger.info(
      { requestId: c.get("requestId"), method: c.req.method, path: c.req.path, status: c.res.status, tenant: c.get("principal").tenant, durationMs: Math.round(ms) },
      "request",
    );
  };
}
