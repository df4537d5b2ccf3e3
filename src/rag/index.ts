/**
 * Retrieval: ingestion (loaders, LangChain splitters, embeddings), LanceDB
 * storage with tenant isolation, vector / full-text / hybrid search, grounded
 * prompts with citations.
 */
export { GgufReranker, NotARerankerError, rerank, type GgufRerankerOptions, type Reranker } from "./reranker.js";
export { RagService, DEFAULT_FUSION, DEFAULT_RERANK_TOP_N, DEFAULT_VECTOR_INDEX_THRESHOLD, DEFAULT_VECTOR_INDEX_TYPE, type RagServiceOptions, type SearchObservation } from "./service.js";
export { DEFAULT_IVF_SETTINGS, type IvfSettings, type VectorIndexStatus, type VectorIndexType, VECTOR_INDEX_NAME, VECTOR_INDEX_TYPES } from "./store.js";
export { type RagDocument, type Chunk, type UpsertResult, type UpsertProgress, MAX_QUESTIONS_PER_DOCUMENT } from "./document.js";
export { type Embedder, type EmbedPurpose, embedInBatches } from "./embedder.js";
export { SifEmbedder, ConcatEmbedder, unitVector, type SifEmbedderOptions, type WeightedEmbedder } from "./sif-embedder.js";
export { loadWordVectors, type WordVectors, type WordVectorsOptions } from "./word-vectors.js";
export {
  createOfflineEmbedder,
  OFFLINE_EMBEDDER_KINDS,
  type OfflineEmbedderKind,
  type OfflineEmbedderOptions,
  type LazyEmbedder,
} from "./offline-embedder.js";
export { chooseEmbedder, type ChooseEmbedderOptions, type ChosenEmbedder, type EmbeddingModelHandle } from "./embedder-choice.js";
export { ragServiceFromConfig, embeddingCacheDir, type RagFromConfigOptions } from "./from-config.js";
export {
  EMBEDDING_FAMILIES,
  embeddingFamily,
  isEmbeddingModelName,
  modelCardEmbedder,
  type EmbeddingFamily,
} from "./embedding-models.js";
export { HashingEmbedder, type HashingEmbedderOptions } from "./hashing-embedder.js";
export { Chunker, isMarkdown, type ChunkerOptions } from "./chunker.js";
export { contentHash, validateDocuments } from "./ingest.js";
export { type SearchRequest, type SearchMode, SEARCH_MODES, MAX_TOP_K, MAX_QUERY_LENGTH } from "./search.js";
export { type SearchFilter, filterPredicate, metadataEntries } from "./filters.js";
export { reciprocalRankFusion, weightedFusion, FUSION_METHODS, type Fused, type FusionOptions } from "./fusion.js";
export { Calibration, type VectorSignal } from "./vector-gate.js";
export {
  buildGroundedMessages,
  citationsFor,
  formatSources,
  neutralizeDelimiters,
  noAnswerText,
  NO_ANSWER_TEXT,
  DEFAULT_SYSTEM_PROMPT,
  type GroundingOptions,
} from "./prompt.js";
export { retrievalQuery } from "./retrieval-query.js";
export { SwitchyardRetriever, type SwitchyardRetrieverInput, type SwitchyardDocumentMetadata } from "./langchain-retriever.js";
export {
  assertCollectionName,
  assertTenant,
  COLLECTION_PATTERN,
  TENANT_PATTERN,
  sqlString,
} from "./names.js";
export {
  markdownDocument,
  textDocument,
  htmlDocument,
  jsonlDocuments,
  csvDocuments,
  loadFile,
  loadDirectory,
  LOADABLE_EXTENSIONS,
  type JsonlOptions,
  type CsvOptions,
  type LoadOptions,
  type FileIdentity,
} from "./loaders/index.js";
