/** Resolves a request's `model` to a served model the caller may use. */
import type { Context } from "hono";
import { forbidden, modelNotFound } from "../../errors.js";
import type { ServedModel } from "../../router/index.js";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";

export function resolveModelFor(c: Context<AppEnv>, deps: GatewayDeps, name: string): ServedModel {
  const model = deps.registry.resolve(name);
  if (!model) throw modelNotFound(name);
  const allowed = c.get("principal").allowedModels;
  if (allowed && !allowed.includes(model.config.name)) throw forbidden(`This API key may not use model '${name}'.`);
  return model;
}
