/**
 * OpenAI's files and vector-store API over collections (see service.ts).
 */
export {
  VectorStoreService,
  FILE_PURPOSES,
  fileDocuments,
  toSearchFilter,
  type VectorStoreServiceOptions,
  type FilePurpose,
  type Attributes,
  type AttributeFilter,
  type FileObject,
  type FileCounts,
  type VectorStoreObject,
  type VectorStoreFileObject,
  type VectorStoreFileBatchObject,
  type SearchResultItem,
  type SearchResultsPage,
  type ListPage,
  type ListOptions,
} from "./service.js";
export type { FileStatus } from "./state.js";
