/**
 * Retrieval eval sets and the scorer shared by bench/eval-retrieval.ts and
 * the retrieval-quality tests.
 *
 * Every set is documents to ingest plus queries, each with graded relevant
 * document ids (and optionally one id to ignore: the query's own row). The
 * scorer runs each query through `RagService.search` with a given mode and
 * fusion, and reports hit@1, hit@5, MRR@10, nDCG@10 and recall@10 over
 * document ids (several chunks of one document count once).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import type { FusionOptions } from "../src/rag/fusion.js";
import type { RagDocument, RagService, SearchMode } from "../src/rag/index.js";
import { hitAt, mean, ndcgAt, percentile, recallAt, reciprocalRank, seededRandom } from "../src/rag/eval-metrics.js";

export interface EvalQuery {
  text: string;
  /** Document id → grade (> 0 relevant). */
  relevant: Map<string, number>;
  /** A document id left out of this query's ranking (its own row). */
  exclude?: string;
}

export interface EvalSet {
  name: string;
  docs: RagDocument[];
  queries: EvalQuery[];
}

/** A search configuration to score: a mode, and for hybrid a fusion. */
export interface EvalVariant {
  name: string;
  mode: SearchMode;
  fusion?: Partial<FusionOptions>;
}

export interface EvalScores {
  hit1: number;
  hit5: number;
  mrr10: number;
  ndcg10: number;
  recall10: number;
  p50ms: number;
  p95ms: number;
}

/** The variants the eval reports: each part, the default hybrid, and the fusions it was chosen from. */
export const EVAL_VARIANTS: EvalVariant[] = [
  { name: "vector", mode: "vector" },
  { name: "fulltext", mode: "fulltext" },
  { name: "hybrid (default)", mode: "hybrid" },
  { name: "hybrid rrf calibrated", mode: "hybrid", fusion: { method: "rrf" } },
  { name: "hybrid convex calibrated", mode: "hybrid", fusion: { method: "convex" } },
  { name: "hybrid rrf w=0.5", mode: "hybrid", fusion: { method: "rrf", vectorWeight: 0.5 } },
  { name: "hybrid convex w=0.3", mode: "hybrid", fusion: { method: "convex", vectorWeight: 0.3 } },
  { name: "hybrid convex w=0.5", mode: "hybrid", fusion: { method: "convex", vectorWeight: 0.5 } },
  { name: "hybrid convex w=0.7", mode: "hybrid", fusion: { method: "convex", vectorWeight: 0.7 } },
];

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Fisher-Yates with a seeded generator. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const rand = seededRandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

export interface BitextRow {
  instruction: string;
  intent: string;
  category: string;
  response: string;
}

/** Reads the Bitext CSV (columns instruction, intent, category, response). */
export async function readBitext(path: string): Promise<BitextRow[]> {
  const rows = parseCsv<Record<string, string>>(await readFile(path), { columns: true, bom: true, skip_empty_lines: true });
  return rows.map((r) => ({ instruction: r.instruction ?? "", intent: r.intent ?? "", category: r.category ?? "", response: r.response ?? "" }));
}

/**
 * Rows as documents: every `response` is a document; the `instruction`s of a
 * seeded sample of rows are the queries; relevant = every row of the query's
 * intent except its own.
 */
export function bitextRowsSet(rows: BitextRow[], limit: number, seed: number): EvalSet {
  const docs: RagDocument[] = rows.map((r, i) => ({ id: `row-${i}`, text: r.response, metadata: { intent: r.intent, category: r.category } }));
  const byIntent = new Map<string, string[]>();
  rows.forEach((r, i) => byIntent.set(r.intent, [...(byIntent.get(r.intent) ?? []), `row-${i}`]));
  const queries = seededShuffle(
    rows.map((r, i) => ({ r, i })),
    seed,
  )
    .slice(0, limit)
    .map(({ r, i }) => ({
      text: r.instruction,
      relevant: new Map((byIntent.get(r.intent) ?? []).filter((id) => id !== `row-${i}`).map((id) => [id, 1])),
      exclude: `row-${i}`,
    }));
  return { name: "bitext rows", docs, queries };
}

/**
 * A support FAQ: one canonical answer per intent (its first row's response)
 * is the document; a seeded `heldOut` share of each intent's instructions are
 * the candidate queries (a seeded sample of `limit` of them is used); with
 * `withQuestions`, the other instructions are the answer's known `questions`.
 */
export function bitextFaqSet(rows: BitextRow[], options: { limit: number; seed: number; withQuestions: boolean; heldOut?: number }): EvalSet {
  const heldOut = options.heldOut ?? 0.2;
  const byIntent = new Map<string, BitextRow[]>();
  for (const r of rows) byIntent.set(r.intent, [...(byIntent.get(r.intent) ?? []), r]);
  const docs: RagDocument[] = [];
  const candidates: EvalQuery[] = [];
  for (const [intent, mine] of [...byIntent.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const shuffled = seededShuffle(mine, options.seed + intent.length);
    const cut = Math.max(1, Math.round(shuffled.length * heldOut));
    const test = shuffled.slice(0, cut);
    const train = shuffled.slice(cut);
    docs.push({
      id: intent,
      title: intent.replace(/_/g, " "),
      text: (mine[0] as BitextRow).response,
      metadata: { category: (mine[0] as BitextRow).category },
      ...(options.withQuestions ? { questions: train.map((r) => r.instruction) } : {}),
    });
    for (const r of test) candidates.push({ text: r.instruction, relevant: new Map([[intent, 1]]) });
  }
  const queries = seededShuffle(candidates, options.seed).slice(0, options.limit);
  return { name: options.withQuestions ? "bitext faq (answers + known questions)" : "bitext faq (answers only)", docs, queries };
}

function readJsonl(text: string): Record<string, unknown>[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A BEIR-format directory: corpus.jsonl, queries.jsonl, qrels/test.tsv (header line first). */
export async function beirSet(dir: string, limit: number | undefined, seed: number): Promise<EvalSet> {
  const corpus = readJsonl(await readFile(join(dir, "corpus.jsonl"), "utf8"));
  const texts = new Map(readJsonl(await readFile(join(dir, "queries.jsonl"), "utf8")).map((q) => [String(q._id), String(q.text)]));
  const qrels = new Map<string, Map<string, number>>();
  for (const line of (await readFile(join(dir, "qrels", "test.tsv"), "utf8")).split(/\r?\n/).slice(1)) {
    const [qid, did, score] = line.split("\t");
    if (qid === undefined || did === undefined || score === undefined) continue;
    const grades = qrels.get(qid) ?? new Map<string, number>();
    grades.set(did, Number(score));
    qrels.set(qid, grades);
  }
  const docs: RagDocument[] = corpus
    .filter((d) => typeof d.text === "string" && d.text.trim().length > 0)
    .map((d) => ({ id: String(d._id), text: String(d.text), title: typeof d.title === "string" ? d.title : "" }));
  const qids = [...qrels.keys()].filter((q) => texts.has(q));
  const chosen = limit === undefined ? qids : seededShuffle(qids, seed).slice(0, limit);
  return {
    name: `beir ${dir.split("/").filter(Boolean).at(-1) ?? dir}`,
    docs,
    queries: chosen.map((q) => ({ text: texts.get(q) ?? "", relevant: qrels.get(q) ?? new Map<string, number>() })),
  };
}

/** Scores one variant over an ingested set (documents already in `collection`). */
export async function scoreVariant(
  rag: RagService,
  target: { tenant: string; collection: string },
  set: EvalSet,
  variant: EvalVariant,
): Promise<EvalScores> {
  const rows: { hit1: number; hit5: number; mrr: number; ndcg: number; recall: number }[] = [];
  const latency: number[] = [];
  for (const q of set.queries) {
    const t0 = performance.now();
    const passages = await rag.search({
      ...target,
      query: q.text,
      topK: 30,
      mode: variant.mode,
      ...(variant.fusion === undefined ? {} : { fusion: variant.fusion }),
    });
    latency.push(performance.now() - t0);
    const ranking = [...new Set(passages.map((p) => p.documentId))].filter((id) => id !== q.exclude);
    const relevant = new Set([...q.relevant].filter(([, g]) => g > 0).map(([id]) => id));
    rows.push({
      hit1: hitAt(ranking, relevant, 1),
      hit5: hitAt(ranking, relevant, 5),
      mrr: reciprocalRank(ranking, relevant, 10),
      ndcg: ndcgAt(ranking, q.relevant, 10),
      recall: recallAt(ranking, relevant, 10),
    });
  }
  return {
    hit1: round(mean(rows.map((r) => r.hit1))),
    hit5: round(mean(rows.map((r) => r.hit5))),
    mrr10: round(mean(rows.map((r) => r.mrr))),
    ndcg10: round(mean(rows.map((r) => r.ndcg))),
    recall10: round(mean(rows.map((r) => r.recall))),
    p50ms: round(percentile(latency, 50), 2),
    p95ms: round(percentile(latency, 95), 2),
  };
}

// ---------------------------------------------------------------- synthetic

/** Pronounceable pseudo-words, so the full-text tokenizer and stemmer treat them like words. */
export function vocabulary(size: number, rand: () => number): string[] {
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
export function zipfPicker(vocab: string[], rand: () => number): () => string {
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

/**
 * `n` synthetic documents of 40-69 Zipf-distributed pseudo-words (one chunk each at the default
 * chunk size), and a word sampler for queries from the same distribution. Seeded: the same corpus each run.
 */
export function syntheticCorpus(n: number, seed: number): { docs: RagDocument[]; words: (k: number) => string } {
  const rand = seededRandom(seed);
  const pick = zipfPicker(vocabulary(20_000, rand), rand);
  const words = (k: number): string => Array.from({ length: k }, pick).join(" ");
  return { docs: Array.from({ length: n }, (_, i) => ({ id: `syn-${i}`, text: words(40 + Math.floor(rand() * 30)) })), words };
}
