/**
 * LanceDB storage for collections: one table per collection, one row per
 * chunk, tenants separated by the `tenant` column.
 *
 * Every read and write here takes the tenant and builds the `tenant = '…'`
 * predicate itself, inside the LanceDB query (vector search pre-filters, so the
 * top-k is the tenant's top-k), so no caller can forget it.
 *
 * Crash safety: LanceDB commits each write (add, delete, merge-insert,
 * optimize) as one new table version by atomically publishing a manifest; a
 * process killed mid-write leaves the previous version readable. Replacing
 * documents is a single `mergeInsert` (insert new chunks, update same-id
 * chunks, delete the documents' other chunks), so readers and survivors of a
 * crash see each document entirely old or entirely new, never half of each.
 */
import { createHash } from "node:crypto";
import { withLock } from "lifecycle-utils";
import * as lancedb from "@lancedb/lancedb";
import type { Connection, Table } from "@lancedb/lancedb";
import { GatewayError } from "../errors.js";
import { assertCollectionName, assertTenant, sqlString } from "./names.js";
import {
  type ChunkRow,
  type CollectionInfo,
  collectionInfo,
  collectionSchema,
  FTS_INDEX_NAME,
} from "./store-schema.js";

export interface ChunkStoreOptions {
  /** A directory, or an object-store URI such as `s3://bucket/prefix`. */
  uri: string;
  /**
   * Seconds between checks for writes by other processes (the CLI ingesting
   * while the server runs, other replicas). 0 = check on every read. Default 1.
   */
  readConsistencyIntervalSeconds?: number;
  /** Object-store settings passed to LanceDB (credentials, region, endpoint). */
  storageOptions?: Record<string, string>;
  /** How IVF vector indexes are built and searched; defaults {@link DEFAULT_IVF_SETTINGS}. */
  ivf?: Partial<IvfSettings>;
}

/**
 * IVF index settings (config `rag.vectorIndex.partitions` / `probeFraction`).
 * Used by `ivf_flat` and `ivf_pq`; `hnsw_sq` is built as one HNSW graph.
 */
export interface IvfSettings {
  /** Partitions (k-means lists) of a new index; 0 = √rows at build time (LanceDB's own rule). */
  partitions: number;
  /**
   * Share of the partitions each search scans (nprobes = ⌈fraction × partitions⌉, at least 1).
   * 0.4 gave recall@10 0.971 of flat at 100k chunks with IVF_FLAT, 0.2 gave 0.92 (BENCHMARKS.md "Retrieval").
   */
  probeFraction: number;
}

export const DEFAULT_IVF_SETTINGS: IvfSettings = { partitions: 0, probeFraction: 0.4 };

/** A chunk as read back from a search, with the mode's raw score. */
export interface StoredHit {
  chunkId: string;
  documentId: string;
  title: string;
  source: string;
  position: number;
  text: string;
  metadata: Record<string, unknown>;
  /** Vector: cosine similarity (1 − cosine distance). Full-text: BM25. */
  score: number;
}

/** A search result before its columns are read: the row's id (valid at one table version) and the mode's raw score. */
export interface RankedRow {
  rowId: bigint;
  score: number;
}

/** Rows missing from the full-text index that trigger an optimize after an upsert. */
export const OPTIMIZE_MIN_UNINDEXED_ROWS = 500;
/** Fragments (one per small write) that trigger an optimize after an upsert. */
export const OPTIMIZE_MAX_FRAGMENTS = 24;

/** Name LanceDB gives the index on `vector`. */
export const VECTOR_INDEX_NAME = "vector_idx";

/**
 * ANN index kinds (LanceDB): inverted lists of full vectors (`ivf_flat`, the
 * default: best recall and latency in bench/ann-tune.ts, 16 s to build at
 * 100k chunks), a graph over scalar-quantised vectors (`hnsw_sq`: lower recall
 * at a higher latency, minutes to build), or inverted lists of
 * product-quantised vectors (`ivf_pq`: smallest, recall ≤ 0.81 in the sweep).
 * Measured and not offered: IVF_RQ (RaBitQ, 4 bits per dimension, refine 5)
 * reached recall@10 0.99 at the same probes but cost more CPU per search than
 * IVF_FLAT in an interleaved run (BENCHMARKS.md "Retrieval").
 */
export type VectorIndexType = "ivf_flat" | "hnsw_sq" | "ivf_pq";

export const VECTOR_INDEX_TYPES: readonly VectorIndexType[] = ["ivf_flat", "hnsw_sq", "ivf_pq"];

/** What a collection's vector index looks like now. */
export interface VectorIndexStatus {
  /** `none` until the first build completes. */
  state: "none" | "building" | "ready" | "failed";
  type: VectorIndexType | null;
  /** Rows in the index; rows not in it yet are searched exhaustively (flat). */
  indexedRows: number;
  unindexedRows: number;
  /** The last build's error, when `failed`. */
  error: string | null;
}

/**
 * HNSW_SQ search: candidate list and re-ranking on full vectors. The best
 * measured at 100k chunks (bench/ann-tune.ts, m 20): recall@10 0.868 of flat.
 */
export const HNSW_SEARCH_EF = 1500;
export const HNSW_SEARCH_REFINE = 10;
/** IVF_PQ search: re-ranking factor on full vectors (recall@10 ≤ 0.81 in the sweep). */
export const IVF_PQ_SEARCH_REFINE = 10;

/** How a vector search uses the collection's ANN index (none: flat). */
interface AnnSearchParams {
  nprobes: number;
  ef?: number;
  refine?: number;
}

function indexTypeOf(indexType: string): VectorIndexType | null {
  return /hnsw/i.test(indexType) ? "hnsw_sq" : /pq/i.test(indexType) ? "ivf_pq" : /flat/i.test(indexType) ? "ivf_flat" : null;
}

/** Columns read back for hits (never the vector: it is large and unused). */
const HIT_COLUMNS = ["chunk_id", "document_id", "title", "source", "position", "text", "metadata"];

/**
 * Full-text index settings: English stemming, stop words and ASCII folding,
 * so "Refunds" matches "refund" and "café" matches "cafe". No positions:
 * queries are bags of words, and the index is smaller and faster to build.
 */
const FTS_OPTIONS: Partial<lancedb.FtsOptions> = {
  baseTokenizer: "simple",
  language: "English",
  lowercase: true,
  stem: true,
  removeStopWords: true,
  asciiFolding: true,
  withPosition: false,
};

/**
 * BM25 weight of a match in a chunk's `title` (its document's title) relative
 * to one in its `text`. A knowledge-base article's title names its subject in
 * a few words ("Cancel order"), and a match there says more than one in the
 * body. Chosen on the support-FAQ dev split (training questions, never the
 * held-out test questions; bench/eval-retrieval.ts --sets faq-dev).
 */
export const TITLE_BOOST = 2;

/** The tenant predicate, optionally ANDed with another one. */
function tenantPredicate(tenant: string, extra?: string): string {
  assertTenant(tenant);
  const base = `tenant = ${sqlString(tenant)}`;
  return extra === undefined ? base : `${base} AND (${extra})`;
}

function inList(values: string[]): string {
  return `(${values.map(sqlString).join(", ")})`;
}

function parseMetadata(json: unknown): Record<string, unknown> {
  if (typeof json !== "string" || json.length === 0) return {};
  try {
    const value: unknown = JSON.parse(json);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function toHit(row: Record<string, unknown>, score: number): StoredHit {
  return {
    chunkId: String(row.chunk_id),
    documentId: String(row.document_id),
    title: String(row.title ?? ""),
    source: String(row.source ?? ""),
    position: Number(row.position),
    text: String(row.text),
    metadata: parseMetadata(row.metadata),
    score,
  };
}

function isTableMissing(err: unknown): boolean {
  return err instanceof Error && /not found|does not exist|no such table/i.test(err.message);
}

/**
 * The LanceDB side of retrieval.
 *
 * @example
 * ```ts
 * const store = await ChunkStore.connect({ uri: "./data/lancedb" });
 * const hits = await store.fullTextSearch("acme", "support-kb", "refund policy", 10);
 * store.close();
 * ```
 */
export class ChunkStore {
  private readonly tables = new Map<string, Table>();
  // Writes to one collection run one at a time in this process, under
  // withLock([this, "write", collection]): LanceDB resolves conflicts between
  // processes itself, but the read-hashes-then-write step of an upsert must not interleave.
  /** Collections whose indexes this process has checked. */
  private readonly indexed = new Set<string>();
  /** Vector index builds in flight, and the last failure, per collection. */
  private readonly vectorBuilds = new Map<string, Promise<void>>();
  private readonly vectorBuildErrors = new Map<string, string>();
  /** Per (collection, tenant): whether the tenant had rows at a table version. */
  private readonly presence = new Map<string, { version: number; present: boolean }>();
  /** Per (collection, tenant): the tenant's content digest at a table version. */
  private readonly tenantVersions = new Map<string, { version: number; digest: number }>();
  /** Per collection: whether it has rows of known questions, at a table version. */
  private readonly questionRows = new Map<string, { version: number; present: boolean }>();
  /** Per collection: how it was built (the schema's metadata), at a table version. */
  private readonly infos = new Map<string, { version: number; info: CollectionInfo | undefined }>();
  /** Per collection: how searches use its ANN index, at a table version. */
  private readonly annParams = new Map<string, { version: number; params: AnnSearchParams | undefined }>();
  /** Partitions of the IVF indexes this process built (others are estimated, see {@link annSearchParams}). */
  private readonly builtPartitions = new Map<string, number>();
  private readonly ivf: IvfSettings;

  private constructor(
    private readonly db: Connection,
    ivf: Partial<IvfSettings> | undefined,
  ) {
    this.ivf = { ...DEFAULT_IVF_SETTINGS, ...ivf };
    if (!(Number.isInteger(this.ivf.partitions) && this.ivf.partitions >= 0)) throw new RangeError("ivf.partitions must be a non-negative integer");
    if (!(this.ivf.probeFraction > 0 && this.ivf.probeFraction <= 1)) throw new RangeError("ivf.probeFraction must be within (0, 1]");
  }

  /** Opens (or creates) the database at `uri`. */
  static async connect(options: ChunkStoreOptions): Promise<ChunkStore> {
    const db = await lancedb.connect(options.uri, {
      readConsistencyInterval: options.readConsistencyIntervalSeconds ?? 1,
      ...(options.storageOptions === undefined ? {} : { storageOptions: options.storageOptions }),
    });
    return new ChunkStore(db, options.ivf);
  }

  /** The collection's table, or `undefined` when it does not exist (absence is not cached). */
  async openTable(collection: string): Promise<Table | undefined> {
    assertCollectionName(collection);
    const cached = this.tables.get(collection);
    if (cached !== undefined) return cached;
    let table: Table;
    try {
      table = await this.db.openTable(collection);
    } catch (err) {
      if (isTableMissing(err)) return undefined;
      throw err;
    }
    const info = collectionInfo(await table.schema());
    if (info === undefined) {
      table.close();
      throw new GatewayError(409, "invalid_request_error", `Table '${collection}' exists but is not a Switchyard collection.`, {
        code: "collection_conflict",
      });
    }
    return this.remember(collection, table);
  }

  private remember(collection: string, table: Table): Table {
    // Two concurrent opens may race; keep the first handle and close the other.
    const existing = this.tables.get(collection);
    if (existing !== undefined) {
      if (existing !== table) table.close();
      return existing;
    }
    this.tables.set(collection, table);
    return table;
  }

  /** How the collection was built, or `undefined` when it does not exist (cached per table version: every vector search asks). */
  async info(collection: string): Promise<CollectionInfo | undefined> {
    const table = await this.openTable(collection);
    if (table === undefined) return undefined;
    const version = await table.version();
    const cached = this.infos.get(collection);
    if (cached !== undefined && cached.version === version) return cached.info;
    const info = collectionInfo(await table.schema());
    this.infos.set(collection, { version, info });
    return info;
  }

  /**
   * Runs `fn` holding the collection's write lock, with its table (created for
   * `info` when missing). Checks the stored embedder matches `info`.
   */
  async withWriteLock<T>(collection: string, info: CollectionInfo, fn: (table: Table) => Promise<T>): Promise<T> {
    assertCollectionName(collection);
    return withLock([this, "write", collection], async () => {
      const table = await this.ensureTable(collection, info);
      return fn(table);
    });
  }

  private async ensureTable(collection: string, info: CollectionInfo): Promise<Table> {
    let table = await this.openTable(collection);
    if (table === undefined) {
      // existOk: another process may create it between our open and create.
      table = this.remember(
        collection,
        await this.db.createEmptyTable(collection, collectionSchema(info.dimension, info.embedderId), {
          mode: "create",
          existOk: true,
        }),
      );
    }
    const stored = collectionInfo(await table.schema());
    if (stored !== undefined && (stored.embedderId !== info.embedderId || stored.dimension !== info.dimension)) {
      throw embedderMismatch(collection, stored, info);
    }
    return table;
  }

  /**
   * Creates whichever of the collection's indexes is missing: BM25 on `text`
   * and on `title` (full-text search needs them; collections made before the
   * title was indexed get that index on their first search), a bitmap on `tenant` (every query pre-filters
   * on it; it made filtered vector search ~2.5× faster on 5.6k rows) and a
   * B-tree on `document_id` (upsert and delete look documents up by id).
   *
   * Only once the table has rows: with LanceDB 0.37, full-text search over an
   * index built on an empty table plus unindexed rows returned the wrong top-k
   * (correct with a non-empty index). Indexes are commits of their own after
   * the first write, so a crash in between leaves a table without them; the
   * write path and {@link fullTextSearch} repair that. Checked once per process
   * per table. Call holding the write lock.
   */
  private async ensureIndexes(collection: string, table: Table): Promise<void> {
    if (this.indexed.has(collection)) return;
    if ((await table.countRows()) === 0) return;
    const have = new Set((await table.listIndices()).map((i) => i.columns.join(",")));
    if (!have.has("text")) await table.createIndex("text", { config: lancedb.Index.fts(FTS_OPTIONS), replace: true });
    if (!have.has("title")) await table.createIndex("title", { config: lancedb.Index.fts(FTS_OPTIONS), replace: true });
    if (!have.has("tenant")) await table.createIndex("tenant", { config: lancedb.Index.bitmap(), replace: true });
    if (!have.has("document_id")) await table.createIndex("document_id", { config: lancedb.Index.btree(), replace: true });
    this.indexed.add(collection);
  }

  /**
   * Content hashes of the given documents that exist for `tenant` (read from
   * each document's first chunk). Call inside {@link withWriteLock}.
   */
  async documentHashes(table: Table, tenant: string, ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let start = 0; start < ids.length; start += 500) {
      const slice = ids.slice(start, start + 500);
      const rows = await table
        .query()
        .where(tenantPredicate(tenant, `position = 0 AND document_id IN ${inList(slice)}`))
        .select(["document_id", "content_hash"])
        .toArray();
      for (const row of rows as Record<string, unknown>[]) out.set(String(row.document_id), String(row.content_hash));
    }
    return out;
  }

  /**
   * Writes the chunks of a batch of documents in one commit. `replaceIds` are
   * documents that already exist: all their rows not in `rows` are deleted in
   * the same commit. With nothing to replace this is a plain append.
   * Call inside {@link withWriteLock}.
   */
  async writeDocuments(table: Table, tenant: string, rows: ChunkRow[], replaceIds: string[]): Promise<void> {
    for (const row of rows) {
      if (row.tenant !== tenant) throw new Error("row tenant does not match the write's tenant");
    }
    if (replaceIds.length === 0) {
      if (rows.length > 0) await table.add(rows);
      return;
    }
    await table
      .mergeInsert(["tenant", "chunk_id"])
      .whenMatchedUpdateAll()
      .whenNotMatchedInsertAll()
      .whenNotMatchedBySourceDelete({ where: tenantPredicate(tenant, `document_id IN ${inList(replaceIds)}`) })
      .execute(rows);
  }

  /** Deletes a document's chunks; false when it had none. */
  async deleteDocument(tenant: string, collection: string, documentId: string): Promise<boolean> {
    const predicate = tenantPredicate(tenant, `document_id = ${sqlString(documentId)}`);
    return withLock([this, "write", collection], async () => {
      const table = await this.openTable(collection);
      if (table === undefined) return false;
      if ((await table.countRows(predicate)) === 0) return false;
      await table.delete(predicate);
      return true;
    });
  }

  /**
   * Creates missing indexes, then brings them up to date with appended rows
   * and compacts small fragments (`optimize`) once enough has accumulated: at
   * least {@link OPTIMIZE_MIN_UNINDEXED_ROWS} rows missing from the full-text
   * index, or {@link OPTIMIZE_MAX_FRAGMENTS} fragments. Searches stay correct
   * without it (LanceDB also scans unindexed rows), only slower; and an
   * optimize rewrites small fragments into the big one, 0.2-0.8 s for one new
   * row on a 20k-row table, so running it after every small upsert would make
   * single-document writes slow. Bulk ingestion runs it once at the end.
   * Returns whether it optimized.
   */
  async refreshIndexes(collection: string): Promise<boolean> {
    return withLock([this, "write", collection], async () => {
      const table = await this.openTable(collection);
      if (table === undefined) return false;
      await this.ensureIndexes(collection, table);
      const unindexed = (await table.indexStats(FTS_INDEX_NAME))?.numUnindexedRows ?? 0;
      const fragments = (await table.stats()).fragmentStats.numFragments;
      if (unindexed < OPTIMIZE_MIN_UNINDEXED_ROWS && fragments < OPTIMIZE_MAX_FRAGMENTS) return false;
      if (unindexed === 0 && fragments <= 1) return false;
      await table.optimize();
      return true;
    });
  }

  /**
   * Builds (or rebuilds) the ANN index on `vector`, cosine distance. Runs
   * without the write lock, so upserts and searches go on meanwhile; rows
   * written during or after the build are searched exhaustively until the
   * next optimize adds them to the index. One build per collection at a time:
   * a second call joins the first. IVF types get `ivf.partitions` partitions
   * (0: √rows); `hnsw_sq` one graph over all rows.
   *
   * @example
   * ```ts
   * await store.buildVectorIndex("kb", "ivf_flat");
   * ```
   */
  buildVectorIndex(collection: string, type: VectorIndexType): Promise<void> {
    const running = this.vectorBuilds.get(collection);
    if (running !== undefined) return running;
    const build = (async () => {
      const table = await this.openTable(collection);
      if (table === undefined) throw new GatewayError(404, "invalid_request_error", `Collection '${collection}' not found.`, { code: "collection_not_found" });
      const numPartitions = this.ivf.partitions > 0 ? this.ivf.partitions : Math.max(1, Math.round(Math.sqrt(await table.countRows())));
      const config =
        type === "hnsw_sq"
          ? lancedb.Index.hnswSq({ distanceType: "cosine", numPartitions: 1 })
          : type === "ivf_pq"
            ? lancedb.Index.ivfPq({ distanceType: "cosine", numPartitions })
            : lancedb.Index.ivfFlat({ distanceType: "cosine", numPartitions });
      await table.createIndex("vector", { config, replace: true });
      this.builtPartitions.set(collection, type === "hnsw_sq" ? 1 : numPartitions);
      this.annParams.delete(collection);
      this.vectorBuildErrors.delete(collection);
    })();
    this.vectorBuilds.set(collection, build);
    build
      .catch((err: unknown) => {
        this.vectorBuildErrors.set(collection, err instanceof Error ? err.message : String(err));
      })
      .finally(() => this.vectorBuilds.delete(collection))
      .catch(() => undefined);
    return build;
  }

  /**
   * How vector searches use the collection's index now (`undefined`: none,
   * flat search), cached per table version. nprobes comes from the partition
   * count: known when this process built the index, otherwise `ivf.partitions`
   * or, when that is 0, √(indexed rows) (the build rule; an over-estimate once
   * optimize has added rows, which costs latency, not recall).
   */
  private async annSearchParams(collection: string, table: Table): Promise<AnnSearchParams | undefined> {
    const version = await table.version();
    const cached = this.annParams.get(collection);
    if (cached !== undefined && cached.version === version) return cached.params;
    const stats = await table.indexStats(VECTOR_INDEX_NAME);
    const type = stats === undefined ? null : indexTypeOf(stats.indexType);
    let params: AnnSearchParams | undefined;
    if (stats !== undefined && type === "hnsw_sq") params = { nprobes: 1, ef: HNSW_SEARCH_EF, refine: HNSW_SEARCH_REFINE };
    else if (stats !== undefined) {
      const partitions =
        this.builtPartitions.get(collection) ?? (this.ivf.partitions > 0 ? this.ivf.partitions : Math.max(1, Math.round(Math.sqrt(stats.numIndexedRows))));
      params = { nprobes: Math.max(1, Math.ceil(this.ivf.probeFraction * partitions)), ...(type === "ivf_pq" ? { refine: IVF_PQ_SEARCH_REFINE } : {}) };
    }
    this.annParams.set(collection, { version, params });
    return params;
  }

  /** The collection's vector index state (see {@link VectorIndexStatus}). */
  async vectorIndexStatus(collection: string): Promise<VectorIndexStatus> {
    const table = await this.openTable(collection);
    const building = this.vectorBuilds.has(collection);
    const error = this.vectorBuildErrors.get(collection) ?? null;
    const stats = table === undefined ? undefined : await table.indexStats(VECTOR_INDEX_NAME);
    const rows = table === undefined ? 0 : await table.countRows();
    const type = stats === undefined ? null : indexTypeOf(stats.indexType);
    return {
      state: building ? "building" : stats !== undefined ? "ready" : error !== null ? "failed" : "none",
      type,
      indexedRows: stats?.numIndexedRows ?? 0,
      unindexedRows: stats?.numUnindexedRows ?? rows,
      error,
    };
  }

  /**
   * Starts a background vector index build when the collection has at least
   * `threshold` rows and no index (and none is building). Returns whether one
   * started; failures are kept for {@link vectorIndexStatus}.
   */
  async maybeBuildVectorIndex(collection: string, threshold: number, type: VectorIndexType): Promise<boolean> {
    if (this.vectorBuilds.has(collection)) return false;
    const table = await this.openTable(collection);
    if (table === undefined || (await table.countRows()) < threshold) return false;
    if ((await table.indexStats(VECTOR_INDEX_NAME)) !== undefined) return false;
    this.buildVectorIndex(collection, type).catch(() => undefined);
    return true;
  }

  /** The tenant's vector search (ANN when the collection has an index), columns not chosen yet; `undefined` without a table. */
  private async vectorQuery(tenant: string, collection: string, vector: number[], limit: number, predicate?: string): Promise<lancedb.VectorQuery | undefined> {
    const where = tenantPredicate(tenant, predicate);
    const table = await this.openTable(collection);
    if (table === undefined) return undefined;
    const ann = await this.annSearchParams(collection, table);
    let query = table.vectorSearch(vector).distanceType("cosine");
    if (ann !== undefined) {
      query = query.nprobes(ann.nprobes);
      if (ann.ef !== undefined) query = query.ef(Math.max(ann.ef, limit * 2));
      if (ann.refine !== undefined) query = query.refineFactor(ann.refine);
    }
    return query.where(where).limit(limit);
  }

  /** The tenant's BM25 search, columns not chosen yet; `undefined` without a table or rows. */
  private async fullTextQuery(tenant: string, collection: string, text: string, limit: number, predicate?: string): Promise<lancedb.Query | undefined> {
    const where = tenantPredicate(tenant, predicate);
    const table = await this.openTable(collection);
    if (table === undefined) return undefined;
    if (!this.indexed.has(collection)) {
      // A writer may have died before indexing (see ensureIndexes): repair now.
      await withLock([this, "write", collection], () => this.ensureIndexes(collection, table));
      if (!this.indexed.has(collection)) return undefined; // still no rows, so nothing to find
    }
    return table
      .query()
      .fullTextSearch(new lancedb.MultiMatchQuery(text, ["text", "title"], { boosts: [1, TITLE_BOOST] }))
      .where(where)
      .limit(limit);
  }

  /** Nearest chunks by cosine similarity among the tenant's rows matching `predicate`. */
  async vectorSearch(tenant: string, collection: string, vector: number[], limit: number, predicate?: string): Promise<StoredHit[]> {
    const query = await this.vectorQuery(tenant, collection, vector, limit, predicate);
    if (query === undefined) return [];
    const rows = await query.select([...HIT_COLUMNS, "_distance"]).toArray();
    return (rows as Record<string, unknown>[]).map((row) => toHit(row, 1 - Number(row._distance)));
  }

  /**
   * BM25 full-text matches among the tenant's rows matching `predicate`: the
   * sum of the query's BM25 over `text` and, weighted {@link TITLE_BOOST}, over `title`.
   */
  async fullTextSearch(tenant: string, collection: string, query: string, limit: number, predicate?: string): Promise<StoredHit[]> {
    const q = await this.fullTextQuery(tenant, collection, query, limit, predicate);
    if (q === undefined) return [];
    const rows = await q.select([...HIT_COLUMNS, "_score"]).toArray();
    return (rows as Record<string, unknown>[]).map((row) => toHit(row, Number(row._score)));
  }

  /**
   * {@link vectorSearch} without reading any column: row ids and scores
   * only, for {@link rowsById} after fusion. Reading the seven hit columns
   * of 20 rows cost more CPU than the index search at 100k chunks
   * (BENCHMARKS.md "Retrieval"). Row ids hold for one table version only.
   */
  async vectorRank(tenant: string, collection: string, vector: number[], limit: number, predicate?: string): Promise<RankedRow[]> {
    const query = await this.vectorQuery(tenant, collection, vector, limit, predicate);
    if (query === undefined) return [];
    const rows = (await query.withRowId().select(["_distance"]).toArray()) as Array<{ _rowid: bigint; _distance: number }>;
    return rows.map((row) => ({ rowId: row._rowid, score: 1 - Number(row._distance) }));
  }

  /** {@link fullTextSearch} without reading any column, see {@link vectorRank}. */
  async fullTextRank(tenant: string, collection: string, query: string, limit: number, predicate?: string): Promise<RankedRow[]> {
    const q = await this.fullTextQuery(tenant, collection, query, limit, predicate);
    if (q === undefined) return [];
    const rows = (await q.withRowId().select(["_score"]).toArray()) as Array<{ _rowid: bigint; _score: number }>;
    return rows.map((row) => ({ rowId: row._rowid, score: Number(row._score) }));
  }

  /**
   * The tenant's rows with the given row ids (from {@link vectorRank} or
   * {@link fullTextRank} at the same table version), as hits scored 0; rows of
   * another tenant are left out (they cannot appear at the same version:
   * the ids came from tenant-filtered searches).
   */
  async rowsById(tenant: string, collection: string, rowIds: bigint[]): Promise<Map<bigint, StoredHit>> {
    assertTenant(tenant);
    const out = new Map<bigint, StoredHit>();
    const table = await this.openTable(collection);
    if (table === undefined || rowIds.length === 0) return out;
    const rows = (await table.takeRowIds(rowIds).withRowId().select([...HIT_COLUMNS, "tenant"]).toArray()) as Record<string, unknown>[];
    for (const row of rows) if (row.tenant === tenant) out.set(row._rowid as bigint, toHit(row, 0));
    return out;
  }

  /**
   * Whether the collection holds rows of known questions (`position < 0`,
   * any tenant), cached per table version. Without them no two rows stand
   * for the same answer, so searches need no over-fetch to collapse them.
   */
  async hasQuestionRows(collection: string): Promise<boolean> {
    const table = await this.openTable(collection);
    if (table === undefined) return false;
    const version = await table.version();
    const cached = this.questionRows.get(collection);
    if (cached !== undefined && cached.version === version) return cached.present;
    const present = (await table.countRows("position < 0")) > 0;
    this.questionRows.set(collection, { version, present });
    return present;
  }

  /** Up to `limit` of the tenant's passage chunks (not known questions), in storage order. */
  async sampleChunks(tenant: string, collection: string, limit: number): Promise<StoredHit[]> {
    const table = await this.openTable(collection);
    if (table === undefined || limit <= 0) return [];
    const rows = await table.query().where(tenantPredicate(tenant, "position >= 0")).select(HIT_COLUMNS).limit(limit).toArray();
    return (rows as Record<string, unknown>[]).map((row) => toHit(row, 0));
  }

  /** The tenant's chunks with the given ids (any order; missing ids are left out). */
  async chunksById(tenant: string, collection: string, chunkIds: string[]): Promise<StoredHit[]> {
    if (chunkIds.length === 0) return [];
    const table = await this.openTable(collection);
    if (table === undefined) return [];
    const rows = await table
      .query()
      .where(tenantPredicate(tenant, `chunk_id IN ${inList(chunkIds)}`))
      .select(HIT_COLUMNS)
      .toArray();
    return (rows as Record<string, unknown>[]).map((row) => toHit(row, 0));
  }

  /** The table version (changes on every commit); 0 when the collection does not exist. */
  async version(collection: string): Promise<number> {
    const table = await this.openTable(collection);
    return table === undefined ? 0 : table.version();
  }

  /**
   * A number that changes when, and only when, `tenant`'s chunks in the collection change: a digest of its
   * (document, content hash) pairs, so other tenants' writes never move it (they could otherwise read each
   * other's activity from it). 0 when the tenant has nothing there. Cached per table version.
   */
  async tenantVersion(tenant: string, collection: string): Promise<number> {
    const table = await this.openTable(collection);
    if (table === undefined) return 0;
    const version = await table.version();
    const key = `${collection}\u0000${tenant}`;
    const cached = this.tenantVersions.get(key);
    if (cached !== undefined && cached.version === version) return cached.digest;
    const rows = (await table.query().where(tenantPredicate(tenant)).select(["document_id", "content_hash"]).toArray()) as Array<{ document_id: string; content_hash: string }>;
    const docs = [...new Set(rows.map((r) => `${r.document_id}\u0000${r.content_hash}`))].sort();
    // 48 bits of a SHA-256: a safe integer, collisions negligible for a cache key.
    const digest = docs.length === 0 ? 0 : Number.parseInt(createHash("sha256").update(docs.join("\n")).digest("hex").slice(0, 12), 16);
    if (this.tenantVersions.size > 4096) this.tenantVersions.clear();
    this.tenantVersions.set(key, { version, digest });
    return digest;
  }

  /** Whether `tenant` has any chunk in the collection (cached per table version). */
  async hasTenant(tenant: string, collection: string): Promise<boolean> {
    const predicate = tenantPredicate(tenant);
    const table = await this.openTable(collection);
    if (table === undefined) return false;
    const version = await table.version();
    const key = `${collection}\u0000${tenant}`;
    const cached = this.presence.get(key);
    if (cached !== undefined && cached.version === version) return cached.present;
    const present = (await table.countRows(predicate)) > 0;
    this.presence.set(key, { version, present });
    return present;
  }

  /** Collections in which `tenant` has at least one chunk, sorted. */
  async listCollections(tenant: string): Promise<string[]> {
    assertTenant(tenant);
    const out: string[] = [];
    for (const name of await this.db.tableNames()) {
      try {
        if (await this.hasTenant(tenant, name)) out.push(name);
      } catch (err) {
        // Not a collection (foreign table or odd name): not listed.
        if (err instanceof GatewayError) continue;
        throw err;
      }
    }
    return out.sort();
  }

  /** Number of chunks the tenant has in the collection. */
  async countChunks(tenant: string, collection: string, predicate?: string): Promise<number> {
    const where = tenantPredicate(tenant, predicate);
    const table = await this.openTable(collection);
    return table === undefined ? 0 : table.countRows(where);
  }

  /** Resolves when no background index build is running (call before {@link close}). */
  async settle(): Promise<void> {
    while (this.vectorBuilds.size > 0) await Promise.allSettled([...this.vectorBuilds.values()]);
  }

  close(): void {
    for (const table of this.tables.values()) table.close();
    this.tables.clear();
    this.db.close();
  }
}

/** The 409 for writing or vector-searching a collection with another embedder. */
export function embedderMismatch(collection: string, stored: CollectionInfo, wanted: CollectionInfo): GatewayError {
  return new GatewayError(
    409,
    "invalid_request_error",
    `Collection '${collection}' was built with embedder '${stored.embedderId}' (${stored.dimension} dimensions), ` +
      `not '${wanted.embedderId}' (${wanted.dimension}); its vectors are not comparable. Use the same embedder or a new collection.`,
    { code: "embedder_mismatch", param: "collection" },
  );
}

