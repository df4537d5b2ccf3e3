/**
 * How embedding GGUFs want to be used, per their model cards: which text goes
 * before queries and passages, and whether the output must be L2-normalised.
 * Pooling (CLS for bge, mean for e5/nomic/gte) is stored in the GGUF
 * (`<arch>.pooling_type`) and applied by llama.cpp; truncation to the model's
 * context happens where the model is loaded (the engine's embed).
 *
 * Also: which models are embedding models at all. A chat model's hidden
 * states make poor retrieval vectors, so they are only used when the config
 * says so explicitly (`rag.embeddingModel` naming it).
 */
import type { EmbedPurpose, Embedder } from "./embedder.js";
import { unitVector } from "./sif-embedder.js";

/** Model-card usage of one embedding model family. */
export interface EmbeddingFamily {
  /** Family name, shown in logs and embedder ids. */
  name: string;
  /** Lower-cased file or model name contains one of these. */
  match: RegExp;
  queryPrefix: string;
  documentPrefix: string;
}

/** Families from their model cards (Hugging Face), most specific first. */
export const EMBEDDING_FAMILIES: readonly EmbeddingFamily[] = [
  // nomic-ai/nomic-embed-text-v1.5: "search_query: " / "search_document: ", mean pooling, normalise.
  { name: "nomic-embed", match: /nomic-embed/, queryPrefix: "search_query: ", documentPrefix: "search_document: " },
  // intfloat/e5-*-v2 and multilingual-e5-*: "query: " / "passage: ", mean pooling, normalise.
  { name: "e5", match: /(^|[^a-z])e5-/, queryPrefix: "query: ", documentPrefix: "passage: " },
  // BAAI/bge-*-en-v1.5: the query instruction for short-query → passage retrieval, CLS pooling, normalise.
  {
    name: "bge",
    match: /bge-(small|base|large)/,
    queryPrefix: "Represent this sentence for searching relevant passages: ",
    documentPrefix: "",
  },
  // mixedbread-ai/mxbai-embed-large-v1 and Snowflake arctic-embed: the same query instruction as bge.
  {
    name: "mxbai/arctic",
    match: /mxbai-embed|arctic-embed/,
    queryPrefix: "Represent this sentence for searching relevant passages: ",
    documentPrefix: "",
  },
  // thenlper/gte-*, Alibaba gte, all-MiniLM / sentence-transformers: no prefixes, mean pooling, normalise.
  { name: "gte/minilm", match: /gte-|minilm|mpnet|sentence-t/, queryPrefix: "", documentPrefix: "" },
];

/** The family of a model file or name, or `undefined` when it is not a known embedding model. */
export function embeddingFamily(modelName: string): EmbeddingFamily | undefined {
  const name = modelName.toLowerCase();
  return EMBEDDING_FAMILIES.find((f) => f.match.test(name));
}

/** Whether the name looks like an embedding model (a known family, or "embed" in its name). */
export function isEmbeddingModelName(modelName: string): boolean {
  return embeddingFamily(modelName) !== undefined || /embed/i.test(modelName);
}

/**
 * Wraps a raw model embedder: adds the family's query/document prefixes and
 * L2-normalises the output. Unknown families get no prefixes (still
 * normalised). The id names the family, so a collection built without
 * prefixes is not mixed with one built with them.
 *
 * @example
 * ```ts
 * const e = modelCardEmbedder(shardEmbedder, "nomic-embed-text-v1.5.Q8_0.gguf");
 * await e.embed(["refund"], "query"); // embeds "search_query: refund"
 * ```
 */
export function modelCardEmbedder(raw: Embedder, modelName: string): Embedder {
  const family = embeddingFamily(modelName);
  const prefix = (purpose: EmbedPurpose | undefined): string =>
    family === undefined ? "" : purpose === "query" ? family.queryPrefix : family.documentPrefix;
  return {
    id: `${raw.id}${family === undefined ? "" : `:card-${family.name}`}:l2`,
    embed: async (texts, purpose) => {
      const p = prefix(purpose);
      const vectors = await raw.embed(p.length === 0 ? texts : texts.map((t) => `${p}${t}`), purpose);
      return vectors.map(unitVector);
    },
  };
}
