/**
 * The retrieval embedder: a configured model's shards (`rag.embeddingModel`,
 * e.g. a bge-small GGUF), or the default chat model's, with a warning that
 * retrieval then rests mainly on full-text search.
 */
import type { Embedder } from "../../rag/index.js";
import type { ModelRegistry } from "../../router/index.js";
import type { Logger } from "../../telemetry/logger.js";

export function registryEmbedder(registry: ModelRegistry, embeddingModel: string | undefined, logger: Logger): Embedder {
  const name = embeddingModel ?? registry.defaultModel;
  const served = registry.resolve(name);
  if (!served) throw new Error(`rag.embeddingModel: no model is named '${name}'`);
  if (!embeddingModel) {
    logger.warn(
      { model: name },
      "no rag.embeddingModel configured: retrieval embeds with the default chat model, whose vectors are weak; hybrid search then rests mainly on full-text (BM25). See models/README.md for embedding models.",
    );
  }
  return {
    id: `gguf:${served.identity}`,
    embed: async (texts) => (await served.pool.embed(texts)).vectors,
  };
}
