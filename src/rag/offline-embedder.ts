/**
 * The embedders that need no model file: `hashing` (lexical feature hashing),
 * `sif` (SIF-weighted static word vectors) and `sif+hashing` (both,
 * concatenated with equal weight: the default, chosen on the evals recorded in
 * BENCHMARKS.md, "Retrieval").
 */
import type { EmbedPurpose, Embedder } from "./embedder.js";
import { HashingEmbedder } from "./hashing-embedder.js";
import { ConcatEmbedder, SifEmbedder, sifEmbedderId } from "./sif-embedder.js";
import { loadWordVectors, wordVectorsId } from "./word-vectors.js";

export type OfflineEmbedderKind = "hashing" | "sif" | "sif+hashing";

export const OFFLINE_EMBEDDER_KINDS: readonly OfflineEmbedderKind[] = ["sif+hashing", "sif", "hashing"];

export interface OfflineEmbedderOptions {
  /** Default `sif+hashing`. */
  kind?: OfflineEmbedderKind;
  /** Where the word-vector cache is kept (config `rag.embeddingCacheDir`); unused by `hashing`. */
  cacheDir: string;
  /** Most frequent words with vectors. Default 100,000. */
  maxWords?: number;
}

/** An embedder whose id is known now and whose model loads on first use (or on {@link warm}). */
export interface LazyEmbedder extends Embedder {
  /** Loads now; resolves when ready, rejects when loading failed (the next call retries). */
  warm(): Promise<void>;
}

/**
 * Builds an offline embedder. Its id is known at once; the word vectors load
 * on the first `embed` (or `warm()`): about 0.1 s from the cache, 15-40 s the
 * first time per cache directory (converting the npm package, see
 * word-vectors.ts).
 *
 * @example
 * ```ts
 * const embedder = createOfflineEmbedder({ cacheDir: "./data/embeddings" });
 * void embedder.warm(); // convert or read the vectors in the background
 * ```
 */
export function createOfflineEmbedder(options: OfflineEmbedderOptions): LazyEmbedder {
  const kind = options.kind ?? "sif+hashing";
  const maxWords = options.maxWords ?? 100_000;
  const hashing = new HashingEmbedder();
  if (kind === "hashing") return Object.assign(hashing, { warm: () => Promise.resolve() });
  const sifId = sifEmbedderId(wordVectorsId(maxWords));
  const concat = (sif: Embedder): ConcatEmbedder =>
    new ConcatEmbedder([
      { embedder: sif, weight: 1 },
      { embedder: hashing, weight: 1 },
    ]);
  let ready: Promise<Embedder> | undefined;
  const load = (): Promise<Embedder> => {
    ready ??= loadWordVectors({ cacheDir: options.cacheDir, maxWords }).then((vectors) => {
      const sif = new SifEmbedder({ vectors });
      return kind === "sif" ? sif : concat(sif);
    });
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  };
  // The id of the loaded embedder, computed without loading (checked on load).
  const id = kind === "sif" ? sifId : concat({ id: sifId, embed: () => Promise.resolve([]) }).id;
  return {
    id,
    warm: async () => {
      await load();
    },
    embed: async (texts: string[], purpose?: EmbedPurpose) => {
      const embedder = await load();
      if (embedder.id !== id) throw new Error(`offline embedder id changed on load: ${embedder.id} ≠ ${id}`);
      return embedder.embed(texts, purpose);
    },
  };
}
