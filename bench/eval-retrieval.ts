/**
 * Retrieval evaluation and latency benchmark.
 *
 *   tsx bench/eval-retrieval.ts [--embedder hashing|gguf:PATH] [--limit N] [--top-k K]
 *   tsx bench/eval-retrieval.ts --beir DIR [--limit N]
 *   tsx bench/eval-retrieval.ts --synthetic 10000,100000 [--queries N]
 *
 * Default: the Bitext customer-support CSV (../shared/data/bitext-customer-support/…,
 * relative to the project root; skipped with a message when absent). Every
 * `response` is a document (intent and category as metadata); the
 * `instruction`s of a seeded sample of rows are the queries; a hit is a
 * retrieved document with the query's intent, the query's own row excluded.
 * Reports hit@1, hit@5 and MRR@10 per mode, overall and by intent, ingestion
 * chunks/s and search latency p50/p95 per mode.
 *
 * BEIR (`--beir DIR` with corpus.jsonl, queries.jsonl, qrels/test.tsv):
 * nDCG@10 and recall@10 per mode.
 *
 * Synthetic (`--synthetic N1,N2`): N random-word chunks, 384-dimension hashing
 * embedder, ingestion chunks/s and hybrid search p50/p95.
 *
 * Results go to results/eval-retrieval-<timestamp>.json and a markdown table
 * on stdout. Flags: --limit N (queries: default 300 for Bitext, all for BEIR),
 * --top-k K (default 10), --queries N (synthetic, default 200), --out DIR,
 * --data CSV, --seed N, --keep (keep the temporary LanceDB directory),
 * --chunk-size N, --chunk-overlap N (defaults 800/100, as in the config).
 * `--embedder hashing:dimension=768,charNgramWeight=0.3` sets HashingEmbedder
 * options; `gguf:PATH` embeds with a local GGUF through node-llama-cpp (slow on
 * CPU: one text at a time).
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parse as parseCsv } from "csv-parse/sync";
import { type Embedder, HashingEmbedder, type HashingEmbedderOptions, RagService, type RagDocument, type SearchMode } from "../src/rag/index.js";
import { hitAt, mean, ndcgAt, percentile, recallAt, reciprocalRank, seededRandom } from "../src/rag/eval-metrics.js";

const MODES: SearchMode[] = ["vector", "fulltext", "hybrid"];
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DEFAULT_BITEXT = resolve(
  PROJECT_ROOT,
  "../shared/data/bitext-customer-support/Bitext_Sample_Customer_Support_Training_Dataset.csv",
);
const TENANT = "eval";
const COLLECTION = "eval";

interface Options {
  embedderSpec: string;
  limit: number | undefined;
  topK: number;
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
  return {
    id: `gguf:${path.split("/").at(-1) ?? path}`,
    embed: async (texts) => {
      const out: number[][] = [];
      for (const text of texts) out.push([...(await context.getEmbeddingFor(text)).vector]);
      return out;
    },
    dispose: async () => {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

async function makeEmbedder(spec: string): Promise<{ embedder: Embedder; dispose: () => Promise<void> }> {
  if (spec === "hashing" || spec.startsWith("hashing:")) {
    // `hashing:dimension=768,charNgramWeight=0.3` sets HashingEmbedder options (numbers or true/false).
    const options: Record<string, number | boolean> = {};
    for (const pair of spec.slice("hashing:".length).split(",").filter((p) => p.includes("="))) {
      const [key = "", value = ""] = pair.split("=");
      options[key] = value === "true" ? true : value === "false" ? false : Number(value);
    }
    return { embedder: new HashingEmbedder(options as HashingEmbedderOptions), dispose: async () => undefined };
  }
  if (spec.startsWith("gguf:")) {
    const e = await ggufEmbedder(spec.slice("gguf:".length));
    return { embedder: e, dispose: e.dispose };
  }
  throw new Error(`--embedder must be 'hashing' or 'gguf:PATH', got '${spec}'`);
}

async function withService<T>(
  opts: Options,
  embedder: Embedder,
  extra: { writeBatchDocuments?: number; embedBatchSize?: number },
  fn: (rag: RagService) => Promise<T>): Promise<T> {
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
    return await fn(rag);
  } finally {
    await rag.close();
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

function sample<T>(items: T[], n: number, seed: number): T[] {
  const rand = seededRandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}

/** Runs every query in every mode; returns rankings (document ids) and latencies. */
async function runQueries(
  rag: RagService,
  queries: { query: string }[],
  topK: number,
): Promise<Record<SearchMode, { rankings: string[][]; latencyMs: number[] }>> {
  const out = {} as Record<SearchMode, { rankings: string[][]; latencyMs: number[] }>;
  for (const mode of MODES) {
    const rankings: string[][] = [];
    const latencyMs: number[] = [];
    for (const q of queries) {
      const t0 = performance.now();
      const passages = await rag.search({ tenant: TENANT, collection: COLLECTION, query: q.query, topK, mode });
      latencyMs.push(performance.now() - t0);
      rankings.push(passages.map((p) => p.documentId));
    }
    out[mode] = { rankings, latencyMs };
  }
  return out;
}

function latency(samples: number[]): { p50: number; p95: number } {
  return { p50: round(percentile(samples, 50), 2), p95: round(percentile(samples, 95), 2) };
}

// ---------------------------------------------------------------- Bitext

async function evalBitext(opts: Options, csvPath: string): Promise<Record<string, unknown> | undefined> {
  if (!existsSync(csvPath)) {
    console.log(`Bitext dataset not found at ${csvPath}; nothing to evaluate (see ../shared/data/bitext-customer-support/SOURCE.md).`);
    return undefined;
  }
  const rows = parseCsv(await readFile(csvPath), { columns: true, bom: true, skip_empty_lines: true }) as Record<string, string>[];
  const docs: RagDocument[] = rows.map((r, i) => ({
    id: `row-${i}`,
    text: r.response ?? "",
    metadata: { intent: r.intent ?? "", category: r.category ?? "" },
  }));
  const intentOf = new Map(docs.map((d) => [d.id, String(d.metadata?.intent)]));
  const queryRows = sample(
    rows.map((r, i) => ({ query: r.instruction ?? "", intent: r.intent ?? "", ownId: `row-${i}` })),
    opts.limit ?? 300,
    opts.seed,
  );
  const { embedder, dispose } = await makeEmbedder(opts.embedderSpec);
  try {
    return await withService(opts, embedder, {}, async (rag) => {
      console.error(`Bitext: ${docs.length} documents, ${queryRows.length} queries, embedder ${embedder.id}`);
      const ingestion = await ingest(rag, docs);
      // One extra result, since the query's own row is dropped before scoring.
      const results = await runQueries(rag, queryRows, opts.topK + 1);
      const byMode: Record<string, unknown> = {};
      const byIntent: Record<string, Record<string, { n: number; hit1: number; hit5: number; mrr: number }>> = {};
      for (const mode of MODES) {
        const scores = queryRows.map((q, i) => {
          const ranking = (results[mode].rankings[i] ?? []).filter((id) => id !== q.ownId).slice(0, opts.topK);
          const relevant = new Set(ranking.filter((id) => intentOf.get(id) === q.intent));
          return { intent: q.intent, hit1: hitAt(ranking, relevant, 1), hit5: hitAt(ranking, relevant, 5), mrr: reciprocalRank(ranking, relevant, 10) };
        });
        byMode[mode] = {
          hit1: round(mean(scores.map((s) => s.hit1))),
          hit5: round(mean(scores.map((s) => s.hit5))),
          mrr: round(mean(scores.map((s) => s.mrr))),
          latencyMs: latency(results[mode].latencyMs),
        };
        for (const intent of [...new Set(scores.map((s) => s.intent))].sort()) {
          const mine = scores.filter((s) => s.intent === intent);
          (byIntent[intent] ??= {})[mode] = {
            n: mine.length,
            hit1: round(mean(mine.map((s) => s.hit1))),
            hit5: round(mean(mine.map((s) => s.hit5))),
            mrr: round(mean(mine.map((s) => s.mrr))),
          };
        }
      }
      const report = { dataset: "bitext", embedder: embedder.id, documents: docs.length, queries: queryRows.length, ingestion, byMode, byIntent };
      printBitext(report.byMode as Record<SearchMode, ModeRow>, byIntent, ingestion);
      return report;
    });
  } finally {
    await dispose();
  }
}

interface ModeRow {
  hit1: number;
  hit5: number;
  mrr: number;
  latencyMs: { p50: number; p95: number };
}

function printBitext(
  byMode: Record<SearchMode, ModeRow>,
  byIntent: Record<string, Record<string, { n: number; hit1: number; hit5: number; mrr: number }>>,
  ingestion: { chunks: number; seconds: number; chunksPerSecond: number },
): void {
  console.log(`\nIngestion: ${ingestion.chunks} chunks in ${ingestion.seconds} s (${ingestion.chunksPerSecond} chunks/s)\n`);
  console.log("| mode | hit@1 | hit@5 | MRR@10 | p50 ms | p95 ms |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const mode of MODES) {
    const m = byMode[mode];
    console.log(`| ${mode} | ${m.hit1.toFixed(3)} | ${m.hit5.toFixed(3)} | ${m.mrr.toFixed(3)} | ${m.latencyMs.p50} | ${m.latencyMs.p95} |`);
  }
  console.log("\n| intent | n | hit@1 vector | hit@1 fulltext | hit@1 hybrid | MRR hybrid |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const [intent, modes] of Object.entries(byIntent)) {
    const h = (m: string): string => (modes[m]?.hit1 ?? 0).toFixed(2);
    console.log(`| ${intent} | ${modes.hybrid?.n ?? 0} | ${h("vector")} | ${h("fulltext")} | ${h("hybrid")} | ${(modes.hybrid?.mrr ?? 0).toFixed(3)} |`);
  }
}

// ---------------------------------------------------------------- BEIR

function readJsonl(text: string): Record<string, unknown>[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function evalBeir(opts: Options, dir: string): Promise<Record<string, unknown>> {
  const corpus = readJsonl(await readFile(join(dir, "corpus.jsonl"), "utf8"));
  const queries = new Map(readJsonl(await readFile(join(dir, "queries.jsonl"), "utf8")).map((q) => [String(q._id), String(q.text)]));
  const qrels = new Map<string, Map<string, number>>();
  const lines = (await readFile(join(dir, "qrels", "test.tsv"), "utf8")).split(/\r?\n/).slice(1);
  for (const line of lines) {
    const [qid, did, score] = line.split("\t");
    if (qid === undefined || did === undefined || score === undefined) continue;
    const grades = qrels.get(qid) ?? new Map<string, number>();
    grades.set(did, Number(score));
    qrels.set(qid, grades);
  }
  const docs: RagDocument[] = corpus
    .filter((d) => typeof d.text === "string" && d.text.trim().length > 0)
    .map((d) => ({ id: String(d._id), text: String(d.text), title: typeof d.title === "string" ? d.title : "" }));
  const qids = [...qrels.keys()].filter((q) => queries.has(q));
  const chosen = opts.limit === undefined ? qids : sample(qids, opts.limit, opts.seed);
  const { embedder, dispose } = await makeEmbedder(opts.embedderSpec);
  try {
    return await withService(opts, embedder, { writeBatchDocuments: 500 }, async (rag) => {
      console.error(`BEIR ${dir}: ${docs.length} documents, ${chosen.length} queries, embedder ${embedder.id}`);
      const ingestion = await ingest(rag, docs);
      // Passages are chunks; several may come from one document, so fetch more and dedupe.
      const results = await runQueries(rag, chosen.map((q) => ({ query: queries.get(q) ?? "" })), 30);
      const byMode: Record<string, unknown> = {};
      console.log(`\nIngestion: ${ingestion.chunks} chunks in ${ingestion.seconds} s (${ingestion.chunksPerSecond} chunks/s)\n`);
      console.log("| mode | nDCG@10 | recall@10 | p50 ms | p95 ms |");
      console.log("|---|---:|---:|---:|---:|");
      for (const mode of MODES) {
        const ndcg: number[] = [];
        const recall: number[] = [];
        chosen.forEach((qid, i) => {
          const ranking = [...new Set(results[mode].rankings[i] ?? [])];
          const grades = qrels.get(qid) ?? new Map<string, number>();
          ndcg.push(ndcgAt(ranking, grades, 10));
          recall.push(recallAt(ranking, new Set([...grades].filter(([, g]) => g > 0).map(([id]) => id)), 10));
        });
        const row = { ndcg10: round(mean(ndcg)), recall10: round(mean(recall)), latencyMs: latency(results[mode].latencyMs) };
        byMode[mode] = row;
        console.log(`| ${mode} | ${row.ndcg10.toFixed(3)} | ${row.recall10.toFixed(3)} | ${row.latencyMs.p50} | ${row.latencyMs.p95} |`);
      }
      return { dataset: `beir:${dir}`, embedder: embedder.id, documents: docs.length, queries: chosen.length, ingestion, byMode };
    });
  } finally {
    await dispose();
  }
}

// ---------------------------------------------------------------- synthetic

/** Pronounceable pseudo-words, so the full-text tokenizer and stemmer treat them like words. */
function vocabulary(size: number, rand: () => number): string[] {
  const consonants = "bcdfghjklmnprstvz";
  const vowels = "aeiou";
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 2 + Math.floor(rand() * 2);
    let w = "";
    for (let s = 0; s < syllables; s++) w += (consonants[Math.floor(rand() * consonants.length)] ?? "b") + (vowels[Math.floor(rand() * vowels.length)] ?? "a");
    words.add(w);
  }
  return [...words];
}

/** Zipf-like word choice: a few common words, a long tail, as in real text. */
function zipfPicker(vocab: string[], rand: () => number): () => string {
  const weights = vocab.map((_, i) => 1 / (i + 1));
  const cumulative: number[] = [];
  let total = 0;
  for (const w of weights) cumulative.push((total += w));
  return () => {
    const x = rand() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return vocab[lo] as string;
  };
}

interface SyntheticRun {
  chunks: number;
  ingestion: { chunks: number; seconds: number; chunksPerSecond: number };
  latencyMs: Record<string, { p50: number; p95: number }>;
}

async function evalSynthetic(opts: Options, sizes: number[], queryCount: number): Promise<SyntheticRun[]> {
  const out: SyntheticRun[] = [];
  for (const n of sizes) {
    const rand = seededRandom(opts.seed + n);
    const pick = zipfPicker(vocabulary(20_000, rand), rand);
    const words = (k: number): string => Array.from({ length: k }, pick).join(" ");
    const docs: RagDocument[] = Array.from({ length: n }, (_, i) => ({ id: `syn-${i}`, text: words(40 + Math.floor(rand() * 30)) }));
    const embedder = new HashingEmbedder({ dimension: 384 });
    const row: SyntheticRun = await withService(opts, embedder, { writeBatchDocuments: 2_000, embedBatchSize: 256 }, async (rag) => {
      console.error(`Synthetic: ${n} chunks`);
      const ingestion = await ingest(rag, docs);
      const queries = Array.from({ length: queryCount }, () => ({ query: words(5) }));
      const latencies: Record<string, { p50: number; p95: number }> = {};
      for (const mode of MODES) {
        const samples: number[] = [];
        for (const q of queries) {
          const t0 = performance.now();
          await rag.search({ tenant: TENANT, collection: COLLECTION, query: q.query, topK: 5, mode });
          samples.push(performance.now() - t0);
        }
        latencies[mode] = latency(samples);
      }
      return { chunks: n, ingestion, latencyMs: latencies };
    });
    const lat = row.latencyMs as Record<SearchMode, { p50: number; p95: number }>;
    console.log(
      `| ${n} | ${row.ingestion.chunksPerSecond} | ${row.ingestion.seconds} | ${lat.hybrid.p50} | ${lat.hybrid.p95} | ${lat.vector.p50} | ${lat.fulltext.p50} |`,
    );
    out.push(row);
  }
  return out;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      beir: { type: "string" },
      embedder: { type: "string", default: "hashing" },
      limit: { type: "string" },
      "top-k": { type: "string", default: "10" },
      synthetic: { type: "string" },
      queries: { type: "string", default: "200" },
      out: { type: "string", default: join(PROJECT_ROOT, "results") },
      data: { type: "string", default: DEFAULT_BITEXT },
      seed: { type: "string", default: "42" },
      keep: { type: "boolean", default: false },
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
    embedderSpec: values.embedder,
    limit: values.limit === undefined ? undefined : int(values.limit, "limit"),
    topK: int(values["top-k"], "top-k"),
    seed: int(values.seed, "seed"),
    outDir: values.out,
    keep: values.keep,
    chunkSize: int(values["chunk-size"], "chunk-size"),
    chunkOverlap: int(values["chunk-overlap"], "chunk-overlap"),
  };

  let report: unknown;
  if (values.synthetic !== undefined) {
    const sizes = values.synthetic.split(",").map((s) => int(s.trim(), "synthetic"));
    console.log("\n| chunks | ingest chunks/s | ingest s | hybrid p50 ms | hybrid p95 ms | vector p50 ms | fulltext p50 ms |");
    console.log("|---:|---:|---:|---:|---:|---:|---:|");
    report = { dataset: "synthetic", runs: await evalSynthetic(opts, sizes, int(values.queries, "queries")) };
  } else if (values.beir !== undefined) {
    report = await evalBeir(opts, values.beir);
  } else {
    report = await evalBitext(opts, values.data);
  }
  if (report === undefined) return;
  await mkdir(opts.outDir, { recursive: true });
  const file = join(opts.outDir, `eval-retrieval-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify({ createdAt: new Date().toISOString(), options: opts, report }, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
