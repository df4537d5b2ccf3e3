/**
 * Which embedder retrieval uses: a configured embedding model, used the way
 * its model card says; otherwise the offline embedder. Never a chat model
 * unless the config names it explicitly, never the generated tiny model
 * (random weights: its vectors are noise that drags hybrid search down).
 */
import type { Embedder } from "./embedder.js";
import { isEmbeddingModelName, modelCardEmbedder } from "./embedding-models.js";
import { createOfflineEmbedder, type LazyEmbedder, type OfflineEmbedderKind } from "./offline-embedder.js";

/** What the choice needs to know about a served model. */
export interface EmbeddingModelHandle {
  /** Its file (path or `hf:` URI) or upstream model name: the model card family is read from it. */
  file: string;
  /** Identity of the weights (part of the embedder id, so changed weights make a new id). */
  identity: string;
  /** Serving the generated tiny model. */
  tiny: boolean;
  embed(texts: string[]): Promise<number[][]>;
}

export interface ChooseEmbedderOptions {
  /** Config `rag.embeddingModel`: a configured model's name; unset = the offline embedder. */
  embeddingModel: string | undefined;
  /** Looks a configured model up by name. */
  resolve(name: string): EmbeddingModelHandle | undefined;
  /** Config `rag.offlineEmbedder`. Default `sif+hashing`. */
  offlineKind?: OfflineEmbedderKind;
  /** Config `rag.embeddingCacheDir`. */
  cacheDir: string;
  warn(fields: Record<string, unknown>, msg: string): void;
}

export interface ChosenEmbedder {
  embedder: Embedder;
  /** `model` when a configured model embeds, else the offline kind. */
  source: "model" | OfflineEmbedderKind;
  /** Loads the offline embedder's vectors now (a no-op for models). */
  warm(): Promise<void>;
}

function configError(message: string): Error {
  return new Error(`rag.embeddingModel: ${message}`);
}

/**
 * Picks the retrieval embedder (see the module comment). Throws when
 * `embeddingModel` names no configured model or the tiny model.
 *
 * @example
 * ```ts
 * const { embedder, warm } = chooseEmbedder({
 *   embeddingModel: config.rag.embeddingModel,
 *   resolve: (name) => registry.resolve(name) && { file, identity, tiny, embed },
 *   cacheDir: embeddingCacheDir(config),
 *   warn: (f, m) => logger.warn(f, m),
 * });
 * void warm();
 * ```
 */
export function chooseEmbedder(options: ChooseEmbedderOptions): ChosenEmbedder {
  const name = options.embeddingModel;
  if (name === undefined || name.length === 0) {
    const kind = options.offlineKind ?? "sif+hashing";
    const embedder: LazyEmbedder = createOfflineEmbedder({ kind, cacheDir: options.cacheDir });
    return { embedder, source: kind, warm: () => embedder.warm() };
  }
  const model = options.resolve(name);
  if (model === undefined) throw configError(`no model is named '${name}'.`);
  if (model.tiny) {
    throw configError(
      `'${name}' is served by the generated tiny model (random weights); its vectors carry no meaning. ` +
        "Configure a real embedding GGUF (models/README.md) or leave rag.embeddingModel unset for the offline embedder.",
    );
  }
  if (!isEmbeddingModelName(model.file) && !isEmbeddingModelName(name)) {
    options.warn(
      { model: name, file: model.file },
      "rag.embeddingModel does not look like an embedding model; a chat model's vectors retrieve poorly (models/README.md lists embedding models)",
    );
  }
  const raw: Embedder = { id: `gguf:${model.identity}`, embed: (texts) => model.embed(texts) };
  return { embedder: modelCardEmbedder(raw, model.file), source: "model", warm: () => Promise.resolve() };
}
