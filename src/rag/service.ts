/**
 * The retrieval facade the HTTP layer and the CLI use: ingestion, deletion,
 * search and the collection version for cache keys, over one LanceDB database.
 */
import type { RetrievedPassage } from "../types.js";
import { CalibrationFiles, calibrationDirFor } from "./calibration-files.js";
import { Chunker } from "./chunker.js";
import type { RagDocument, UpsertProgress, UpsertResult } from "./document.js";
import type { Embedder } from "./embedder.js";
import { upsertDocuments } from "./ingest.js";
import { assertCollectionName, assertDocumentId, assertTenant } from "./names.js";
import { type SearchOutcome, type SearchRequest, type SearchSettings, searchWithFusion } from "./search.js";
import type { Reranker } from "./reranker.js";
import { ChunkStore, type IvfSettings, type VectorIndexStatus, type VectorIndexType } from "./store.js";
import type { FusionOptions } from "./fusion.js";
import { type Calibration, VectorGate } from "./vector-gate.js";

/** Rows at which a collection gets an ANN vector index in the background. */
export const DEFAULT_VECTOR_INDEX_THRESHOLD = 20_000;
/** The ANN index kind built by default: IVF_FLAT (bench/ann-tune.ts; BENCHMARKS.md "Retrieval"). */
export const DEFAULT_VECTOR_INDEX_TYPE: VectorIndexType = "ivf_flat";

/** Candidates a configured reranker scores per search. */
export const DEFAULT_RERANK_TOP_N = 20;

/** Hybrid fusion defaults, chosen on the evals in BENCHMARKS.md ("Retrieval"); the weight is the calibration's prior. */
export const DEFAULT_FUSION: Omit<FusionOptions, "rrfK"> = { method: "convex", vectorWeight: 0.5 };

export interface RagServiceOptions {
  /** LanceDB URI: a directory or `s3://…` (config `rag.uri`). */
  uri: string;
  embedder: Embedder;
  /** Config `rag.chunkSize` / `rag.chunkOverlap` (characters). */
  chunkSize: number;
  chunkOverlap: number;
  /** Config `rag.rrfK`: the k of reciprocal rank fusion (60 in the RRF paper), for `fusion.method: rrf`. */
  rrfK: number;
  /**
   * Config `rag.fusion`: how hybrid search fuses its two rankings (see
   * fusion.ts). Default {@link DEFAULT_FUSION}; requests may override it.
   */
  fusion?: Partial<Omit<FusionOptions, "rrfK">>;
  /** Config `rag.collections[name].fusion`: per-collection overrides of `fusion`. */
  collectionFusion?: Record<string, Partial<Omit<FusionOptions, "rrfK">>>;
  /** Config `rag.scoreFloor`: passages scoring below are dropped (see `search`). */
  scoreFloor: number;
  /**
   * Config `rag.vectorIndex`: build an ANN index in the background once a
   * collection has `threshold` rows (default 20,000; 0 = never
   * automatically), of `type` (default `ivf_flat`), IVF types with
   * `partitions` lists (default 0 = √rows) of which searches scan
   * `probeFraction` (default 0.4). Upserts and searches go on during the
   * build; unindexed rows are searched exhaustively.
   */
  vectorIndex?: { threshold?: number; type?: VectorIndexType } & Partial<IvfSettings>;
  /**
   * Config `rag.rerankModel`: a cross-encoder that reorders the first
   * `rerankTopN` (default 20) candidates of every search after fusion. The
   * service disposes it. Default: none (off).
   */
  reranker?: Reranker | undefined;
  /** Config `rag.rerankTopN`: candidates the reranker scores per search. Default 20. */
  rerankTopN?: number | undefined;
  /** Called when a background index build fails (the status keeps the error too). */
  onBackgroundError?: (err: unknown, collection: string) => void;
  /**
   * Whether hybrid search calibrates the vector weight per collection: the
   * weight whose fusion ranks pseudo-queries of the collection best, the
   * configured one as the prior, scaled by the measured vector signal (see
   * vector-gate.ts). Default true; false uses the configured weight as is.
   */
  vectorGate?: boolean;
  /**
   * Where the gate's measurements are kept between runs (calibration-files.ts), so the first hybrid search of a
   * collection after a restart does not wait for them. Default: `<uri>-calibration` beside a local LanceDB
   * directory, none for a remote URI; false: not kept.
   */
  calibrationDir?: string | false;
  /** Texts per embedder call. Default 32. */
  embedBatchSize?: number;
  /** Documents per atomic commit during upserts. Default 64. */
  writeBatchDocuments?: number;
  /** Seconds between checks for other processes' writes; default 1 (see ChunkStore). */
  readConsistencyIntervalSeconds?: number;
  /** Object-store settings for `s3://` and similar URIs. */
  storageOptions?: Record<string, string>;
  /**
   * Observer seam (telemetry): called as each {@link RagService.search} starts;
   * the returned handle gets the number of passages or the error. Default: none.
   */
  onSearch?: (request: SearchRequest) => SearchObservation | undefined;
}

/** One search in flight, as {@link RagServiceOptions.onSearch} sees it. */
export interface SearchObservation {
  end(info: { passages: number }): void;
  fail(err: unknown): void;
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
 * await rag.dispose();
 * ```
 */
export class RagService {
  private readonly chunker: Chunker;
  private storePromise: Promise<ChunkStore> | undefined;
  private gate: VectorGate | undefined;
  /** Calibrations started by writes (see {@link RagService.settled}). */
  private readonly warming = new Set<Promise<void>>();
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
      ivf: {
        ...(this.options.vectorIndex?.partitions === undefined ? {} : { partitions: this.options.vectorIndex.partitions }),
        ...(this.options.vectorIndex?.probeFraction === undefined ? {} : { probeFraction: this.options.vectorIndex.probeFraction }),
      },
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
    const store = await this.store();
    const result = await upsertDocuments(
      {
        store,
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
    if (result.chunks > 0) this.warmCalibration(store, tenant, collection);
    const threshold = this.options.vectorIndex?.threshold ?? DEFAULT_VECTOR_INDEX_THRESHOLD;
    if (result.chunks > 0 && threshold > 0) {
      // Only the size check is awaited; the build itself runs in the background (ChunkStore.buildVectorIndex).
      const type = this.options.vectorIndex?.type ?? DEFAULT_VECTOR_INDEX_TYPE;
      try {
        if (await store.maybeBuildVectorIndex(collection, threshold, type)) {
          store.buildVectorIndex(collection, type).catch((err: unknown) => this.options.onBackgroundError?.(err, collection));
        }
      } catch (err) {
        this.options.onBackgroundError?.(err, collection);
      }
    }
    return result;
  }

  /**
   * Measures the collection's vector gate and fusion calibration in the background after a write, so the
   * first hybrid search does not wait for the 2 × 32 probe searches (later writes re-measure at most once a
   * minute, see vector-gate.ts). A failure is reported to `onBackgroundError`; search measures again.
   */
  private warmCalibration(store: ChunkStore, tenant: string, collection: string): void {
    if (this.options.vectorGate === false || this.closed) return;
    this.gate ??= this.newGate(store);
    const warm: Promise<void> = this.gate
      .measure(tenant, collection)
      .then(
        () => undefined,
        (err: unknown) => this.options.onBackgroundError?.(err, collection),
      )
      .finally(() => this.warming.delete(warm));
    this.warming.add(warm);
  }

  private newGate(store: ChunkStore): VectorGate {
    const dir = this.options.calibrationDir ?? calibrationDirFor(this.options.uri);
    return new VectorGate(store, this.options.embedder, dir === false || dir === undefined ? undefined : new CalibrationFiles(dir));
  }

  /** Resolves when the background work started by writes (calibration, its re-measurement and its file; not index builds) has finished. */
  async settled(): Promise<void> {
    while (this.warming.size > 0) await Promise.all(this.warming);
    await this.gate?.settled();
  }

  /**
   * Builds the collection's ANN vector index now (the `switchyard index`
   * command); resolves when it is ready. Joins a build already running.
   *
   * @example
   * ```ts
   * await rag.buildVectorIndex("kb");
   * ```
   */
  async buildVectorIndex(collection: string, type?: VectorIndexType): Promise<void> {
    assertCollectionName(collection);
    await (await this.store()).buildVectorIndex(collection, type ?? this.options.vectorIndex?.type ?? DEFAULT_VECTOR_INDEX_TYPE);
  }

  /**
   * How much signal the vectors carry on the tenant's collection, the gate's
   * factor on the vector weight, and the calibrated weight per fusion setting
   * (`weightFor`; see vector-gate.ts).
   */
  async vectorSignal(tenant: string, collection: string): Promise<Calibration> {
    assertTenant(tenant);
    assertCollectionName(collection);
    const store = await this.store();
    this.gate ??= this.newGate(store);
    return this.gate.measure(tenant, collection);
  }

  /** The collection's vector index state: none, building, ready or failed, with indexed/unindexed row counts. */
  async vectorIndexStatus(collection: string): Promise<VectorIndexStatus> {
    assertCollectionName(collection);
    return (await this.store()).vectorIndexStatus(collection);
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
    return (await this.searchWithFusion(request)).passages;
  }

  /**
   * {@link RagService.search}, with the fusion a hybrid search used: the
   * configured method and weights, the request's over them, and the
   * calibrated vector weight (`calibrated: true`) unless the request sets one.
   *
   * @example
   * ```ts
   * const { passages, fusion } = await rag.searchWithFusion({ tenant: "acme", collection: "kb", query: "refund window" });
   * ```
   */
  async searchWithFusion(request: SearchRequest): Promise<SearchOutcome> {
    const observation = this.options.onSearch?.(request);
    try {
      const outcome = await searchWithFusion(await this.searchSettings(request.collection), request);
      observation?.end({ passages: outcome.passages.length });
      return outcome;
    } catch (err) {
      observation?.fail(err);
      throw err;
    }
  }

  private async searchSettings(collection: string): Promise<SearchSettings> {
    const store = await this.store();
    if (this.options.vectorGate !== false) this.gate ??= this.newGate(store);
    return {
      store,
      ...(this.gate === undefined ? {} : { gate: this.gate }),
      embedder: this.options.embedder,
      fusion: {
        ...DEFAULT_FUSION,
        ...this.options.fusion,
        ...this.options.collectionFusion?.[collection],
        rrfK: this.options.rrfK,
      },
      scoreFloor: this.options.scoreFloor,
      ...(this.options.reranker === undefined ? {} : { rerank: { reranker: this.options.reranker, topN: this.options.rerankTopN ?? DEFAULT_RERANK_TOP_N } }),
    };
  }

  /**
   * A number that changes when, and only when, this tenant's documents in the
   * collection change (a digest of them: other tenants' writes never move it).
   * 0 when the tenant has nothing there. For response-cache keys and upsert replies.
   *
   * @example
   * ```ts
   * const key = `${model}|${collection}@${await rag.collectionVersion(tenant, collection)}|${prompt}`;
   * ```
   */
  async collectionVersion(tenant: string, collection: string): Promise<number> {
    assertTenant(tenant);
    assertCollectionName(collection);
    return (await this.store()).tenantVersion(tenant, collection);
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

  /**
   * Loads the configured reranker now (the gateway does at startup, so a file that cannot
   * rank fails the start instead of every search); resolves at once when none is configured.
   */
  async loadReranker(): Promise<void> {
    await this.options.reranker?.load();
  }

  /** Identity of the configured reranker, or `undefined` when reranking is off. */
  get rerankerId(): string | undefined {
    return this.options.reranker?.id;
  }

  /** Closes the database; idempotent, later calls of other methods fail. */
  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.options.reranker?.dispose();
    const pending = this.storePromise;
    this.storePromise = undefined;
    if (pending !== undefined) {
      await this.settled();
      const store = await pending;
      // LanceDB cannot cancel an index build; let it finish before closing the database.
      await store.settle();
      store.close();
    }
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

}
