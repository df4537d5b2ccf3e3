/**
 * Semantic-cache hit and false-hit rates on the Bitext customer-support data.
 *
 *   tsx bench/semantic-cache-eval.ts [--stored N] [--queries N] [--seed N] [--data CSV]
 *
 * Per intent, `--stored` questions (default 20) are answered and stored in a
 * SemanticCache (the real class and in-memory store, one scope); then
 * `--queries` other questions (default 1500, all intents) are looked up. A hit
 * from a stored question of the same intent is a good hit (a paraphrase), one
 * from another intent a false hit (the wrong answer). For each threshold the
 * eval reports the good-hit rate and the false-hit rate over all queries,
 * with and without the anchor rule (equal digit runs), and picks the lowest
 * threshold whose false-hit rate is at most 1%.
 *
 * Embedders: the offline ones of `src/rag` (`--embedders sif+hashing,sif,hashing`; the word
 * vectors are cached under `--cache-dir`, default data/embeddings).
 * Results: results/semantic-cache-eval.json, a markdown table on stdout.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parse as parseCsv } from "csv-parse/sync";
import { MemorySemanticStore, SemanticCache, type CachedResponse } from "../src/cache/index.js";
import { createOfflineEmbedder, type Embedder, type OfflineEmbedderKind } from "../src/rag/index.js";
import { seededRandom } from "../src/util/seeded-random.js";
import { machineInfo, markdownTable, round, writeResult } from "./stats.js";

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_BITEXT = resolve(PROJECT_ROOT, "../shared/data/bitext-customer-support/Bitext_Sample_Customer_Support_Training_Dataset.csv");
const THRESHOLDS = [0.5, 0.6, 0.7, 0.75, 0.78, 0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98];
const SCOPE = "eval";

interface Row {
  instruction: string;
  intent: string;
}

interface Outcome {
  similarity: number;
  sameIntent: boolean;
}

export interface ThresholdRow {
  threshold: number;
  hitRate: number;
  falseHitRate: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stored: { type: "string", default: "20" },
      queries: { type: "string", default: "1500" },
      seed: { type: "string", default: "7" },
      data: { type: "string", default: DEFAULT_BITEXT },
      embedders: { type: "string", default: "sif+hashing,sif,hashing" },
      "cache-dir": { type: "string", default: resolve(PROJECT_ROOT, "data/embeddings") },
    },
  });
  if (!existsSync(values.data)) {
    console.log(`Bitext data not found at ${values.data}; nothing to evaluate.`);
    return;
  }
  const rows = parseCsv<Row>(readFileSync(values.data, "utf8"), { columns: true, skip_empty_lines: true });
  const random = seededRandom(Number(values.seed));
  const shuffled = rows.map((r) => ({ r, k: random() })).sort((a, b) => a.k - b.k).map((x) => x.r);
  const perIntent = new Map<string, number>();
  const stored: Row[] = [];
  const rest: Row[] = [];
  for (const row of shuffled) {
    const n = perIntent.get(row.intent) ?? 0;
    if (n < Number(values.stored)) {
      stored.push(row);
      perIntent.set(row.intent, n + 1);
    } else rest.push(row);
  }
  const queries = rest.slice(0, Number(values.queries));
  const report: Record<string, unknown> = { machine: machineInfo(), stored: stored.length, queries: queries.length, intents: perIntent.size, embedders: {} };
  for (const kind of values.embedders.split(",") as OfflineEmbedderKind[]) {
    const embedder = createOfflineEmbedder({ kind, cacheDir: values["cache-dir"] });
    await embedder.warm();
    const byRule: Record<string, unknown> = {};
    for (const matchAnchors of [true, false]) {
      const outcomes = await bestMatches(embedder, stored, queries, matchAnchors);
      const curve = THRESHOLDS.map((threshold) => rates(outcomes, threshold));
      const chosen = curve.find((c) => c.falseHitRate <= 0.01);
      byRule[matchAnchors ? "anchors" : "noAnchors"] = { curve, chosen };
      console.log(`\n### ${kind} (${embedder.id}), ${matchAnchors ? "with" : "without"} the anchor rule\n`);
      console.log(markdownTable(["threshold", "good-hit rate", "false-hit rate"], curve.map((c) => [c.threshold, c.hitRate, c.falseHitRate])));
      console.log(`\nLowest threshold with false hits <= 1%: ${chosen ? `${chosen.threshold} (good hits ${chosen.hitRate})` : "none"}`);
    }
    (report.embedders as Record<string, unknown>)[kind] = { id: embedder.id, ...byRule };
  }
  writeResult("semantic-cache-eval", report);
}

/** For every query, the most similar stored question (any similarity), through the real cache. */
async function bestMatches(embedder: Embedder, stored: Row[], queries: Row[], matchAnchors: boolean): Promise<Array<Outcome | undefined>> {
  const cache = new SemanticCache({ embedder, store: new MemorySemanticStore({ maxEntriesPerScope: stored.length }), threshold: 1e-9, ttlMs: 3_600_000, matchAnchors });
  for (const row of stored) {
    const found = await cache.lookup(SCOPE, row.instruction);
    await cache.store(SCOPE, row.instruction, found, answer(row.intent));
  }
  const out: Array<Outcome | undefined> = [];
  for (const q of queries) {
    const found = await cache.lookup(SCOPE, q.instruction);
    out.push(found.hit ? { similarity: found.hit.similarity, sameIntent: found.hit.response.text === q.intent } : undefined);
  }
  return out;
}

/** A stored "answer" that names its intent, so a hit's correctness can be read back. */
function answer(intent: string): CachedResponse {
  return { chunks: [], text: intent, finishReason: "stop", usage: { promptTokens: 0, completionTokens: 0 }, createdAt: 0 };
}

function rates(outcomes: Array<Outcome | undefined>, threshold: number): ThresholdRow {
  let good = 0;
  let bad = 0;
  for (const o of outcomes) {
    if (!o || o.similarity < threshold) continue;
    if (o.sameIntent) good++;
    else bad++;
  }
  return { threshold, hitRate: round(good / outcomes.length, 4), falseHitRate: round(bad / outcomes.length, 4) };
}

await main();
