import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as lancedb from "@lancedb/lancedb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HashingEmbedder, RagService } from "../../src/rag/index.js";
import { CHUNKS_PER_VERSION, CRASH_SERVICE_OPTIONS, crashDocs } from "../fixtures/rag/crash-docs.js";
import { tempRag, type TempRag } from "../helpers/rag.js";

/**
 * SIGKILLs a child process in the middle of an ingestion, then re-opens the
 * collection: it must be readable, every document the child reported as
 * committed must be complete, and no document may be half old, half new.
 */
const CHILD = fileURLToPath(new URL("../fixtures/rag/ingest-child.ts", import.meta.url));
const COUNT = 160;
const KILL_AFTER = 40;

interface ChildRun {
  committed: Set<string>;
  signal: NodeJS.Signals | null;
  finished: boolean;
}

/** Runs the child and kills it with SIGKILL once `killAfter` documents are reported committed. */
function ingestAndKill(uri: string, version: "v1" | "v2", killAfter: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, uri, version, String(COUNT)], {
      env: { ...process.env, LANCEDB_LOG: "error" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const committed = new Set<string>();
    let finished = false;
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const msg = JSON.parse(line) as { committed?: string[]; done?: boolean };
      if (msg.done === true) finished = true;
      for (const id of msg.committed ?? []) committed.add(id);
      if (committed.size >= killAfter && child.exitCode === null && child.signalCode === null) {
        // A little jitter so the kill lands at different points of the next batch's write.
        setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 15));
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal === null && code !== 0) reject(new Error(`child exited ${code}: ${stderr}`));
      else resolve({ committed, signal, finished });
    });
  });
}

/** Every stored chunk of the tenant, grouped by document: version and chunk positions. */
async function snapshot(uri: string): Promise<Map<string, { versions: Set<string>; positions: number[] }>> {
  const db = await lancedb.connect(uri);
  try {
    const table = await db.openTable("kb");
    const rows = (await table.query().where("tenant = 'crash'").select(["document_id", "position", "metadata"]).toArray()) as {
      document_id: string;
      position: number;
      metadata: string;
    }[];
    const out = new Map<string, { versions: Set<string>; positions: number[] }>();
    for (const r of rows) {
      const entry = out.get(r.document_id) ?? { versions: new Set<string>(), positions: [] };
      entry.versions.add(String((JSON.parse(r.metadata) as { version: string }).version));
      entry.positions.push(r.position);
      out.set(r.document_id, entry);
    }
    table.close();
    return out;
  } finally {
    db.close();
  }
}

function expectWhole(doc: { versions: Set<string>; positions: number[] } | undefined, version?: "v1" | "v2"): void {
  expect(doc).toBeDefined();
  const versions = [...(doc?.versions ?? [])];
  expect(versions).toHaveLength(1);
  const v = versions[0] as "v1" | "v2";
  if (version !== undefined) expect(v).toBe(version);
  expect([...(doc?.positions ?? [])].sort((a, b) => a - b)).toEqual(Array.from({ length: CHUNKS_PER_VERSION[v] }, (_, i) => i));
}

describe("crash safety: SIGKILL during ingestion", { timeout: 120_000 }, () => {
  let t: TempRag;
  let rag: RagService;
  beforeAll(async () => {
    t = await tempRag();
    await t.rag.dispose();
    rag = await RagService.open({ uri: t.options.uri, embedder: new HashingEmbedder({ dimension: 64 }), ...CRASH_SERVICE_OPTIONS });
  });
  afterAll(async () => {
    await rag.dispose();
    await t.cleanup();
  });

  it("keeps every committed document of a first ingestion intact and searchable", async () => {
    const run = await ingestAndKill(t.options.uri, "v1", KILL_AFTER);
    expect(run.signal).toBe("SIGKILL");
    expect(run.finished).toBe(false);
    expect(run.committed.size).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(run.committed.size).toBeLessThan(COUNT);

    const stored = await snapshot(t.options.uri);
    for (const id of run.committed) expectWhole(stored.get(id), "v1");
    // Documents written after the last report (if any) are whole too.
    for (const doc of stored.values()) expectWhole(doc, "v1");

    for (const id of [...run.committed].slice(0, 5)) {
      const n = id.slice("doc-".length);
      for (const mode of ["fulltext", "vector", "hybrid"] as const) {
        const hits = await rag.search({ tenant: "crash", collection: "kb", query: `doc${n} v1marker`, topK: 3, mode, filter: { document_id: id } });
        expect(hits.length, `${id} ${mode}`).toBeGreaterThan(0);
      }
      const fts = await rag.search({ tenant: "crash", collection: "kb", query: `doc${n}`, topK: 3, mode: "fulltext" });
      expect(fts[0]?.documentId).toBe(id);
    }

    // Resuming skips what survived and adds the rest.
    const resumed = await rag.upsertDocuments("crash", "kb", crashDocs("v1", COUNT));
    expect(resumed.unchanged).toBe(stored.size);
    expect(resumed.inserted).toBe(COUNT - stored.size);
  });

  it("never leaves a document half replaced when killed while updating", async () => {
    const run = await ingestAndKill(t.options.uri, "v2", KILL_AFTER);
    expect(run.signal).toBe("SIGKILL");
    expect(run.finished).toBe(false);

    const stored = await snapshot(t.options.uri);
    expect(stored.size).toBe(COUNT);
    let v2 = 0;
    for (const [id, doc] of stored) {
      expectWhole(doc);
      if (doc.versions.has("v2")) v2++;
      if (run.committed.has(id)) expectWhole(doc, "v2");
    }
    expect(v2).toBeGreaterThanOrEqual(run.committed.size);
    expect(v2).toBeLessThan(COUNT);

    const resumed = await rag.upsertDocuments("crash", "kb", crashDocs("v2", COUNT));
    expect(resumed).toMatchObject({ unchanged: v2, updated: COUNT - v2, inserted: 0 });
    const final = await snapshot(t.options.uri);
    for (const doc of final.values()) expectWhole(doc, "v2");
    const old = await rag.search({ tenant: "crash", collection: "kb", query: "v1marker", topK: 10, mode: "fulltext" });
    expect(old).toEqual([]);
  });
});
