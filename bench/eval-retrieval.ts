/**
 * Retrieval evaluation and latency benchmark.
 *
 *   tsx bench/eval-retrieval.ts [--embedder sif+hashing,sif,hashing,gguf:PATH] [--limit N]
 *   tsx bench/eval-retrieval.ts --beir DIR [--limit N]
 *   tsx bench/eval-retrieval.ts --synthetic 10000,100000 [--queries N]
 *
 * Default: three sets from the Bitext customer-support CSV
 * (../shared/data/bitext-customer-support/…, relative to the project root;
 * skipped with a message when absent), see bench/retrieval-datasets.ts:
 * - rows: every `response` is a document, a seeded sample of `instruction`s
 *   are the queries, any row of the query's intent is a hit (own row excluded);
 * - faq (answers only): one canonical answer per intent, held-out customer
 *   questions as queries;
 * - faq (answers + known questions): the same, each answer indexed with the
 *   intent's other (training) questions as `questions`.
 * Plus, when present, the BEIR-format sets given with --beir (comma list) and
 * the bundled synthetic BEIR set (test/fixtures/rag/bitext-beir). For every
 * embedder and every search variant (vector, fulltext, hybrid with the
 * default fusion and the fusions it was chosen from) it reports hit@1, hit@5,
 * MRR@10, nDCG@10, recall@10, search p50/p95 and ingestion chunks/s.
 *
 * Synthetic (`--synthetic N1,N2`): N random-word chunks, 384-dimension hashing
 * embedder, ingestion chunks/s; then for each of `--index-types` (default
 * ivf_flat) the ANN index build time, search p50/p95 per mode with the index
 * and without it (a copy of the table, queried alternately query by query so
 * both see the same load), the ANN's recall@10 against flat, and the load
 * average around the runs.
 *
 * Results go to results/eval-retrieval-<timestamp>.json and markdown tables
 * on stdout. Flags: --limit N (queries per set: default 300, all for BEIR),
 * --queries N (synthetic, default 200), --out DIR, --data CSV, --seed N,
 * --keep (keep the temporary LanceDB directory), --chunk-size N,
 * --chunk-overlap N (defaults 800/100, as in the config), --sets
 * rows,faq,faq-questions,beir (default all). `gguf:PATH` embeds with a local
 * GGUF through node-llama-cpp with its model card's prefixes (see
 * src/rag/embedding-models.ts).
 */
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  createOfflineEmbedder,
  type Embedder,
  FUSION_METHODS,
  HashingEmbedder,
  modelCardEmbedder,
  OFFLINE_EMBEDDER_KINDS,
  type OfflineEmbedderKind,
  RagService,
  type RagDocument,
  type SearchMode,
  VECTOR_INDEX_TYPES,
  type VectorIndexType,
} from "../src/rag/index.js";
import { mean, percentile } from "../src/rag/eval-metrics.js";
import { relativeGateFor } from "../src/rag/from-config.js";
import {
  beirSet,
  bitextFaqSet,
  bitextRowsSet,
  EVAL_VARIANTS,
  type EvalScores,
  type EvalSet,
  readBitext,
  scoreVariant,
  syntheticCorpus,
} from "./retrieval-datasets.js";

const MODES: SearchMode[] = ["vector", "fulltext", "hybrid"];
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_BITEXT = resolve(
  PROJECT_ROOT,
  "../shared/data/bitext-customer-support/Bitext_Sample_Customer_Support_Training_Dataset.csv",
);
const BUNDLED_BEIR = join(PROJECT_ROOT, "test/fixtures/rag/bitext-beir");
const WORD_VECTOR_CACHE = join(tmpdir(), "switchyard-embeddings");
const TENANT = "eval";
const COLLECTION = "eval";

interface Options {
  embedderSpecs: string[];
  limit: number | undefined;
  seed: number;
  outDir: string;
  keep: boolean;
  chunkSize: number;
  chunkOverlap: number;
}

/** Embeds with a local GGUF through node-llama-cpp (the gateway uses a shard process instead). */
async function ggufEmbedder(path: string): Promise<Embedder & { dispose: () => Promise<void> }> {
  const { getLlama } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never" });
  const model = await llama.loadModel({ modelPath: path });
  // Explicit threads: unset, llama.cpp spins more threads than cores (see STACK-NOTES).
  const context = await model.createEmbeddingContext({ threads: 2 });
  const name = path.split("/").at(-1) ?? path;
  const raw: Embedder = {
    id: `gguf:${name}`,
    embed: async (texts) => {
      const out: number[][] = [];
      for (const text of texts) {
        const tokens = model.tokenize(text).slice(0, model.trainContextSize);
        out.push([...(await context.getEmbeddingFor(tokens)).vector]);
      }
      return out;
    },
  };
  const embedder = modelCardEmbedder(raw, name);
  return Object.assign(embedder, {
    dispose: async () => {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  });
}

async function makeEmbedder(spec: string): Promise<{ embedder: Embedder; dispose: () => Promise<void> }> {
  if ((OFFLINE_EMBEDDER_KINDS as readonly string[]).includes(spec)) {
    const embedder = createOfflineEmbedder({ kind: spec as OfflineEmbedderKind, cacheDir: WORD_VECTOR_CACHE });
    return { embedder, dispose: async () => undefined };
  }
  if (spec.startsWith("hashing:")) {
    // `hashing:dimension=768,charNgramWeight=0.3` sets HashingEmbedder options (numbers or true/false).
    const options: Record<string, number | boolean> = {};
    for (const pair of spec.slice("hashing:".length).split(";").filter((p) => p.includes("="))) {
      const [key = "", value = ""] = pair.split("=");
      options[key] = value === "true" ? true : value === "false" ? false : Number(value);
    }
    return { embedder: new HashingEmbedder(options), dispose: async () => undefined };
  }
  if (spec.startsWith("gguf:")) {
    const e = await ggufEmbedder(spec.slice("gguf:".length));
    return { embedder: e, dispose: e.dispose };
  }
  throw new Error(`--embedder entries must be one of ${OFFLINE_EMBEDDER_KINDS.join(", ")}, hashing:OPTS or gguf:PATH, got '${spec}'`);
}

async function withService<T>(
  opts: Options,
  embedder: Embedder,
  extra: { writeBatchDocuments?: number; embedBatchSize?: number; vectorIndex?: { threshold: number }; fusion?: { relativeGate: number } },
  fn: (rag: RagService, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-eval-"));
  const rag = await RagService.open({
    uri: join(dir, "lancedb"),
    embedder,
    chunkSize: opts.chunkSize,
    chunkOverlap: opts.chunkOverlap,
    rrfK: 60,
    scoreFloor: Number.NEGATIVE_INFINITY,
    ...extra,
  });
  try {
    return await fn(rag, dir);
  } finally {
    await rag.dispose();
    if (opts.keep) console.error(`kept LanceDB at ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

async function ingest(rag: RagService, docs: RagDocument[]): Promise<{ chunks: number; seconds: number; chunksPerSecond: number }> {
  const t0 = performance.now();
  let last = 0;
  const r = await rag.upsertDocuments(TENANT, COLLECTION, docs, (p) => {
    if (p.done - last >= 5_000 || p.done === p.total) {
      last = p.done;
      console.error(`  ingested ${p.done}/${p.total} documents (${p.chunks} chunks)`);
    }
  });
  const seconds = (performance.now() - t0) / 1000;
  return { chunks: r.chunks, seconds: round(seconds, 2), chunksPerSecond: round(r.chunks / seconds, 1) };
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function latency(samples: number[]): { p50: number; p95: number } {
  return { p50: round(percentile(samples, 50), 2), p95: round(percentile(samples, 95), 2) };
}

// ---------------------------------------------------------------- quality

interface SetResult {
  set: string;
  embedder: string;
  documents: number;
  queries: number;
  ingestion: { chunks: number; seconds: number; chunksPerSecond: number };
  variants: Record<string, EvalScores>;
  /**
   * The collection's vector gate signal, the vector ranking's probe MRR@10 relative to full text's, the calibrated
   * vector weight per fusion method (prior 0.5), and the probes' time (ms).
   */
  calibration: { signal: number; multiplier: number; relative: number; weights: Record<string, number>; probeMs: number };
}

async function evalSet(opts: Options, set: EvalSet, embedder: Embedder, spec: string): Promise<SetResult> {
  // The relative gate as the gateway's config sets it: off for an embedding model.
  const fusion = { relativeGate: relativeGateFor(spec.startsWith("gguf:")) };
  return withService(opts, embedder, { writeBatchDocuments: 500, embedBatchSize: 256, fusion }, async (rag) => {
    console.error(`${set.name}: ${set.docs.length} documents, ${set.queries.length} queries, embedder ${embedder.id}`);
    const ingestion = await ingest(rag, set.docs);
    // The probes the first hybrid search of a collection waits for, timed apart from the searches.
    const t0 = performance.now();
    const c = await rag.vectorSignal(TENANT, COLLECTION);
    const probeMs = round(performance.now() - t0, 1);
    const weights = Object.fromEntries(FUSION_METHODS.map((method) => [method, round(c.weightFor({ method, vectorWeight: 0.5, rrfK: 60 }), 2)]));
    const calibration = { signal: round(c.signal), multiplier: round(c.multiplier), relative: round(c.relative), weights, probeMs };
    const variants: Record<string, EvalScores> = {};
    for (const v of EVAL_VARIANTS) variants[v.name] = await scoreVariant(rag, { tenant: TENANT, collection: COLLECTION }, set, v);
    return { set: set.name, embedder: embedder.id, documents: set.docs.length, queries: set.queries.length, ingestion, variants, calibration };
  });
}

function printSet(r: SetResult, spec: string): void {
  console.log(`\n### ${r.set} — embedder \`${spec}\` (${r.documents} documents, ${r.queries} queries; ingest ${r.ingestion.chunksPerSecond} chunks/s)\n`);
  console.log(`vector gate signal ${r.calibration.signal} (×${r.calibration.multiplier}), vector/full-text probe MRR ${r.calibration.relative}; calibrated vector weight ${JSON.stringify(r.calibration.weights)}; probes ${r.calibration.probeMs} ms\n`);
  console.log("| variant | hit@1 | hit@5 | MRR@10 | nDCG@10 | recall@10 | p50 ms | p95 ms |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const [name, s] of Object.entries(r.variants)) {
    console.log(
      `| ${name} | ${s.hit1.toFixed(3)} | ${s.hit5.toFixed(3)} | ${s.mrr10.toFixed(3)} | ${s.ndcg10.toFixed(3)} | ${s.recall10.toFixed(3)} | ${s.p50ms} | ${s.p95ms} |`,
    );
  }
}

async function evalQuality(opts: Options, csvPath: string, beirDirs: string[], sets: Set<string>): Promise<SetResult[]> {
  const evalSets: EvalSet[] = [];
  const limit = opts.limit ?? 300;
  if (existsSync(csvPath)) {
    const rows = await readBitext(csvPath);
    if (sets.has("rows")) evalSets.push(bitextRowsSet(rows, limit, opts.seed));
    if (sets.has("faq")) evalSets.push(bitextFaqSet(rows, { limit, seed: opts.seed, withQuestions: false }));
    if (sets.has("faq-questions")) evalSets.push(bitextFaqSet(rows, { limit, seed: opts.seed, withQuestions: true }));
  } else {
    console.log(`Bitext dataset not found at ${csvPath}; skipping the Bitext sets (see ../shared/data/bitext-customer-support/SOURCE.md).`);
  }
  if (sets.has("beir")) {
    for (const dir of beirDirs) {
      if (existsSync(join(dir, "corpus.jsonl"))) evalSets.push(await beirSet(dir, opts.limit, opts.seed));
      else console.log(`No BEIR corpus.jsonl in ${dir}; skipped.`);
    }
  }
  const out: SetResult[] = [];
  for (const spec of opts.embedderSpecs) {
    const { embedder, dispose } = await makeEmbedder(spec);
    try {
      for (const set of evalSets) {
        const r = await evalSet(opts, set, embedder, spec);
        printSet(r, spec);
        out.push(r);
      }
    } finally {
      await dispose();
    }
  }
  return out;
}

// ---------------------------------------------------------------- synthetic

type Latencies = Record<string, { p50: number; p95: number }>;

interface IndexedRun {
  type: VectorIndexType;
  buildSeconds: number;
  /** With the ANN index, per mode. */
  latencyMs: Latencies;
  /** Without it (the same rows in a copy of the table), per mode, interleaved query by query with `latencyMs`. */
  flatLatencyMs: Latencies;
  /** Mean over queries of |ANN top-10 ∩ flat top-10| / 10 (vector mode). */
  recallAt10: number;
  /** 1-, 5- and 15-minute load averages before and after the interleaved runs (2 shared cores). */
  loadavg: { before: number[]; after: number[] };
}

interface SyntheticRun {
  chunks: number;
  ingestion: { chunks: number; seconds: number; chunksPerSecond: number };
  indexed: IndexedRun[];
}

const loadNow = (): number[] => loadavg().map((x) => round(x, 2));

/**
 * Searches every query in every mode on both services, alternating which goes
 * first, so all series see the same machine load; returns per-mode latencies and the
 * vector top-10 of each.
 */
async function interleaved(ann: RagService, flat: RagService, queries: string[]): Promise<{ ann: Latencies; flat: Latencies; recall: number }> {
  const out = { ann: {} as Latencies, flat: {} as Latencies };
  const timeOne = async (rag: RagService, query: string, mode: SearchMode, topK: number): Promise<{ ms: number; ids: string[] }> => {
    const t0 = performance.now();
    // Hybrid at the configured weight, not the calibrated one: the relative gate may set the vector weight of
    // random-word chunks to 0, and hybrid would then time one search, not two and the fusion.
    const hits = await rag.search({ tenant: TENANT, collection: COLLECTION, query, topK, mode, ...(mode === "hybrid" ? { fusion: { calibrate: false } } : {}) });
    return { ms: performance.now() - t0, ids: hits.map((h) => h.chunkId) };
  };
  // Query by query, every mode on both: a load spike from other work hits all six series alike.
  const samples = Object.fromEntries(MODES.map((m) => [m, { ann: [] as number[], flat: [] as number[] }]));
  for (const [i, query] of queries.entries()) {
    const order = i % 2 === 0 ? (["ann", "flat"] as const) : (["flat", "ann"] as const);
    for (const mode of MODES) {
      for (const which of order) samples[mode]![which].push((await timeOne(which === "ann" ? ann : flat, query, mode, 5)).ms);
    }
  }
  for (const mode of MODES) {
    out.ann[mode] = latency(samples[mode]!.ann);
    out.flat[mode] = latency(samples[mode]!.flat);
  }
  const overlap: number[] = [];
  for (const query of queries) {
    const a = (await timeOne(ann, query, "vector", 10)).ids;
    const f = (await timeOne(flat, query, "vector", 10)).ids;
    overlap.push(a.filter((id) => f.includes(id)).length / 10);
  }
  return { ...out, recall: round(mean(overlap)) };
}

async function evalSynthetic(opts: Options, sizes: number[], queryCount: number, indexTypes: VectorIndexType[]): Promise<SyntheticRun[]> {
  const out: SyntheticRun[] = [];
  for (const n of sizes) {
    const { docs, words } = syntheticCorpus(n, opts.seed + n);
    const embedder = new HashingEmbedder({ dimension: 384 });
    // No automatic index: each index type is built on purpose, in one table; a copy of it stays flat.
    const extra = { writeBatchDocuments: 2_000, embedBatchSize: 256, vectorIndex: { threshold: 0 } };
    const row: SyntheticRun = await withService(opts, embedder, extra, async (rag, dir) => {
      console.error(`Synthetic: ${n} chunks`);
      const ingestion = await ingest(rag, docs);
      await cp(join(dir, "lancedb"), join(dir, "flat"), { recursive: true });
      const flat = await RagService.open({ uri: join(dir, "flat"), embedder, chunkSize: opts.chunkSize, chunkOverlap: opts.chunkOverlap, rrfK: 60, scoreFloor: Number.NEGATIVE_INFINITY, vectorIndex: { threshold: 0 } });
      try {
        const queries = Array.from({ length: queryCount }, () => words(5));
        // Warm both (first searches open tables, read index metadata and measure the vector gate).
        for (const query of queries.slice(0, 5)) for (const mode of MODES) for (const r of [rag, flat]) await r.search({ tenant: TENANT, collection: COLLECTION, query, topK: 5, mode });
        const indexed: IndexedRun[] = [];
        for (const type of indexTypes) {
          const t0 = performance.now();
          await rag.buildVectorIndex(COLLECTION, type);
          const buildSeconds = round((performance.now() - t0) / 1000, 1);
          const before = loadNow();
          const r = await interleaved(rag, flat, queries);
          indexed.push({ type, buildSeconds, latencyMs: r.ann, flatLatencyMs: r.flat, recallAt10: r.recall, loadavg: { before, after: loadNow() } });
        }
        return { chunks: n, ingestion, indexed };
      } finally {
        await flat.dispose();
      }
    });
    const fmt = (l: Latencies): string => `${l.hybrid?.p50} / ${l.hybrid?.p95} | ${l.vector?.p50} / ${l.vector?.p95} | ${l.fulltext?.p50} / ${l.fulltext?.p95}`;
    for (const x of row.indexed) {
      const load = `${x.loadavg.before[0]} → ${x.loadavg.after[0]}`;
      console.log(`| ${n} | flat | ${row.ingestion.chunksPerSecond} | – | ${fmt(x.flatLatencyMs)} | 1 | ${load} |`);
      console.log(`| ${n} | ${x.type} | | ${x.buildSeconds} | ${fmt(x.latencyMs)} | ${x.recallAt10} | ${load} |`);
    }
    out.push(row);
  }
  return out;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      beir: { type: "string" },
      embedder: { type: "string", default: OFFLINE_EMBEDDER_KINDS.join(",") },
      limit: { type: "string" },
      synthetic: { type: "string" },
      "index-types": { type: "string", default: "ivf_flat" },
      queries: { type: "string", default: "200" },
      out: { type: "string", default: join(PROJECT_ROOT, "results") },
      data: { type: "string", default: DEFAULT_BITEXT },
      seed: { type: "string", default: "42" },
      keep: { type: "boolean", default: false },
      sets: { type: "string", default: "rows,faq,faq-questions,beir" },
      "chunk-size": { type: "string", default: "800" },
      "chunk-overlap": { type: "string", default: "100" },
    },
  });
  const int = (s: string, name: string): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
    return n;
  };
  const opts: Options = {
    embedderSpecs: values.embedder.split(",").map((s) => s.trim()).filter(Boolean),
    limit: values.limit === undefined ? undefined : int(values.limit, "limit"),
    seed: int(values.seed, "seed"),
    outDir: values.out,
    keep: values.keep,
    chunkSize: int(values["chunk-size"], "chunk-size"),
    chunkOverlap: int(values["chunk-overlap"], "chunk-overlap"),
  };

  let report: unknown;
  if (values.synthetic !== undefined) {
    const sizes = values.synthetic.split(",").map((s) => int(s.trim(), "synthetic"));
    const indexTypes = values["index-types"].split(",").filter(Boolean);
    for (const t of indexTypes) if (!(VECTOR_INDEX_TYPES as readonly string[]).includes(t)) throw new Error(`--index-types: ${VECTOR_INDEX_TYPES.join(", ")}; got '${t}'`);
    console.log("\n| chunks | vector index | ingest chunks/s | index build s | hybrid p50 / p95 ms | vector p50 / p95 ms | full-text p50 / p95 ms | recall@10 vs flat | load avg (1 min) |");
    console.log("|---:|---|---:|---:|---:|---:|---:|---:|---|");
    report = { dataset: "synthetic", runs: await evalSynthetic(opts, sizes, int(values.queries, "queries"), indexTypes as VectorIndexType[]) };
  } else {
    const beirDirs = [...(values.beir?.split(",").map((d) => resolve(d.trim())) ?? []), BUNDLED_BEIR];
    report = { dataset: "quality", sets: await evalQuality(opts, values.data, beirDirs, new Set(values.sets.split(",").map((s) => s.trim()))) };
  }
  await mkdir(opts.outDir, { recursive: true });
  const file = join(opts.outDir, `eval-retrieval-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify({ createdAt: new Date().toISOString(), options: opts, report }, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
