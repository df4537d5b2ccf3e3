/**
 * Request fields a wire API defines that cannot change a local model's output
 * (`prompt_cache_key`, `safety_identifier`, `service_tier`, ...): accepted,
 * listed in the `x-switchyard-ignored-params` response header and logged at
 * debug level, so a client can see what had no effect.
 */
import type { Context } from "hono";
import type { Logger } from "../../telemetry/logger.js";
import type { AppEnv } from "./env.js";

export const IGNORED_PARAMS_HEADER = "x-switchyard-ignored-params";

/**
 * @example
 * ```ts
 * reportIgnoredParams(c, logger, ["prompt_cache_key"]); // x-switchyard-ignored-params: prompt_cache_key
 * ```
 */
export function reportIgnoredParams(c: Context<AppEnv>, logger: Logger, names: readonly string[]): void {
  if (names.length === 0) return;
  c.header(IGNORED_PARAMS_HEADER, names.join(","));
  logger.debug({ requestId: c.get("requestId"), ignored: names }, "ignored request fields");
}
