/** `GET /v1/models` and `GET /v1/models/{id}`. */
import { Hono } from "hono";
import { modelNotFound } from "../../errors.js";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import type { ServedModel } from "../../router/index.js";

/**
 * vLLM's model-card fields: `root` is the served model behind an alias; an adapter alias (a LoRA) has its base
 * as `parent`, as vLLM lists LoRA modules. Extension `state`: `loaded`, `loading` or `unloaded` (shards
 * stopping count as unloaded; a request loads the model again, see config `models[].load`).
 */
function modelObject(id: string, m: ServedModel) {
  const load = m.pool.loadState;
  const state = load === "loaded" || load === "loading" ? load : "unloaded";
  return { id, object: "model", created: m.created, owned_by: "switchyard", root: m.base ?? m.config.name, parent: m.base ?? null, state };
}

export function modelsRoutes({ registry }: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/v1/models", (c) => {
    const principal = c.get("principal");
    const data = registry.names
      .filter(({ id }) => registry.allows(principal.allowedModels, id))
      .map(({ id, model }) => modelObject(id, model));
    return c.json({ object: "list", data });
  });
  // Model ids may contain slashes (e.g. `org/model`).
  app.get("/v1/models/:id{.+}", (c) => {
    const id = c.req.param("id");
    const model = registry.resolve(id);
    const principal = c.get("principal");
    if (!model || !registry.allows(principal.allowedModels, id)) throw modelNotFound(id);
    return c.json(modelObject(id, model));
  });
  return app;
}
