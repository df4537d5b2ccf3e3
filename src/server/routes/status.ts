/**
 * `GET /v1/status`: a JSON snapshot of the gateway for the operator console
 * (pools, shards, queue, response cache). Admin only (`principal.admin`, set
 * by `auth`; every request is admin in open local mode): the snapshot names
 * shards and load, which tenants need not see.
 */
import { Hono } from "hono";
import { errorBody, forbidden } from "../../errors.js";
import type { CacheCounters, CacheStoreStats } from "../../cache/index.js";
import type { PoolSnapshot } from "../../router/index.js";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import type { ConfigVersion } from "../config-reload.js";

/** The body of `GET /v1/status`. */
export interface StatusBody {
  models: PoolSnapshot[];
  /** `null` when the gateway runs without a response cache. */
  cache: { counters: CacheCounters; stats: CacheStoreStats } | null;
  /** Seconds since this route (and so the app) was created. */
  uptimeSeconds: number;
  /**
   * Completion tokens generated since start, when a counter was wired in
   * (see {@link StatusRouteOptions.completionTokens}); `null` otherwise, so a
   * client knows tokens/s cannot be derived rather than reading it as zero.
   */
  completionTokens: number | null;
  /** The config served: version (1 at start, +1 per applied reload), hash, when applied; null outside a gateway. */
  config?: ConfigVersion | null;
}

export interface StatusRouteOptions {
  /**
   * Monotonic count of completion tokens since start, e.g.
   * `GatewayMetrics.completionTokensTotal`, so the console's tokens/s cannot drift from `/metrics`.
   */
  completionTokens?: () => number | null | Promise<number | null>;
  /** Clock in ms, injectable for tests. */
  now?: () => number;
}

/**
 * @example
 * ```ts
 * app.use("/v1/*", auth({ records }));
 * app.route("/", statusRoutes(deps));
 * // curl -H "Authorization: Bearer $ADMIN_KEY" http://127.0.0.1:8080/v1/status
 * ```
 */
export function statusRoutes(deps: GatewayDeps, options: StatusRouteOptions = {}): Hono<AppEnv> {
  const { registry, cache } = deps;
  const now = options.now ?? Date.now;
  const startedAt = now();

  const app = new Hono<AppEnv>();
  app.get("/v1/status", async (c) => {
    if (!c.get("principal").admin) {
      return c.json(errorBody(forbidden("The status endpoint needs an admin API key.", "admin_required")), 403);
    }
    const body: StatusBody = {
      models: registry.snapshot(),
      cache: cache ? { counters: cache.counters(), stats: cache.stats() } : null,
      uptimeSeconds: Math.round((now() - startedAt) / 100) / 10,
      completionTokens: (await options.completionTokens?.()) ?? null,
      config: deps.configVersion ?? null,
    };
    c.header("cache-control", "no-store");
    return c.json(body);
  });
  return app;
}
