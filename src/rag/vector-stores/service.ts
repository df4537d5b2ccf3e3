/**
 * OpenAI's files and vector stores over Switchyard collections: a vector
 * store is a collection (named by its id) of the caller's tenant; attaching a
 * file loads it by extension (markdown, text, HTML, JSONL, CSV; other UTF-8
 * text as plain text), chunks and embeds it into that collection in the
 * background (status `in_progress` → `completed` or `failed`), and search
 * returns chunks with `file_id`, `filename`, `score` and text content.
 *
 * Objects are shaped as in OpenAI's API reference (VectorStoreObject,
 * VectorStoreFileObject, VectorStoreFileBatchObject, OpenAIFile,
 * VectorStoreSearchResultsPage). State lives on local disk (state.ts).
 */
import { invalidRequest, notFound } from "../../errors.js";
import type { RagDocument } from "../document.js";
import type { SearchFilter } from "../filters.js";
import { csvDocuments, htmlDocument, jsonlDocuments, markdownDocument, textDocument } from "../loaders/index.js";
import type { RagService } from "../service.js";
import {
  type FileStatus,
  newId,
  nowSeconds,
  StateDir,
  type StoredBatch,
  type StoredFile,
  type StoredStoreFile,
  type StoredVectorStore,
  type TenantState,
} from "./state.js";

/** File purposes OpenAI's API accepts on upload. */
export const FILE_PURPOSES = ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"] as const;
export type FilePurpose = (typeof FILE_PURPOSES)[number];

export type Attributes = Record<string, string | number | boolean>;

/** OpenAI's comparison and compound filters (only `eq`, and `and` of `eq`, are supported). */
export type AttributeFilter =
  | { type: "eq" | "ne" | "gt" | "gte" | "lt" | "lte"; key: string; value: unknown }
  | { type: "and" | "or"; filters: AttributeFilter[] };

export interface FileObject {
  id: string;
  object: "file";
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: "processed";
}

export interface FileCounts {
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}

export interface VectorStoreObject {
  id: string;
  object: "vector_store";
  created_at: number;
  name: string;
  usage_bytes: number;
  file_counts: FileCounts;
  status: "expired" | "in_progress" | "completed";
  expires_after?: { anchor: "last_active_at"; days: number };
  expires_at: number | null;
  last_active_at: number;
  metadata: Record<string, string>;
}

export interface VectorStoreFileObject {
  id: string;
  object: "vector_store.file";
  usage_bytes: number;
  created_at: number;
  vector_store_id: string;
  status: FileStatus;
  last_error: StoredStoreFile["last_error"];
  attributes: Attributes;
}

export interface VectorStoreFileBatchObject {
  id: string;
  object: "vector_store.files_batch";
  created_at: number;
  vector_store_id: string;
  status: FileStatus;
  file_counts: FileCounts;
}

export interface SearchResultItem {
  file_id: string;
  filename: string;
  score: number;
  attributes: Attributes;
  content: { type: "text"; text: string }[];
}

export interface SearchResultsPage {
  object: "vector_store.search_results.page";
  search_query: string[];
  data: SearchResultItem[];
  has_more: false;
  next_page: null;
}

export interface ListPage<T> {
  object: "list";
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export interface ListOptions {
  /** 1-100, default 20. */
  limit?: number;
  /** By `created_at`; default `desc`. */
  order?: "asc" | "desc";
  /** Cursor: the id after which to start. */
  after?: string;
  before?: string;
}

export interface VectorStoreServiceOptions {
  rag: RagService;
  /** Directory for file bytes and metadata (config: `<dataDir>/vector-stores`). */
  dir: string;
  /** Largest upload accepted (config `rag.maxUploadBytes`). */
  maxFileBytes: number;
  /** Told about background ingestion failures (they also set the file's `last_error`). */
  onError?: (err: unknown, context: { tenant: string; vectorStoreId: string; fileId: string }) => void;
}

const SEARCH_MAX_RESULTS = 50;

function page<T extends { id: string; created_at: number }>(items: T[], options: ListOptions): ListPage<T> {
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidRequest("limit must be an integer from 1 to 100.", { param: "limit" });
  const order = options.order ?? "desc";
  if (order !== "asc" && order !== "desc") throw invalidRequest("order must be 'asc' or 'desc'.", { param: "order" });
  const sorted = [...items].sort((a, b) => (order === "asc" ? a.created_at - b.created_at : b.created_at - a.created_at) || (a.id < b.id ? -1 : 1));
  let start = 0;
  if (options.after !== undefined) start = sorted.findIndex((x) => x.id === options.after) + 1;
  let end = sorted.length;
  if (options.before !== undefined) {
    const i = sorted.findIndex((x) => x.id === options.before);
    if (i >= 0) end = i;
  }
  const slice = sorted.slice(start, end).slice(0, limit);
  return {
    object: "list",
    data: slice,
    first_id: slice[0]?.id ?? null,
    last_id: slice.at(-1)?.id ?? null,
    has_more: start + slice.length < end,
  };
}

function counts(files: StoredStoreFile[]): FileCounts {
  const c: FileCounts = { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: files.length };
  for (const f of files) c[f.status]++;
  return c;
}

function assertAttributes(value: unknown, param: string): Attributes {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalidRequest(`${param} must be an object.`, { param });
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 16) throw invalidRequest(`${param} may have at most 16 keys.`, { param });
  for (const [k, v] of entries) {
    if (k.length > 64 || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(k)) throw invalidRequest(`${param} key '${k.slice(0, 64)}' is invalid.`, { param });
    if (!(typeof v === "string" ? v.length <= 512 : typeof v === "number" ? Number.isFinite(v) : typeof v === "boolean")) {
      throw invalidRequest(`${param}.${k} must be a string (at most 512 characters), a number or a boolean.`, { param });
    }
  }
  return value as Attributes;
}

/** OpenAI filter → equality filter; 400 for what collections cannot filter on. */
export function toSearchFilter(filter: AttributeFilter | undefined): SearchFilter | undefined {
  if (filter === undefined) return undefined;
  const out: SearchFilter = {};
  const add = (f: AttributeFilter): void => {
    if (f.type === "and") {
      for (const inner of f.filters) add(inner);
      return;
    }
    if (f.type !== "eq" || !("key" in f)) {
      throw invalidRequest(`Filter type '${f.type}' is not supported; use 'eq' filters, optionally combined with 'and'.`, {
        param: "filters",
        code: "unsupported_filter",
      });
    }
    if (!(typeof f.value === "string" || typeof f.value === "number" || typeof f.value === "boolean")) {
      throw invalidRequest("Filter values must be strings, numbers or booleans.", { param: "filters" });
    }
    out[f.key] = f.value;
  };
  add(filter);
  return out;
}

/** A file's documents, by extension; `undefined` when the bytes are not text. */
export function fileDocuments(file: StoredFile, bytes: Buffer, attributes: Attributes): RagDocument[] | undefined {
  const ext = /\.[^.]+$/.exec(file.filename.toLowerCase())?.[0] ?? "";
  if (bytes.includes(0)) return undefined;
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  if (text.includes("\uFFFD")) return undefined;
  const identity = { id: file.id, source: file.filename };
  let docs: RagDocument[];
  switch (ext) {
    case ".md":
    case ".markdown":
    case ".mdx":
      docs = [markdownDocument(text, identity)];
      break;
    case ".html":
    case ".htm":
      docs = [htmlDocument(text, identity)];
      break;
    case ".jsonl":
      docs = jsonlDocuments(text, { defaultSource: file.filename, idPrefix: `${file.id}:` });
      break;
    case ".csv":
      docs = csvDocuments(text, { defaultSource: file.filename, idPrefix: `${file.id}:` });
      break;
    default:
      docs = [textDocument(text, identity)];
  }
  return docs
    .filter((d) => d.text.trim().length > 0)
    .map((d) => ({ ...d, source: file.filename, metadata: { ...d.metadata, ...attributes, file_id: file.id, filename: file.filename } }));
}

/**
 * Files and vector stores for one gateway.
 *
 * @example
 * ```ts
 * const vs = new VectorStoreService({ rag, dir: "./data/vector-stores", maxFileBytes: 16 << 20 });
 * const file = await vs.uploadFile("acme", { filename: "refunds.md", purpose: "assistants", bytes });
 * const store = await vs.createStore("acme", { name: "kb", file_ids: [file.id] });
 * await vs.idle();
 * const page = await vs.search("acme", store.id, { query: "refund window" });
 * ```
 */
export class VectorStoreService {
  private readonly state: StateDir;
  /** Background ingestions in flight (for {@link idle} and shutdown). */
  private readonly pending = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly options: VectorStoreServiceOptions) {
    this.state = new StateDir(options.dir);
  }

  // ------------------------------------------------------------ files

  async uploadFile(tenant: string, input: { filename: string; purpose: string; bytes: Uint8Array }): Promise<FileObject> {
    if (!(FILE_PURPOSES as readonly string[]).includes(input.purpose)) {
      throw invalidRequest(`purpose must be one of ${FILE_PURPOSES.join(", ")}.`, { param: "purpose" });
    }
    const filename = input.filename.trim();
    if (filename.length === 0 || filename.length > 255) throw invalidRequest("The file needs a name of 1-255 characters.", { param: "file" });
    if (input.bytes.byteLength > this.options.maxFileBytes) {
      throw invalidRequest(`The file is larger than ${this.options.maxFileBytes} bytes.`, { param: "file", code: "file_too_large" });
    }
    const file: StoredFile = { id: newId("file-"), filename, purpose: input.purpose, bytes: input.bytes.byteLength, created_at: nowSeconds() };
    await this.state.writeBytes(tenant, file.id, input.bytes);
    await this.state.update(tenant, (s) => {
      s.files[file.id] = file;
    });
    return fileObject(file);
  }

  async listFiles(tenant: string, options: ListOptions & { purpose?: string } = {}): Promise<ListPage<FileObject>> {
    const s = await this.state.read(tenant);
    const files = Object.values(s.files).filter((f) => options.purpose === undefined || f.purpose === options.purpose);
    return page(files.map(fileObject), options);
  }

  async getFile(tenant: string, fileId: string): Promise<FileObject> {
    return fileObject(fileOf(await this.state.read(tenant), fileId));
  }

  async fileContent(tenant: string, fileId: string): Promise<{ file: FileObject; bytes: Buffer }> {
    const file = fileOf(await this.state.read(tenant), fileId);
    return { file: fileObject(file), bytes: await this.state.readBytes(tenant, file.id) };
  }

  /** Deletes a file and removes it from every vector store it was attached to. */
  async deleteFile(tenant: string, fileId: string): Promise<{ id: string; object: "file"; deleted: true }> {
    const detached = await this.state.update(tenant, (s) => {
      fileOf(s, fileId);
      delete s.files[fileId];
      const out: { storeId: string; docs: string[] }[] = [];
      for (const store of Object.values(s.stores)) {
        const attached = store.files[fileId];
        if (attached === undefined) continue;
        out.push({ storeId: store.id, docs: attached.document_ids });
        delete store.files[fileId];
      }
      return out;
    });
    for (const d of detached) await this.removeDocuments(tenant, d.storeId, d.docs);
    await this.state.removeBytes(tenant, fileId);
    return { id: fileId, object: "file", deleted: true };
  }

  // ------------------------------------------------------------ vector stores

  async createStore(
    tenant: string,
    input: { name?: string | undefined; metadata?: Record<string, string> | undefined; file_ids?: string[] | undefined; expires_after?: { anchor: "last_active_at"; days: number } | undefined },
  ): Promise<VectorStoreObject> {
    const now = nowSeconds();
    const store: StoredVectorStore = {
      id: newId("vs_"),
      name: input.name ?? "",
      created_at: now,
      last_active_at: now,
      metadata: input.metadata ?? {},
      expires_after: input.expires_after ?? null,
      files: {},
      batches: {},
    };
    await this.state.update(tenant, (s) => {
      for (const id of input.file_ids ?? []) fileOf(s, id);
      s.stores[store.id] = store;
    });
    for (const id of input.file_ids ?? []) await this.attachFile(tenant, store.id, id, {});
    return this.getStore(tenant, store.id);
  }

  async listStores(tenant: string, options: ListOptions = {}): Promise<ListPage<VectorStoreObject>> {
    const s = await this.state.read(tenant);
    return page(Object.values(s.stores).map(storeObject), options);
  }

  async getStore(tenant: string, storeId: string): Promise<VectorStoreObject> {
    return storeObject(storeOf(await this.state.read(tenant), storeId));
  }

  async updateStore(
    tenant: string,
    storeId: string,
    input: { name?: string | null | undefined; metadata?: Record<string, string> | null | undefined; expires_after?: { anchor: "last_active_at"; days: number } | null | undefined },
  ): Promise<VectorStoreObject> {
    return this.state.update(tenant, (s) => {
      const store = storeOf(s, storeId);
      if (input.name !== undefined && input.name !== null) store.name = input.name;
      if (input.metadata !== undefined && input.metadata !== null) store.metadata = input.metadata;
      if (input.expires_after !== undefined) store.expires_after = input.expires_after;
      return storeObject(store);
    });
  }

  /** Deletes the store and its documents (the files themselves stay). */
  async deleteStore(tenant: string, storeId: string): Promise<{ id: string; object: "vector_store.deleted"; deleted: true }> {
    const store = await this.state.update(tenant, (s) => {
      const found = storeOf(s, storeId);
      delete s.stores[storeId];
      return found;
    });
    await this.removeDocuments(tenant, storeId, Object.values(store.files).flatMap((f) => f.document_ids));
    return { id: storeId, object: "vector_store.deleted", deleted: true };
  }

  // ------------------------------------------------------------ store files

  /** Attaches a file: `in_progress` now, ingested in the background. Re-attaching replaces the attributes and re-ingests. */
  async attachFile(tenant: string, storeId: string, fileId: string, attributes: unknown, batchId: string | null = null): Promise<VectorStoreFileObject> {
    const attrs = assertAttributes(attributes, "attributes");
    const entry = await this.state.update(tenant, (s) => {
      const store = storeOf(s, storeId);
      fileOf(s, fileId);
      const e: StoredStoreFile = {
        file_id: fileId,
        status: "in_progress",
        last_error: null,
        created_at: nowSeconds(),
        usage_bytes: 0,
        attributes: attrs,
        document_ids: store.files[fileId]?.document_ids ?? [],
        batch_id: batchId,
      };
      store.files[fileId] = e;
      store.last_active_at = nowSeconds();
      return e;
    });
    this.track(this.ingest(tenant, storeId, fileId));
    return storeFileObject(storeId, entry);
  }

  async listStoreFiles(
    tenant: string,
    storeId: string,
    options: ListOptions & { filter?: FileStatus; batchId?: string } = {},
  ): Promise<ListPage<VectorStoreFileObject>> {
    const store = storeOf(await this.state.read(tenant), storeId);
    const files = Object.values(store.files)
      .filter((f) => (options.filter === undefined || f.status === options.filter) && (options.batchId === undefined || f.batch_id === options.batchId))
      .map((f) => storeFileObject(storeId, f));
    return page(files, options);
  }

  async getStoreFile(tenant: string, storeId: string, fileId: string): Promise<VectorStoreFileObject> {
    const store = storeOf(await this.state.read(tenant), storeId);
    const f = store.files[fileId];
    if (f === undefined) throw notFound(`No file '${fileId}' in vector store '${storeId}'.`, { param: "file_id", code: "file_not_found" });
    return storeFileObject(storeId, f);
  }

  /** Removes the file from the store (its chunks leave the collection; the file stays). */
  async detachFile(tenant: string, storeId: string, fileId: string): Promise<{ id: string; object: "vector_store.file.deleted"; deleted: true }> {
    const docs = await this.state.update(tenant, (s) => {
      const store = storeOf(s, storeId);
      const f = store.files[fileId];
      if (f === undefined) throw notFound(`No file '${fileId}' in vector store '${storeId}'.`, { param: "file_id", code: "file_not_found" });
      delete store.files[fileId];
      return f.document_ids;
    });
    await this.removeDocuments(tenant, storeId, docs);
    return { id: fileId, object: "vector_store.file.deleted", deleted: true };
  }

  // ------------------------------------------------------------ batches

  async createBatch(
    tenant: string,
    storeId: string,
    input: { file_ids?: string[]; files?: { file_id: string; attributes?: unknown }[]; attributes?: unknown },
  ): Promise<VectorStoreFileBatchObject> {
    const items = input.files ?? (input.file_ids ?? []).map((file_id) => ({ file_id, attributes: input.attributes }));
    if (items.length === 0 || items.length > 500) throw invalidRequest("Give 1 to 500 files in file_ids or files.", { param: "file_ids" });
    const batch: StoredBatch = { id: newId("vsfb_"), created_at: nowSeconds(), file_ids: items.map((i) => i.file_id), cancelled: false };
    await this.state.update(tenant, (s) => {
      const store = storeOf(s, storeId);
      for (const i of items) fileOf(s, i.file_id);
      store.batches[batch.id] = batch;
    });
    for (const i of items) await this.attachFile(tenant, storeId, i.file_id, i.attributes ?? {}, batch.id);
    return this.getBatch(tenant, storeId, batch.id);
  }

  async getBatch(tenant: string, storeId: string, batchId: string): Promise<VectorStoreFileBatchObject> {
    const store = storeOf(await this.state.read(tenant), storeId);
    return batchObject(store, batchOf(store, batchId));
  }

  /** Marks the batch's files still in progress as cancelled (their ingestion result is then discarded). */
  async cancelBatch(tenant: string, storeId: string, batchId: string): Promise<VectorStoreFileBatchObject> {
    return this.state.update(tenant, (s) => {
      const store = storeOf(s, storeId);
      const batch = batchOf(store, batchId);
      batch.cancelled = true;
      for (const f of Object.values(store.files)) if (f.batch_id === batchId && f.status === "in_progress") f.status = "cancelled";
      return batchObject(store, batch);
    });
  }

  // ------------------------------------------------------------ search

  async search(
    tenant: string,
    storeId: string,
    input: {
      query: string | string[];
      max_num_results?: number | undefined;
      filters?: AttributeFilter | undefined;
      ranking_options?: { score_threshold?: number | undefined } | undefined;
    },
  ): Promise<SearchResultsPage> {
    const store = storeOf(await this.state.read(tenant), storeId);
    const queries = (Array.isArray(input.query) ? input.query : [input.query]).filter((q) => q.trim().length > 0);
    if (queries.length === 0) throw invalidRequest("query must be a non-empty string or list of strings.", { param: "query" });
    const max = input.max_num_results ?? 10;
    if (!Number.isInteger(max) || max < 1 || max > SEARCH_MAX_RESULTS) {
      throw invalidRequest(`max_num_results must be an integer from 1 to ${SEARCH_MAX_RESULTS}.`, { param: "max_num_results" });
    }
    const threshold = input.ranking_options?.score_threshold ?? 0;
    const filter = toSearchFilter(input.filters);
    const filenames = await this.state.read(tenant).then((s) => s.files);
    const best = new Map<string, SearchResultItem>();
    const completed = Object.values(store.files).some((f) => f.status === "completed");
    if (completed) {
      for (const query of queries) {
        const passages = await this.options.rag.search({
          tenant,
          collection: storeId,
          query,
          topK: max,
          ...(filter === undefined ? {} : { filter }),
        });
        for (const p of passages) {
          const fileId = String(p.metadata.file_id ?? "");
          // Chunks of files detached meanwhile (or of other processes' stale state) are not shown.
          if (store.files[fileId]?.status !== "completed") continue;
          const score = Math.min(1, Math.max(0, p.score));
          const prev = best.get(p.chunkId);
          if (prev !== undefined && prev.score >= score) continue;
          best.set(p.chunkId, {
            file_id: fileId,
            filename: filenames[fileId]?.filename ?? p.source,
            score,
            attributes: store.files[fileId]?.attributes ?? {},
            content: [{ type: "text", text: p.text }],
          });
        }
      }
    }
    await this.state.update(tenant, (s) => {
      const st = s.stores[storeId];
      if (st !== undefined) st.last_active_at = nowSeconds();
    });
    const data = [...best.values()].filter((r) => r.score >= threshold).sort((a, b) => b.score - a.score).slice(0, max);
    return { object: "vector_store.search_results.page", search_query: queries, data, has_more: false, next_page: null };
  }

  /**
   * The Responses API's `file_search` tool: searches several of the tenant's
   * vector stores with one query and merges the results by score (best
   * `max_num_results`, default 10). Unknown store ids are a 404, like a
   * direct search. Each result carries what a `file_search_call` output item
   * and a `file_citation` annotation need (`file_id`, `filename`).
   *
   * @example
   * ```ts
   * const results = await vectorStores.fileSearch("acme", { vector_store_ids: ["vs_…"], query: "refund window" });
   * // results[0] = { file_id, filename, score, attributes, text, vector_store_id }
   * ```
   */
  async fileSearch(
    tenant: string,
    input: { vector_store_ids: string[]; query: string; max_num_results?: number; filters?: AttributeFilter; score_threshold?: number },
  ): Promise<(Omit<SearchResultItem, "content"> & { text: string; vector_store_id: string })[]> {
    if (!Array.isArray(input.vector_store_ids) || input.vector_store_ids.length === 0 || input.vector_store_ids.length > 10) {
      throw invalidRequest("file_search needs 1 to 10 vector_store_ids.", { param: "tools[].vector_store_ids" });
    }
    const max = input.max_num_results ?? 10;
    const all: (Omit<SearchResultItem, "content"> & { text: string; vector_store_id: string })[] = [];
    for (const id of input.vector_store_ids) {
      const page = await this.search(tenant, id, {
        query: input.query,
        max_num_results: max,
        ...(input.filters === undefined ? {} : { filters: input.filters }),
        ...(input.score_threshold === undefined ? {} : { ranking_options: { score_threshold: input.score_threshold } }),
      });
      for (const r of page.data) {
        all.push({ file_id: r.file_id, filename: r.filename, score: r.score, attributes: r.attributes, text: r.content.map((c) => c.text).join("\n"), vector_store_id: id });
      }
    }
    return all.sort((x, y) => y.score - x.score).slice(0, max);
  }

  // ------------------------------------------------------------ lifecycle

  /** Resolves when no background ingestion is running. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Waits for background ingestions; later attachments are refused. Idempotent. */
  async dispose(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async ingest(tenant: string, storeId: string, fileId: string): Promise<void> {
    let outcome: Pick<StoredStoreFile, "status" | "last_error" | "usage_bytes" | "document_ids">;
    try {
      if (this.closed) throw new Error("the server is shutting down");
      const s = await this.state.read(tenant);
      const file = fileOf(s, fileId);
      const attrs = s.stores[storeId]?.files[fileId]?.attributes ?? {};
      const docs = fileDocuments(file, await this.state.readBytes(tenant, fileId), attrs);
      if (docs === undefined || docs.length === 0) {
        outcome = {
          status: "failed",
          last_error: docs === undefined ? { code: "unsupported_file", message: "The file is not UTF-8 text." } : { code: "invalid_file", message: "The file has no text." },
          usage_bytes: 0,
          document_ids: [],
        };
      } else {
        const previous = s.stores[storeId]?.files[fileId]?.document_ids ?? [];
        await this.options.rag.upsertDocuments(tenant, storeId, docs);
        const ids = docs.map((d) => d.id);
        // Rows of a previous version of this attachment that the new one does not have.
        await this.removeDocuments(tenant, storeId, previous.filter((id) => !ids.includes(id)));
        outcome = { status: "completed", last_error: null, usage_bytes: file.bytes, document_ids: ids };
      }
    } catch (err) {
      this.options.onError?.(err, { tenant, vectorStoreId: storeId, fileId });
      const message = err instanceof Error ? err.message : String(err);
      outcome = { status: "failed", last_error: { code: "server_error", message: message.slice(0, 500) }, usage_bytes: 0, document_ids: [] };
    }
    const orphaned = await this.state.update(tenant, (s) => {
      const entry = s.stores[storeId]?.files[fileId];
      // Detached or store deleted meanwhile: its documents must go.
      if (entry === undefined) return outcome.document_ids;
      if (entry.status === "cancelled") {
        entry.document_ids = outcome.document_ids;
        return [];
      }
      Object.assign(entry, outcome);
      return [];
    });
    if (orphaned.length > 0) await this.removeDocuments(tenant, storeId, orphaned);
  }

  private async removeDocuments(tenant: string, storeId: string, ids: string[]): Promise<void> {
    for (const id of ids) await this.options.rag.deleteDocument(tenant, storeId, id);
  }
}

function fileObject(f: StoredFile): FileObject {
  return { id: f.id, object: "file", bytes: f.bytes, created_at: f.created_at, filename: f.filename, purpose: f.purpose, status: "processed" };
}

function storeFileObject(storeId: string, f: StoredStoreFile): VectorStoreFileObject & { created_at: number } {
  return {
    id: f.file_id,
    object: "vector_store.file",
    usage_bytes: f.usage_bytes,
    created_at: f.created_at,
    vector_store_id: storeId,
    status: f.status,
    last_error: f.last_error,
    attributes: f.attributes,
  };
}

function storeObject(s: StoredVectorStore): VectorStoreObject {
  const files = Object.values(s.files);
  const expiresAt = s.expires_after === null ? null : s.last_active_at + s.expires_after.days * 86_400;
  const expired = expiresAt !== null && expiresAt < nowSeconds();
  return {
    id: s.id,
    object: "vector_store",
    created_at: s.created_at,
    name: s.name,
    usage_bytes: files.reduce((sum, f) => sum + f.usage_bytes, 0),
    file_counts: counts(files),
    status: expired ? "expired" : files.some((f) => f.status === "in_progress") ? "in_progress" : "completed",
    ...(s.expires_after === null ? {} : { expires_after: s.expires_after }),
    expires_at: expiresAt,
    last_active_at: s.last_active_at,
    metadata: s.metadata,
  };
}

function batchObject(store: StoredVectorStore, b: StoredBatch): VectorStoreFileBatchObject {
  const files = Object.values(store.files).filter((f) => f.batch_id === b.id);
  const c = counts(files);
  const status: FileStatus = c.in_progress > 0 ? "in_progress" : b.cancelled ? "cancelled" : c.failed > 0 && c.completed === 0 ? "failed" : "completed";
  return { id: b.id, object: "vector_store.files_batch", created_at: b.created_at, vector_store_id: store.id, status, file_counts: c };
}

function fileOf(s: TenantState, fileId: string): StoredFile {
  const f = s.files[fileId];
  if (f === undefined) throw notFound(`No such file: '${String(fileId).slice(0, 80)}'.`, { param: "file_id", code: "file_not_found" });
  return f;
}

function storeOf(s: TenantState, storeId: string): StoredVectorStore {
  const store = s.stores[storeId];
  if (store === undefined) {
    throw notFound(`No such vector store: '${String(storeId).slice(0, 80)}'.`, { param: "vector_store_id", code: "vector_store_not_found" });
  }
  return store;
}

function batchOf(store: StoredVectorStore, batchId: string): StoredBatch {
  const b = store.batches[batchId];
  if (b === undefined) throw notFound(`No such file batch: '${String(batchId).slice(0, 80)}'.`, { param: "batch_id", code: "batch_not_found" });
  return b;
}
