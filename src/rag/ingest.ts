/**
 * Upserting documents into a collection: validate, skip what is unchanged,
 * chunk and embed the rest, and commit each batch of documents atomically.
 */
import { invalidRequest } from "../errors.js";
import type { Chunker } from "./chunker.js";
import { type Chunk, MAX_QUESTIONS_PER_DOCUMENT, type RagDocument, type UpsertProgress, type UpsertResult } from "./document.js";
import { type Embedder, embedInBatches } from "./embedder.js";
import { assertCollectionName, assertDocumentId, assertTenant } from "./names.js";
import { MAX_QUERY_LENGTH } from "./search.js";
import { type ChunkStore, embedderMismatch } from "./store.js";
import { type ChunkRow, chunkRow } from "./store-schema.js";
import { sha256Hex, stableStringify } from "./text.js";

export interface IngestSettings {
  store: ChunkStore;
  embedder: Embedder;
  chunker: Chunker;
  /** Part of every content hash: changing chunking re-chunks documents on their next upsert. */
  chunkSize: number;
  chunkOverlap: number;
  /** Documents per commit. Smaller = less lost on a crash, more table versions. */
  batchDocuments: number;
  /** Texts per `embedder.embed` call. */
  embedBatchSize: number;
}

/**
 * The content hash of a document: SHA-256 over its text, title, source,
 * metadata (keys sorted) and format, plus the chunking settings, since
 * different settings would store different chunks for the same content.
 *
 * @example
 * ```ts
 * contentHash({ id: "a", text: "x" }, 800, 100) === contentHash({ id: "a", text: "x" }, 800, 100); // true
 * ```
 */
export function contentHash(doc: RagDocument, chunkSize: number, chunkOverlap: number): string {
  return sha256Hex(
    stableStringify({
      v: 1,
      text: doc.text,
      title: doc.title ?? "",
      source: doc.source ?? "",
      metadata: doc.metadata ?? {},
      format: doc.format ?? null,
      chunking: [chunkSize, chunkOverlap],
      // Only when present, so documents without questions keep their hashes.
      ...(doc.questions === undefined ? {} : { questions: doc.questions }),
    }),
  );
}

/**
 * Checks every document before anything is written, so a bad request writes
 * nothing. Throws a 400 GatewayError naming the offending document.
 */
export function validateDocuments(docs: unknown): asserts docs is RagDocument[] {
  if (!Array.isArray(docs)) throw invalidRequest("documents must be an array.", { param: "documents" });
  const ids = new Set<string>();
  docs.forEach((doc: unknown, i) => {
    const param = `documents[${i}]`;
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw invalidRequest(`${param} must be an object.`, { param });
    const d = doc as Record<string, unknown>;
    assertDocumentId(d.id, `${param}.id`);
    if (ids.has(d.id)) throw invalidRequest(`Duplicate document id '${d.id}' in one request.`, { param: `${param}.id` });
    ids.add(d.id);
    if (typeof d.text !== "string" || d.text.trim().length === 0) {
      throw invalidRequest(`${param}.text must be a non-empty string.`, { param: `${param}.text` });
    }
    for (const field of ["title", "source"] as const) {
      if (d[field] !== undefined && typeof d[field] !== "string") {
        throw invalidRequest(`${param}.${field} must be a string.`, { param: `${param}.${field}` });
      }
    }
    const meta = d.metadata;
    if (meta !== undefined && (meta === null || typeof meta !== "object" || Array.isArray(meta))) {
      throw invalidRequest(`${param}.metadata must be an object.`, { param: `${param}.metadata` });
    }
    if (d.questions !== undefined) {
      const qs = d.questions;
      if (!Array.isArray(qs) || qs.length > MAX_QUESTIONS_PER_DOCUMENT || !qs.every((q) => typeof q === "string" && q.length <= MAX_QUERY_LENGTH)) {
        throw invalidRequest(
          `${param}.questions must be an array of at most ${MAX_QUESTIONS_PER_DOCUMENT} strings of at most ${MAX_QUERY_LENGTH} characters.`,
          { param: `${param}.questions` },
        );
      }
    }
    if (d.format !== undefined && d.format !== "markdown" && d.format !== "text") {
      throw invalidRequest(`${param}.format must be 'markdown' or 'text'.`, { param: `${param}.format` });
    }
  });
}

/** The text that is embedded for a chunk: its title gives context the chunk may lack. */
function embeddingText(chunk: Chunk): string {
  // A known question is embedded alone: it should match queries, not the answer's title.
  if (chunk.position < 0) return chunk.text;
  return chunk.title.length > 0 ? `${chunk.title}\n${chunk.text}` : chunk.text;
}

/**
 * Upserts `docs` into (tenant, collection); see `RagService.upsertDocuments`.
 *
 * Per batch of `batchDocuments`: hashes are compared with the stored ones
 * (unchanged documents are skipped), changed and new documents are chunked and
 * embedded outside the write lock, then, holding it, hashes are read again (a
 * concurrent upsert may have written meanwhile) and the batch is committed in
 * one LanceDB write: an append when all its documents are new, else a
 * merge-insert that also deletes the replaced documents' leftover chunks.
 * Progress is reported after each commit. The full-text index is refreshed
 * once at the end.
 */
export async function upsertDocuments(
  settings: IngestSettings,
  tenant: string,
  collection: string,
  docs: RagDocument[],
  onProgress?: (progress: UpsertProgress) => void,
): Promise<UpsertResult> {
  assertTenant(tenant);
  assertCollectionName(collection);
  validateDocuments(docs);
  const { store, embedder, chunker } = settings;
  const result: UpsertResult = { inserted: 0, updated: 0, unchanged: 0, chunks: 0 };
  let done = 0;
  let wrote = false;

  const existingInfo = await store.info(collection);
  if (existingInfo !== undefined && existingInfo.embedderId !== embedder.id) {
    throw embedderMismatch(collection, existingInfo, { embedderId: embedder.id, dimension: existingInfo.dimension });
  }

  for (let start = 0; start < docs.length; start += settings.batchDocuments) {
    const batch = docs.slice(start, start + settings.batchDocuments);
    const hashes = new Map(batch.map((d) => [d.id, contentHash(d, settings.chunkSize, settings.chunkOverlap)]));
    const ids = batch.map((d) => d.id);

    const table = await store.openTable(collection);
    const before = table === undefined ? new Map<string, string>() : await store.documentHashes(table, tenant, ids);
    const todo = batch.filter((d) => before.get(d.id) !== hashes.get(d.id));

    const chunks = (await Promise.all(todo.map((d) => chunker.chunk(d)))).flat();
    const vectors = await embedInBatches(
      embedder,
      chunks.map(embeddingText),
      settings.embedBatchSize,
    );
    const dimension = vectors[0]?.length;

    let committedIds: string[] = [];
    if (todo.length > 0 && dimension !== undefined) {
      const counts = await store.withWriteLock(collection, { embedderId: embedder.id, dimension }, async (tbl) => {
        const now = await store.documentHashes(tbl, tenant, todo.map((d) => d.id));
        const write = new Set(todo.filter((d) => now.get(d.id) !== hashes.get(d.id)).map((d) => d.id));
        const rows: ChunkRow[] = [];
        chunks.forEach((chunk, i) => {
          if (write.has(chunk.documentId)) {
            rows.push(chunkRow(tenant, chunk, vectors[i] as number[], hashes.get(chunk.documentId) as string));
          }
        });
        const replaceIds = [...write].filter((id) => now.has(id));
        await store.writeDocuments(tbl, tenant, rows, replaceIds);
        return { written: [...write], replaced: replaceIds.length, rows: rows.length };
      });
      committedIds = counts.written;
      wrote = wrote || counts.rows > 0;
      result.updated += counts.replaced;
      result.inserted += counts.written.length - counts.replaced;
      result.chunks += counts.rows;
    }
    result.unchanged += batch.length - committedIds.length;
    done += batch.length;
    onProgress?.({ ...result, done, total: docs.length, committedIds });
  }

  if (wrote) await store.refreshIndexes(collection);
  return result;
}
