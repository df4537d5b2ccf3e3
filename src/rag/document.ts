/**
 * The shapes that flow through ingestion: a source document as callers give
 * it, and the chunks it is cut into before embedding and storage.
 */

/**
 * A document to ingest. `id` is the upsert key within a (tenant, collection).
 *
 * @example
 * ```ts
 * const doc: RagDocument = { id: "refunds.md", text: "# Refunds\nWe refund within 14 days.", source: "kb/refunds.md" };
 * ```
 */
export interface RagDocument {
  id: string;
  text: string;
  title?: string;
  /** Where it came from (path, URL); shown in citations. */
  source?: string;
  /** Any JSON object; scalar values (and arrays of scalars) are filterable, see filters.ts. */
  metadata?: Record<string, unknown>;
  /**
   * How to split the text. Defaults to `markdown` when `source` (or `id`) ends
   * in `.md`/`.markdown`, else `text`.
   */
  format?: "markdown" | "text";
  /**
   * Questions this document is known to answer (a support answer's customer
   * phrasings). Each is indexed as a row of its own (vector and full text);
   * a search that matches one returns the document's first chunk, so
   * questions in users' words find the answer. At most
   * {@link MAX_QUESTIONS_PER_DOCUMENT}.
   */
  questions?: string[];
}

/** Upper bound on `RagDocument.questions`. */
export const MAX_QUESTIONS_PER_DOCUMENT = 1_000;

/** One stored piece of a document. */
export interface Chunk {
  /** `${documentId}#${position}`. */
  chunkId: string;
  documentId: string;
  /** 0-based chunk index within the document, after near-duplicates are dropped; −1, −2, … for known questions. */
  position: number;
  text: string;
  title: string;
  source: string;
  metadata: Record<string, unknown>;
}

/** Counts returned by an upsert and reported by its progress callback. */
export interface UpsertResult {
  /** Documents that were not in the collection before. */
  inserted: number;
  /** Documents whose content changed: their chunks were replaced. */
  updated: number;
  /** Documents whose content hash matched: skipped. */
  unchanged: number;
  /** Chunks written (inserted + updated documents). */
  chunks: number;
}

/** Progress after each committed write batch. */
export interface UpsertProgress extends UpsertResult {
  /** Documents processed so far (committed or skipped). */
  done: number;
  total: number;
  /** Ids committed by the batch that just finished (not the skipped ones). */
  committedIds: string[];
}
