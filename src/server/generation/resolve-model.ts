/** Resolves a request's `model` to a served model the caller may use, and guards retrieval by the same per-key list. */
import type { Context } from "hono";
import { forbidden, modelNotFound } from "../../errors.js";
import type { ServedModel } from "../../router/index.js";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";

/** The served model for `name`: 404 when none, 403 when the key's `models` list does not allow it (names, aliases and bots match). */
export function resolveModelFor(c: Context<AppEnv>, deps: GatewayDeps, name: string): ServedModel {
  const model = deps.registry.resolve(name);
  if (!model) throw modelNotFound(name);
  if (!deps.registry.allows(c.get("principal").allowedModels, name)) throw forbidden(`This API key may not use model '${name}'.`);
  return model;
}

/**
 * Retrieval (ingest, search, grounding) runs the configured embedding model
 * (`rag.embeddingModel`): a key whose `models` list does not allow it gets a
 * 403. The offline embedder (no embedding model configured) is no model and
 * needs no permission.
 *
 * @example
 * ```ts
 * requireRetrievalAccess(c.get("principal").allowedModels, deps); // before rag.search(...)
 * ```
 */
export function requireRetrievalAccess(allowed: readonly string[] | undefined, deps: Pick<GatewayDeps, "config" | "registry">): void {
  const embeddingModel = deps.config.rag.embeddingModel;
  if (embeddingModel === undefined || embeddingModel.length === 0) return;
  if (!deps.registry.allows(allowed, embeddingModel)) {
    throw forbidden(`This API key may not use model '${embeddingModel}', the embedding model that retrieval runs.`);
  }
}
