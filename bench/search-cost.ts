/**
 * Cost of one search at 100k chunks, measured so that the load of other work
 * on the machine weighs on it as little as possible: per-query CPU time of
 * the whole process (`process.cpuUsage`, LanceDB's threads included) beside
 * the wall time, and, with `--baseline DIR`, the same queries through another
 * copy of `src/` (e.g. `git archive main src | tar -x -C DIR`), interleaved
 * query by query with this one on the same table, so both see the same load
 * (`--other-uri DIR`: this code on another LanceDB copy of the table, e.g.
 * with another index type, as the baseline).
 *
 *   tsx bench/search-cost.ts [--chunks 100000] [--queries 300] [--dir results/search-cost-100000]
 *                            [--baseline results/baseline | --other-uri DIR] [--parts]
 *
 * The table (synthetic corpus of `eval:retrieval --synthetic`, IVF_FLAT
 * index) is built once in `--dir` and reused. `--parts` also times the
 * LanceDB calls a hybrid search makes, one by one. Prints markdown tables and
 * writes results/search-cost-<timestamp>.json.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as lancedb from "@lancedb/lancedb";
import { mean, percentile } from "../src/rag/eval-metrics.js";
import { HashingEmbedder, RagService, type SearchMode } from "../src/rag/index.js";
import { syntheticCorpus } from "./retrieval-datasets.js";

const TENANT = "eval";
const COLLECTION = "eval";
const MODES: SearchMode[] = ["hybrid", "vector", "fulltext"];

interface Sample {
  wallMs: number;
  cpuMs: number;
}

interface Summary {
  wallP50: number;
  wallP95: number;
  cpuP50: number;
  cpuMean: number;
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

function summary(samples: Sample[]): Summary {
  const wall = samples.map((s) => s.wallMs);
  const cpu = samples.map((s) => s.cpuMs);
  return { wallP50: round(percentile(wall, 50)), wallP95: round(percentile(wall, 95)), cpuP50: round(percentile(cpu, 50)), cpuMean: round(mean(cpu)) };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ sample: Sample; value: T }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { sample: { wallMs, cpuMs: (c.user + c.system) / 1000 }, value };
}

interface ServiceModule {
  RagService: typeof RagService;
  HashingEmbedder: typeof HashingEmbedder;
}

async function openService(mod: ServiceModule, uri: string): Promise<RagService> {
  return mod.RagService.open({
    uri,
    embedder: new mod.HashingEmbedder({ dimension: 384 }),
    chunkSize: 800,
    chunkOverlap: 100,
    rrfK: 60,
    scoreFloor: Number.NEGATIVE_INFINITY,
    writeBatchDocuments: 2_000,
    embedBatchSize: 256,
    vectorIndex: { threshold: 0 },
  });
}

async function ensureTable(dir: string, n: number, seed: number): Promise<void> {
  if (existsSync(join(dir, "ready"))) return;
  const { docs } = syntheticCorpus(n, seed + n);
  const rag = await openService({ RagService, HashingEmbedder }, join(dir, "lancedb"));
  try {
    const t0 = performance.now();
    await rag.upsertDocuments(TENANT, COLLECTION, docs);
    console.error(`ingested ${n} chunks in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const b0 = performance.now();
    await rag.buildVectorIndex(COLLECTION, "ivf_flat");
    console.error(`built ivf_flat in ${((performance.now() - b0) / 1000).toFixed(1)} s`);
  } finally {
    await rag.dispose();
  }
  await writeFile(join(dir, "ready"), `${n}\n`);
}

/** Times the LanceDB calls of a hybrid search one by one, on the table directly. */
async function parts(uri: string, queries: string[], nprobes: number): Promise<Record<string, Summary>> {
  const db = await lancedb.connect(uri, { readConsistencyInterval: 1 });
  const table = await db.openTable(COLLECTION);
  const embedder = new HashingEmbedder({ dimension: 384 });
  const vectors = await embedder.embed(queries);
  const where = `tenant = '${TENANT}'`;
  const full = ["chunk_id", "document_id", "title", "source", "position", "text", "metadata"];
  const ids = ["chunk_id", "document_id", "position"];
  const vec = (v: number[], cols: string[], limit: number, post = false, np = nprobes, filter = true) => {
    let q = table.vectorSearch(v).distanceType("cosine").nprobes(np);
    if (filter) q = q.where(where);
    q = q.select([...cols, "_distance"]).limit(limit);
    if (post) q = q.postfilter();
    return q;
  };
  const fts = (text: string, cols: string[], limit: number, filter = true) => {
    const q = table.query().fullTextSearch(new lancedb.MatchQuery(text, "text"));
    return (filter ? q.where(where) : q).select([...cols, "_score"]).limit(limit);
  };
  const rowIds = ((await table.query().withRowId().select(["position"]).toArray()) as Array<{ _rowid: bigint }>).map((r) => r._rowid);
  const someRows = (i: number, k: number): bigint[] => Array.from({ length: k }, (_, j) => rowIds[(i * 7919 + j * 19_997) % rowIds.length]!);
  const ops: Record<string, (i: number) => Promise<unknown>> = {
    "table.version()": () => table.version(),
    "table.schema()": () => table.schema(),
    "countRows(tenant)": () => table.countRows(where),
    "embed query": (i) => embedder.embed([queries[i]!]),
    "vector 20 rows, hit columns": (i) => vec(vectors[i]!, full, 20).toArray(),
    "vector 20 rows, hit columns, toArrow": (i) => vec(vectors[i]!, full, 20).toArrow(),
    "vector 20 rows, ids": (i) => vec(vectors[i]!, ids, 20).toArray(),
    "vector 10 rows, hit columns": (i) => vec(vectors[i]!, full, 10).toArray(),
    "vector 20 rows, hit columns, postfilter": (i) => vec(vectors[i]!, full, 20, true).toArray(),
    "vector 20 rows, ids, nprobes ÷2": (i) => vec(vectors[i]!, ids, 20, false, Math.ceil(nprobes / 2)).toArray(),
    "vector 20 rows, ids, no tenant filter": (i) => vec(vectors[i]!, ids, 20, false, nprobes, false).toArray(),
    "full text 20 rows, ids, no tenant filter": (i) => fts(queries[i]!, ids, 20, false).toArray(),
    "full text 20 rows, hit columns": (i) => fts(queries[i]!, full, 20).toArray(),
    "full text 20 rows, ids": (i) => fts(queries[i]!, ids, 20).toArray(),
    "full text 10 rows, hit columns": (i) => fts(queries[i]!, full, 10).toArray(),
    "vector 20 rows, row ids only": (i) => table.vectorSearch(vectors[i]!).distanceType("cosine").nprobes(nprobes).where(where).withRowId().select(["_distance"]).limit(20).toArray(),
    "full text 20 rows, row ids only": (i) =>
      table.query().fullTextSearch(new lancedb.MatchQuery(queries[i]!, "text")).where(where).withRowId().select(["_score"]).limit(20).toArray(),
    "take 5 rows by offset, hit columns": async () => table.takeOffsets([1, 20_000, 40_000, 60_000, 80_000]).select(full).toArray(),
    "take 5 rows by row id, hit columns": async (i) => table.takeRowIds(someRows(i, 5)).select(full).toArray(),
    "take 1 row by row id, hit columns": async (i) => table.takeRowIds(someRows(i, 1)).select(full).toArray(),
    "take 5 rows by row id, chunk_id": async (i) => table.takeRowIds(someRows(i, 5)).select(["chunk_id"]).toArray(),
  };
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(ops).map((k) => [k, []]));
  for (let i = 0; i < queries.length; i++) {
    for (const [name, op] of Object.entries(ops)) samples[name]!.push((await timed(() => op(i))).sample);
  }
  table.close();
  db.close();
  return Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, summary(s)]));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      chunks: { type: "string", default: "100000" },
      queries: { type: "string", default: "300" },
      seed: { type: "string", default: "42" },
      dir: { type: "string" },
      baseline: { type: "string" },
      "other-uri": { type: "string" },
      parts: { type: "boolean", default: false },
      modes: { type: "string", default: MODES.join(",") },
    },
  });
  const n = Number(values.chunks);
  const dir = resolve(values.dir ?? join("results", `search-cost-${n}`));
  await mkdir(dir, { recursive: true });
  await ensureTable(dir, n, Number(values.seed));
  const uri = join(dir, "lancedb");
  const { words } = syntheticCorpus(n, Number(values.seed) + n);
  const queries = Array.from({ length: Number(values.queries) }, () => words(5));
  const modes = values.modes.split(",") as SearchMode[];

  const services: Record<string, RagService> = { current: await openService({ RagService, HashingEmbedder }, uri) };
  if (values.baseline !== undefined) {
    const mod = (await import(resolve(values.baseline, "src/rag/index.ts"))) as ServiceModule;
    services.baseline = await openService(mod, uri);
  } else if (values["other-uri"] !== undefined) {
    // The same code on another copy of the table (e.g. with another index type) as the baseline.
    services.baseline = await openService({ RagService, HashingEmbedder }, resolve(values["other-uri"]));
  }
  const loadBefore = loadavg().map((x) => round(x));
  const samples: Record<string, Record<string, Sample[]>> = {};
  const agree: Record<string, number[]> = {};
  try {
    const names = Object.keys(services);
    // Warm: open tables, read index metadata, measure the vector gate.
    for (const q of queries.slice(0, 5)) for (const m of modes) for (const name of names) await services[name]!.search({ tenant: TENANT, collection: COLLECTION, query: q, topK: 5, mode: m });
    for (const [i, query] of queries.entries()) {
      const order = i % 2 === 0 ? names : [...names].reverse();
      for (const mode of modes) {
        const ids: Record<string, string[]> = {};
        for (const name of order) {
          const { sample, value } = await timed(() => services[name]!.search({ tenant: TENANT, collection: COLLECTION, query, topK: 5, mode }));
          ((samples[name] ??= {})[mode] ??= []).push(sample);
          ids[name] = value.map((p) => p.chunkId);
        }
        if (ids.baseline !== undefined) (agree[mode] ??= []).push(ids.current!.filter((id) => ids.baseline!.includes(id)).length / Math.max(1, ids.baseline.length));
      }
    }
  } finally {
    for (const s of Object.values(services)) await s.dispose();
  }
  const loadAfter = loadavg().map((x) => round(x));
  const report: Record<string, unknown> = { chunks: n, queries: queries.length, loadavg: { before: loadBefore, after: loadAfter } };
  console.log(`\n${n} chunks, ${queries.length} queries, top 5, load average ${loadBefore.join(" ")} → ${loadAfter.join(" ")}\n`);
  console.log("| path | mode | wall p50 / p95 ms | CPU p50 / mean ms | top-5 overlap with baseline |");
  console.log("| --- | --- | --- | --- | --- |");
  const searches: Record<string, Record<string, Summary>> = {};
  for (const [name, byMode] of Object.entries(samples)) {
    for (const [mode, s] of Object.entries(byMode)) {
      const x = summary(s);
      (searches[name] ??= {})[mode] = x;
      const overlap = name === "current" && agree[mode] !== undefined ? String(round(mean(agree[mode]), 3)) : "";
      console.log(`| ${name} | ${mode} | ${x.wallP50} / ${x.wallP95} | ${x.cpuP50} / ${x.cpuMean} | ${overlap} |`);
    }
  }
  report.searches = searches;
  report.overlapWithBaseline = Object.fromEntries(Object.entries(agree).map(([m, a]) => [m, round(mean(a), 3)]));
  if (values.parts) {
    const nprobes = Math.ceil(0.4 * Math.round(Math.sqrt(n)));
    const p = await parts(uri, queries.slice(0, 100), nprobes);
    console.log(`\n| LanceDB call (nprobes ${nprobes}) | wall p50 / p95 ms | CPU p50 / mean ms |\n| --- | --- | --- |`);
    for (const [name, x] of Object.entries(p)) console.log(`| ${name} | ${x.wallP50} / ${x.wallP95} | ${x.cpuP50} / ${x.cpuMean} |`);
    report.parts = p;
    console.log(`\nload average at the end: ${loadavg().map((x) => round(x)).join(" ")}`);
  }
  await mkdir("results", { recursive: true });
  const file = join("results", `search-cost-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}

await main();
