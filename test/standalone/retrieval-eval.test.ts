/**
 * Retrieval quality on the bundled Bitext sample (test/fixtures/rag, CDLA-Sharing):
 * hybrid search is never below its best part, with each offline embedder
 * (on the metrics BENCHMARKS.md "Retrieval" records as met for it) and with
 * an embedder whose vectors are noise (the quality gate drops it); the
 * support-FAQ task meets its goal with answers alone (titles weighted in the
 * full-text index) and with answers + known questions.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  beirSet,
  bitextFaqSet,
  type EvalScores,
  type EvalSet,
  type EvalVariant,
  readBitext,
  scoreVariant,
} from "../../bench/retrieval-datasets.js";
import { createOfflineEmbedder, type Embedder, type OfflineEmbedderKind, RagService, type RagServiceOptions } from "../../src/rag/index.js";
import { fnv1a32 } from "../../src/rag/text.js";
import { seededRandom } from "../../src/util/seeded-random.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/rag");
const TARGET = { tenant: "t", collection: "eval" };
const PARTS: EvalVariant[] = [
  { name: "vector", mode: "vector" },
  { name: "fulltext", mode: "fulltext" },
  { name: "hybrid", mode: "hybrid" },
];

/** Vectors that carry no meaning: a seeded random unit vector per text (what a random model gives). */
const noiseEmbedder: Embedder = {
  id: "noise-test",
  embed: (texts) =>
    Promise.resolve(
      texts.map((t) => {
        const rand = seededRandom(fnv1a32(t));
        const v = Array.from({ length: 64 }, () => rand() - 0.5);
        const n = Math.hypot(...v);
        return v.map((x) => x / n);
      }),
    ),
};

async function scoreAll(embedder: Embedder, set: EvalSet, extra: Partial<RagServiceOptions> = {}): Promise<Record<string, EvalScores>> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-eval-test-"));
  const rag = await RagService.open({
    uri: join(dir, "lancedb"),
    embedder,
    chunkSize: 800,
    chunkOverlap: 100,
    rrfK: 60,
    scoreFloor: Number.NEGATIVE_INFINITY,
    ...extra,
  });
  try {
    await rag.upsertDocuments(TARGET.tenant, TARGET.collection, set.docs);
    const out: Record<string, EvalScores> = {};
    for (const v of PARTS) out[v.name] = await scoreVariant(rag, TARGET, set, v);
    return out;
  } finally {
    await rag.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

function expectHybridNotBelowParts(s: Record<string, EvalScores>, metrics: (keyof EvalScores)[]): void {
  const { vector, fulltext, hybrid } = s;
  if (vector === undefined || fulltext === undefined || hybrid === undefined) throw new Error("missing scores");
  for (const m of metrics) {
    expect(hybrid[m], `${m}: hybrid ${hybrid[m]} vs vector ${vector[m]}, fulltext ${fulltext[m]}`).toBeGreaterThanOrEqual(
      Math.max(vector[m], fulltext[m]),
    );
  }
}

/**
 * The metrics on which hybrid (the default fusion, calibrated per collection) is not below its better part
 * on the bundled BEIR-format set: all four, with each offline embedder. Fused at the weights the probes
 * chose (0.3-0.4), hybrid lost hit@5 with all three (101 of 108 in its top 5 against full text's 104) and MRR@10
 * with `sif`; the vector rankings there reach only 0.58-0.89 of full text's probe MRR, so the relative gate
 * (vector-gate.ts) leaves them out. On main before the calibration, `sif` and `hashing` were below on nDCG@10
 * and `hashing` on hit@1 too.
 */
const ALL_METRICS: (keyof EvalScores)[] = ["ndcg10", "mrr10", "hit1", "hit5"];
const BEIR_METRICS: Record<OfflineEmbedderKind, (keyof EvalScores)[]> = {
  "sif+hashing": ALL_METRICS,
  sif: ALL_METRICS,
  hashing: ALL_METRICS,
};

describe("retrieval eval on the bundled Bitext sample", { timeout: 240_000 }, () => {
  // Shared across runs on one machine: the first conversion of the word vectors takes 15-40 s.
  const cacheDir = join(tmpdir(), "switchyard-embeddings");
  const offline = createOfflineEmbedder({ cacheDir });
  let beir: EvalSet;
  let faq: EvalSet;
  let faqAnswers: EvalSet;

  beforeAll(async () => {
    await offline.warm();
    beir = await beirSet(join(FIXTURES, "bitext-beir"), undefined, 42);
    const rows = await readBitext(join(FIXTURES, "bitext-sample.csv"));
    faq = bitextFaqSet(rows, { limit: 300, seed: 42, withQuestions: true, heldOut: 0.25 });
    faqAnswers = bitextFaqSet(rows, { limit: 300, seed: 42, withQuestions: false, heldOut: 0.25 });
  });
  afterAll(() => undefined);

  it.each(Object.entries(BEIR_METRICS))("hybrid is not below vector or full text on the BEIR-format set (offline embedder %s)", async (kind, metrics) => {
    const embedder = kind === "sif+hashing" ? offline : createOfflineEmbedder({ kind: kind as OfflineEmbedderKind, cacheDir });
    expectHybridNotBelowParts(await scoreAll(embedder, beir), metrics);
  });

  it("hybrid falls back to full text when the vectors are noise", async () => {
    const s = await scoreAll(noiseEmbedder, beir);
    expect(s.vector?.ndcg10).toBeLessThan(0.3);
    expectHybridNotBelowParts(s, ["ndcg10", "mrr10", "hit1", "hit5"]);
    // With the calibration turned off for this collection, the noise is fused at the configured weight and drags hybrid down.
    const fixed = await scoreAll(noiseEmbedder, beir, { collectionFusion: { [TARGET.collection]: { calibrate: false } } });
    expect(fixed.hybrid!.ndcg10).toBeLessThan(fixed.fulltext!.ndcg10);
  });

  it("finds support answers from customers' questions with the answers alone, not below either part", async () => {
    const s = await scoreAll(offline, faqAnswers);
    expect(faqAnswers.docs).toHaveLength(27);
    expectHybridNotBelowParts(s, ["ndcg10", "mrr10", "hit1", "hit5"]);
  });

  it("finds support answers from customers' questions (answers indexed with known questions)", async () => {
    const s = await scoreAll(offline, faq);
    expect(faq.docs).toHaveLength(27);
    expect(s.hybrid?.hit5).toBeGreaterThanOrEqual(0.85);
    expect(s.hybrid?.hit1).toBeGreaterThanOrEqual(0.6);
  });
});
