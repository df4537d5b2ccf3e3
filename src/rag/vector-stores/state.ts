/**
 * On-disk state of OpenAI-style files and vector stores, per tenant:
 * `<root>/<tenant key>/state.json` (metadata, rewritten atomically through a
 * temp file and rename) and `<root>/<tenant key>/files/<file id>` (the bytes).
 * The tenant key is a hash, so tenant names never become path segments.
 * Writes of one tenant are serialised in this process.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sha256Hex } from "../text.js";

export type FileStatus = "in_progress" | "completed" | "failed" | "cancelled";

export interface StoredFile {
  id: string;
  filename: string;
  purpose: string;
  bytes: number;
  created_at: number;
}

export interface StoredStoreFile {
  file_id: string;
  status: FileStatus;
  last_error: { code: "server_error" | "unsupported_file" | "invalid_file"; message: string } | null;
  created_at: number;
  usage_bytes: number;
  attributes: Record<string, string | number | boolean>;
  /** Document ids this file became in the collection. */
  document_ids: string[];
  batch_id: string | null;
}

export interface StoredBatch {
  id: string;
  created_at: number;
  file_ids: string[];
  cancelled: boolean;
}

export interface StoredVectorStore {
  id: string;
  name: string;
  created_at: number;
  last_active_at: number;
  metadata: Record<string, string>;
  expires_after: { anchor: "last_active_at"; days: number } | null;
  files: Record<string, StoredStoreFile>;
  batches: Record<string, StoredBatch>;
}

export interface TenantState {
  files: Record<string, StoredFile>;
  stores: Record<string, StoredVectorStore>;
}

/** `prefix` + 24 random hex digits (`file-…`, `vs_…`, `vsfb_…`). */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString("hex")}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Per-tenant state with serialised read-modify-write.
 *
 * @example
 * ```ts
 * const state = new StateDir("./data/vector-stores");
 * await state.update("acme", (s) => { s.files[id] = file; });
 * ```
 */
export class StateDir {
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly cache = new Map<string, TenantState>();

  constructor(private readonly root: string) {}

  private dir(tenant: string): string {
    return join(this.root, sha256Hex(`tenant:${tenant}`).slice(0, 32));
  }

  filePath(tenant: string, fileId: string): string {
    if (!/^file-[0-9a-f]{24}$/.test(fileId)) throw new Error("invalid file id");
    return join(this.dir(tenant), "files", fileId);
  }

  private async load(tenant: string): Promise<TenantState> {
    const cached = this.cache.get(tenant);
    if (cached !== undefined) return cached;
    let state: TenantState;
    try {
      state = JSON.parse(await readFile(join(this.dir(tenant), "state.json"), "utf8")) as TenantState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      state = { files: {}, stores: {} };
    }
    this.cache.set(tenant, state);
    return state;
  }

  /** A snapshot read (do not mutate). */
  read(tenant: string): Promise<TenantState> {
    return this.serial(tenant, () => this.load(tenant));
  }

  /** Runs `fn` on the tenant's state and persists it; `fn`'s result is returned. */
  update<T>(tenant: string, fn: (state: TenantState) => T | Promise<T>): Promise<T> {
    return this.serial(tenant, async () => {
      const state = await this.load(tenant);
      const result = await fn(state);
      const dir = this.dir(tenant);
      await mkdir(dir, { recursive: true });
      const tmp = join(dir, `state.json.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
      await writeFile(tmp, JSON.stringify(state));
      await rename(tmp, join(dir, "state.json"));
      return result;
    });
  }

  /** Writes a file's bytes. */
  async writeBytes(tenant: string, fileId: string, bytes: Uint8Array): Promise<void> {
    const path = this.filePath(tenant, fileId);
    await mkdir(join(this.dir(tenant), "files"), { recursive: true });
    await writeFile(path, bytes);
  }

  readBytes(tenant: string, fileId: string): Promise<Buffer> {
    return readFile(this.filePath(tenant, fileId));
  }

  async removeBytes(tenant: string, fileId: string): Promise<void> {
    await rm(this.filePath(tenant, fileId), { force: true });
  }

  private serial<T>(tenant: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(tenant) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.chains.set(tenant, settled);
    void settled.then(() => {
      if (this.chains.get(tenant) === settled) this.chains.delete(tenant);
    });
    return next;
  }
}
