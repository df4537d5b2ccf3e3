/** `GET /healthz` (liveness) and `GET /readyz` (every model has a ready shard, not draining). */
import { Hono } from "hono";
import { errorBody, unavailable } from "../../errors.js";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";

export function healthRoutes({ registry, drain }: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    if (drain?.draining) return c.json(errorBody(unavailable("The server is shutting down.")), 503);
    if (!registry.ready) {
      const waiting = registry.models.filter((m) => !m.pool.ready).map((m) => m.config.name);
      return c.json(errorBody(unavailable(`Not ready: no ready shard yet for ${waiting.join(", ")}.`)), 503);
    }
    return c.json({ status: "ready", models: registry.models.map((m) => m.config.name) });
  });
  return app;
}
