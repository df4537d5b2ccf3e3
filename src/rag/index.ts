/**
 * Retrieval: ingestion (loaders, LangChain splitters, embeddings), LanceDB
 * storage with tenant isolation, vector / full-text / hybrid search, grounded
 * prompts with citations.
 */
export { RagService, type RagServiceOptions } from "./service.js";
export type { RagDocument, Chunk, UpsertResult, UpsertProgress } from "./document.js";
export { type Embedder, embedInBatches } from "./embedder.js";
export { HashingEmbedder, type HashingEmbedderOptions } from "./hashing-embedder.js";
export { Chunker, isMarkdown, type ChunkerOptions } from "./chunker.js";
export { contentHash, validateDocuments } from "./ingest.js";
export { type SearchRequest, type SearchMode, SEARCH_MODES, MAX_TOP_K, MAX_QUERY_LENGTH } from "./search.js";
export { type SearchFilter, filterPredicate, metadataEntries } from "./filters.js";
export { reciprocalRankFusion, type Fused } from "./fusion.js";
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
