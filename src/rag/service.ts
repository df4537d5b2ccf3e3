/**
 * The retrieval facade the HTTP layer and the CLI use: ingestion, deletion,
 * search and the collection version for cache keys, over one LanceDB database.
 */
import type { RetrievedPassage } from "../types.js";
import { Chunker } from "./chunker.js";
import type { RagDocument, UpsertProgress, UpsertResult } from "./document.js";
import type { Embedder } from "./embedder.js";
import { upsertDocuments } from "./ingest.js";
import { assertCollectionName, assertDocumentId, assertTenant } from "./names.js";
import { type SearchRequest, searchCollection } from "./search.js";
import { ChunkStore } from "./store.js";

export interface RagServiceOptions {
  /** LanceDB URI: a directory or `s3://…` (config `rag.uri`). */
  uri: string;
  embedder: Embedder;
  /** Config `rag.chunkSize` / `rag.chunkOverlap` (characters). */
  chunkSize: number;
  chunkOverlap: number;
  /** Config `rag.rrfK`: the k of reciprocal rank fusion (60 in the RRF paper). */
  rrfK: number;
  /** Config `rag.scoreFloor`: passages scoring below are dropped (see `search`). */
  scoreFloor: number;
  /** Texts per embedder call. Default 32. */
  embedBatchSize?: number;
  /** Documents per atomic commit during upserts. Default 64. */
  writeBatchDocuments?: number;
  /** Seconds between checks for other processes' writes; default 1 (see ChunkStore). */
  readConsistencyIntervalSeconds?: number;
  /** Object-store settings for `s3://` and similar URIs. */
  storageOptions?: Record<string, string>;
}

/**
 * Retrieval for the gateway.
 *
 * @example
 * ```ts
 * const rag = await RagService.open({
 *   uri: "./data/lancedb", embedder: new HashingEmbedder(),
 *   chunkSize: 800, chunkOverlap: 100, rrfK: 60, scoreFloor: 0,
 * });
 * await rag.upsertDocuments("default", "support-kb", [{ id: "refunds.md", text: "# Refunds\n…" }]);
 * const passages = await rag.search({ tenant: "default", collection: "support-kb", query: "refund", topK: 4 });
 * await rag.close();
 * ```
 */
export class RagService {
  private readonly chunker: Chunker;
  private storePromise: Promise<ChunkStore> | undefined;
  private closed = false;

  /** Validates options; the database is opened on first use (or by {@link RagService.open}). */
  constructor(private readonly options: RagServiceOptions) {
    this.chunker = new Chunker({ chunkSize: options.chunkSize, chunkOverlap: options.chunkOverlap });
    if (!(options.rrfK > 0)) throw new RangeError("rrfK must be positive");
  }

  /** Constructs and opens the database now, so a bad URI fails at startup. */
  static async open(options: RagServiceOptions): Promise<RagService> {
    const service = new RagService(options);
    await service.store();
    return service;
  }

  get embedderId(): string {
    return this.options.embedder.id;
  }

  private store(): Promise<ChunkStore> {
    if (this.closed) return Promise.reject(new Error("RagService is closed"));
    this.storePromise ??= ChunkStore.connect({
      uri: this.options.uri,
      ...(this.options.readConsistencyIntervalSeconds === undefined
        ? {}
        : { readConsistencyIntervalSeconds: this.options.readConsistencyIntervalSeconds }),
      ...(this.options.storageOptions === undefined ? {} : { storageOptions: this.options.storageOptions }),
    });
    return this.storePromise;
  }

  /**
   * Inserts new documents, replaces changed ones (all their chunks), skips
   * unchanged ones (same content hash). Each batch of documents is committed
   * atomically; `onProgress` runs after each commit. Creates the collection on
   * first write. Throws 400 for invalid names or documents (nothing written),
   * 409 when the collection was built with another embedder.
   *
   * @example
   * ```ts
   * const r = await rag.upsertDocuments("acme", "kb", docs, (p) => log(`${p.done}/${p.total}`));
   * // r = { inserted: 10, updated: 2, unchanged: 30, chunks: 57 }
   * ```
   */
  async upsertDocuments(
    tenant: string,
    collection: string,
    docs: RagDocument[],
    onProgress?: (progress: UpsertProgress) => void,
  ): Promise<UpsertResult> {
    return upsertDocuments(
      {
        store: await this.store(),
        embedder: this.options.embedder,
        chunker: this.chunker,
        chunkSize: this.options.chunkSize,
        chunkOverlap: this.options.chunkOverlap,
        batchDocuments: this.options.writeBatchDocuments ?? 64,
        embedBatchSize: this.options.embedBatchSize ?? 32,
      },
      tenant,
      collection,
      docs,
      onProgress,
    );
  }

  /**
   * Removes a document's chunks. False when the tenant has no such document
   * (the HTTP layer answers 404).
   *
   * @example
   * ```ts
   * if (!(await rag.deleteDocument("acme", "kb", "old.md"))) throw notFound("No such document.");
   * ```
   */
  async deleteDocument(tenant: string, collection: string, id: string): Promise<boolean> {
    assertTenant(tenant);
    assertCollectionName(collection);
    assertDocumentId(id);
    return (await this.store()).deleteDocument(tenant, collection, id);
  }

  /**
   * Searches one tenant's collection; see {@link SearchRequest}. Passages are
   * numbered from 1 and those scoring below the floor are dropped, so an empty
   * result means "don't know". Score scale depends on the mode: cosine
   * similarity (vector), BM25 (fulltext), normalised RRF in (0, 1] (hybrid,
   * the default). Throws 404 when the tenant has no such collection.
   *
   * @example
   * ```ts
   * const passages = await rag.search({ tenant: "acme", collection: "kb", query: "refund window", topK: 4, filter: { lang: "en" } });
   * ```
   */
  async search(request: SearchRequest): Promise<RetrievedPassage[]> {
    return searchCollection(
      {
        store: await this.store(),
        embedder: this.options.embedder,
        rrfK: this.options.rrfK,
        scoreFloor: this.options.scoreFloor,
      },
      request,
    );
  }

  /**
   * A number that changes on every write to the collection (the LanceDB table
   * version; writes by any tenant count, which only costs extra cache misses).
   * 0 when the collection does not exist. For response-cache keys.
   *
   * @example
   * ```ts
   * const key = `${model}|${collection}@${await rag.collectionVersion(tenant, collection)}|${prompt}`;
   * ```
   */
  async collectionVersion(tenant: string, collection: string): Promise<number> {
    assertTenant(tenant);
    assertCollectionName(collection);
    return (await this.store()).version(collection);
  }

  /**
   * Collections in which the tenant has documents, sorted by name.
   *
   * @example
   * ```ts
   * await rag.listCollections("acme"); // ["faq", "kb"]
   * ```
   */
  async listCollections(tenant: string): Promise<string[]> {
    return (await this.store()).listCollections(tenant);
  }

  /** Closes the database; later calls fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending = this.storePromise;
    this.storePromise = undefined;
    if (pending !== undefined) (await pending).close();
  }
}
