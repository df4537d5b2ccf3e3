/**
 * ANN parameter sweep: recall@10 against flat search and latency for LanceDB
 * vector index settings on the synthetic corpus of `npm run eval:retrieval --
 * --synthetic` (384-d hashing vectors, random-word chunks), to choose the
 * build and search parameters in src/rag/store.ts.
 *
 *   tsx bench/ann-tune.ts [--chunks 100000] [--queries 100] [--seed 7] [--only PREFIXES] [--uri DIR]
 *
 * Ingests once through RagService (the real table layout; `--uri`: a LanceDB
 * directory holding such a table already, e.g. a copy of the one
 * bench/search-cost.ts keeps, whose indexes this replaces), then per index
 * configuration builds it (timed) and runs every search setting, querying the
 * table directly with the same predicate RagService uses. Prints a markdown
 * table with wall and CPU time per query (the process's, LanceDB's threads
 * included: less moved by other work on the machine than wall time); writes results/ann-tune-<timestamp>.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as lancedb from "@lancedb/lancedb";
import { HashingEmbedder, RagService } from "../src/rag/index.js";
import { mean, percentile } from "../src/rag/eval-metrics.js";
import { syntheticCorpus } from "./retrieval-datasets.js";

interface IndexConfig {
  name: string;
  index: lancedb.Index;
  /** Search settings to try on this index. */
  searches: Array<{ nprobes: number; ef?: number; refine?: number }>;
}

const TENANT = "eval";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { chunks: { type: "string", default: "100000" }, queries: { type: "string", default: "100" }, seed: { type: "string", default: "7" }, only: { type: "string" }, uri: { type: "string" } },
  });
  const n = Number(values.chunks);
  const queryCount = Number(values.queries);
  const { docs, words } = syntheticCorpus(n, Number(values.seed) + n);
  const embedder = new HashingEmbedder({ dimension: 384 });
  const dir = await mkdtemp(join(tmpdir(), "switchyard-ann-"));
  const uri = values.uri ?? join(dir, "lancedb");
  const rag = await RagService.open({ uri, embedder, chunkSize: 800, chunkOverlap: 100, rrfK: 60, scoreFloor: Number.NEGATIVE_INFINITY, writeBatchDocuments: 2_000, embedBatchSize: 256, vectorIndex: { threshold: 0 } });
  const rows: Array<Record<string, unknown>> = [];
  try {
    if (values.uri === undefined) {
      const t0 = performance.now();
      await rag.upsertDocuments(TENANT, "ann", docs);
      console.error(`ingested ${n} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    const db = await lancedb.connect(uri);
    const [name] = await db.tableNames();
    const table = await db.openTable(name!);
    const queries = await Promise.all(Array.from({ length: queryCount }, () => embedder.embed([words(5)]).then((v) => v[0]!)));
    const where = `tenant = '${TENANT}'`;
    const search = (v: number[], s: { nprobes: number; ef?: number; refine?: number }, flat = false) => {
      let q = table.vectorSearch(v).distanceType("cosine").where(where).select(["chunk_id", "_distance"]).limit(10);
      if (flat) q = q.bypassVectorIndex();
      else {
        q = q.nprobes(s.nprobes);
        if (s.ef !== undefined) q = q.ef(s.ef);
        if (s.refine !== undefined) q = q.refineFactor(s.refine);
      }
      return q.toArray() as Promise<Array<{ chunk_id: string }>>;
    };
    const timed = async (s: { nprobes: number; ef?: number; refine?: number }, flat = false) => {
      const ms: number[] = [];
      const cpu: number[] = [];
      const ids: string[][] = [];
      for (const v of queries) {
        const c = process.cpuUsage();
        const t = performance.now();
        const r = await search(v, s, flat);
        ms.push(performance.now() - t);
        const used = process.cpuUsage(c);
        cpu.push((used.user + used.system) / 1000);
        ids.push(r.map((x) => x.chunk_id));
      }
      return { ids, p50: percentile(ms, 50), p95: percentile(ms, 95), cpu: mean(cpu) };
    };
    const flat = await timed({ nprobes: 1 }, true);
    console.log(`| config | build s | nprobes | ef | refine | recall@10 | p50 ms | p95 ms | CPU mean ms |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
    console.log(`| flat | – | – | – | – | 1 | ${flat.p50.toFixed(2)} | ${flat.p95.toFixed(2)} | ${flat.cpu.toFixed(2)} |`);
    rows.push({ config: "flat", p50: flat.p50, p95: flat.p95, cpu: flat.cpu, recall: 1 });
    const parts = Math.round(Math.sqrt(n));
    const configs: IndexConfig[] = [
      {
        name: "hnsw_sq p=1 m=20",
        index: lancedb.Index.hnswSq({ distanceType: "cosine", numPartitions: 1 }),
        searches: [{ nprobes: 1, ef: 200, refine: 4 }, { nprobes: 1, ef: 800, refine: 4 }, { nprobes: 1, ef: 1500, refine: 10 }],
      },
      {
        name: "hnsw_sq p=1 m=32",
        index: lancedb.Index.hnswSq({ distanceType: "cosine", numPartitions: 1, m: 32, efConstruction: 400 }),
        searches: [{ nprobes: 1, ef: 400, refine: 10 }, { nprobes: 1, ef: 800, refine: 10 }, { nprobes: 1, ef: 1500, refine: 10 }, { nprobes: 1, ef: 3000, refine: 10 }],
      },
      {
        name: `ivf_flat p=${parts}`,
        index: lancedb.Index.ivfFlat({ distanceType: "cosine", numPartitions: parts }),
        searches: [{ nprobes: Math.ceil(parts / 10) }, { nprobes: Math.ceil(parts / 5) }, { nprobes: Math.ceil(parts * 0.3) }, { nprobes: Math.ceil(parts / 2.5) }],
      },
      {
        name: `ivf_rq p=${parts} bits=1`,
        index: lancedb.Index.ivfRq({ distanceType: "cosine", numPartitions: parts, numBits: 1 }),
        searches: [{ nprobes: Math.ceil(parts / 5), refine: 10 }, { nprobes: Math.ceil(parts / 2.5), refine: 10 }, { nprobes: Math.ceil(parts / 2.5), refine: 20 }],
      },
      {
        name: `ivf_rq p=${parts} bits=2`,
        index: lancedb.Index.ivfRq({ distanceType: "cosine", numPartitions: parts, numBits: 2 }),
        searches: [{ nprobes: Math.ceil(parts / 2.5), refine: 5 }, { nprobes: Math.ceil(parts / 2.5), refine: 10 }],
      },
      {
        name: `ivf_rq p=${parts} bits=4`,
        index: lancedb.Index.ivfRq({ distanceType: "cosine", numPartitions: parts, numBits: 4 }),
        searches: [
          { nprobes: Math.ceil(parts / 5), refine: 5 },
          { nprobes: Math.ceil(parts * 0.3), refine: 3 },
          { nprobes: Math.ceil(parts * 0.3), refine: 5 },
          { nprobes: Math.ceil(parts / 2.5), refine: 2 },
          { nprobes: Math.ceil(parts / 2.5), refine: 3 },
          { nprobes: Math.ceil(parts / 2.5), refine: 5 },
          { nprobes: Math.ceil(parts / 2.5), refine: 10 },
        ],
      },
      {
        name: `ivf_pq p=${parts} m=96`,
        index: lancedb.Index.ivfPq({ distanceType: "cosine", numPartitions: parts, numSubVectors: 96 }),
        searches: [{ nprobes: Math.ceil(parts / 5), refine: 10 }, { nprobes: Math.ceil(parts / 2.5), refine: 10 }],
      },
      {
        name: `ivf_pq p=${parts}`,
        index: lancedb.Index.ivfPq({ distanceType: "cosine", numPartitions: parts }),
        searches: [{ nprobes: 20, refine: 4 }, { nprobes: Math.ceil(parts / 5), refine: 10 }, { nprobes: Math.ceil(parts / 2.5), refine: 20 }],
      },
    ];
    for (const c of configs) {
      if (values.only !== undefined && !values.only.split(",").some((p) => c.name.startsWith(p))) continue;
      const b0 = performance.now();
      await table.createIndex("vector", { config: c.index, replace: true });
      const build = (performance.now() - b0) / 1000;
      // Warm: the first searches after a build load the index from disk.
      for (const v of queries.slice(0, 10)) await search(v, c.searches[0]!);
      for (const s of c.searches) {
        const r = await timed(s);
        const recall = mean(r.ids.map((ids, i) => ids.filter((id) => flat.ids[i]!.includes(id)).length / 10));
        console.log(`| ${c.name} | ${build.toFixed(1)} | ${s.nprobes} | ${s.ef ?? "–"} | ${s.refine ?? "–"} | ${recall.toFixed(3)} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.cpu.toFixed(2)} |`);
        rows.push({ config: c.name, build, ...s, recall, p50: r.p50, p95: r.p95, cpu: r.cpu });
      }
    }
    console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
    await mkdir("results", { recursive: true });
    await writeFile(join("results", `ann-tune-${Date.now()}.json`), JSON.stringify({ chunks: n, queries: queryCount, loadavg: loadavg(), rows }, null, 2));
  } finally {
    await rag.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
