/**
 * The LanceDB table layout for a collection: one row per chunk, all tenants of
 * the collection in one table, isolated by the `tenant` column that every
 * query filters on.
 */
import { DataType, Field, FixedSizeList, Float32, Int32, List, Schema, Utf8 } from "apache-arrow";
import type { Chunk } from "./document.js";
import { metadataEntries } from "./filters.js";

/** Schema-level metadata keys (stored in the Lance manifest with the schema). */
export const SCHEMA_VERSION_KEY = "switchyard.rag.schema";
export const EMBEDDER_KEY = "switchyard.rag.embedder";
export const SCHEMA_VERSION = "1";

/** Name of the full-text (BM25) index LanceDB gives an index on `text`. */
export const FTS_INDEX_NAME = "text_idx";

/** One stored chunk, as written to LanceDB. */
export interface ChunkRow extends Record<string, unknown> {
  vector: number[];
  text: string;
  chunk_id: string;
  document_id: string;
  title: string;
  source: string;
  position: number;
  /** Hash of the whole document's content (same on each of its chunks). */
  content_hash: string;
  /** The document's metadata as JSON. */
  metadata: string;
  /** `key=value` entries for in-query metadata filters (see filters.ts). */
  metadata_kv: string[];
  tenant: string;
}

/**
 * The Arrow schema for a collection whose vectors have `dimension` floats.
 *
 * @example
 * ```ts
 * const schema = collectionSchema(384, "hashing-v1:d384:b0.5:sw1:st1");
 * ```
 */
export function collectionSchema(dimension: number, embedderId: string): Schema {
  const utf8 = (name: string): Field => new Field(name, new Utf8(), false);
  return new Schema(
    [
      new Field("vector", new FixedSizeList(dimension, new Field("item", new Float32(), true)), false),
      utf8("text"),
      utf8("chunk_id"),
      utf8("document_id"),
      utf8("title"),
      utf8("source"),
      new Field("position", new Int32(), false),
      utf8("content_hash"),
      utf8("metadata"),
      new Field("metadata_kv", new List(new Field("item", new Utf8(), true)), false),
      utf8("tenant"),
    ],
    new Map([
      [SCHEMA_VERSION_KEY, SCHEMA_VERSION],
      [EMBEDDER_KEY, embedderId],
    ]),
  );
}

/** What a collection's schema says about how it was built. */
export interface CollectionInfo {
  embedderId: string;
  dimension: number;
}

/**
 * Reads embedder id and vector dimension back from a stored schema; `undefined`
 * for a table that is not a Switchyard collection.
 */
export function collectionInfo(schema: Schema): CollectionInfo | undefined {
  if (schema.metadata.get(SCHEMA_VERSION_KEY) === undefined) return undefined;
  const vector = schema.fields.find((f) => f.name === "vector");
  // DataType.is* checks the type id, so it also holds across duplicate apache-arrow copies.
  if (vector === undefined || !DataType.isFixedSizeList(vector.type)) return undefined;
  return { embedderId: schema.metadata.get(EMBEDDER_KEY) ?? "", dimension: vector.type.listSize };
}

/**
 * The stored row for a chunk.
 *
 * @example
 * ```ts
 * const row = chunkRow("acme", chunk, vector, hash);
 * ```
 */
export function chunkRow(tenant: string, chunk: Chunk, vector: number[], contentHash: string): ChunkRow {
  return {
    vector,
    text: chunk.text,
    chunk_id: chunk.chunkId,
    document_id: chunk.documentId,
    title: chunk.title,
    source: chunk.source,
    position: chunk.position,
    content_hash: contentHash,
    metadata: JSON.stringify(chunk.metadata),
    metadata_kv: metadataEntries(chunk.metadata),
    tenant,
  };
}
