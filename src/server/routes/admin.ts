/**
 * `POST /v1/admin/reload`: applies the config again from its source (as SIGHUP does). Admin only.
 * 200 with the new config version and which models were started, kept and retired; a config that
 * fails validation (or changes a restart-only key) is a 400 `invalid_config` naming the key, and the
 * running config stays.
 */
import { Hono } from "hono";
import { errorBody, forbidden, invalidRequest, unavailable } from "../../errors.js";
import { ConfigError } from "../../config/index.js";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";

/**
 * @example
 * ```ts
 * app.route("/", adminRoutes(deps));
 * // curl -X POST -H "Authorization: Bearer $ADMIN_KEY" http://127.0.0.1:8080/v1/admin/reload
 * ```
 */
export function adminRoutes({ reload }: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/v1/admin/reload", async (c) => {
    if (!c.get("principal").admin) return c.json(errorBody(forbidden("Reloading the config needs an admin API key.", "admin_required")), 403);
    if (!reload) throw unavailable("This gateway cannot reload its config.");
    try {
      return c.json(await reload());
    } catch (err) {
      if (err instanceof ConfigError) throw invalidRequest(err.message, { code: "invalid_config" });
      throw err;
    }
  });
  return app;
}
