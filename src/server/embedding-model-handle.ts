/**
 * Adapts a served model (router registry) to what retrieval's embedder choice
 * needs (src/rag/embedder-choice.ts).
 */
import type { EmbeddingModelHandle } from "../rag/index.js";
import type { ModelRegistry } from "../router/index.js";

/** The handle for a configured model name, or `undefined` when none is named so. */
export function registryModelHandle(registry: ModelRegistry, name: string): EmbeddingModelHandle | undefined {
  const served = registry.resolve(name);
  if (served === undefined) return undefined;
  return {
    file: served.config.file ?? served.config.upstreamModel ?? served.config.name,
    identity: served.identity,
    tiny: served.tiny,
    embed: async (texts) => (await served.pool.embed(texts)).vectors,
  };
}
