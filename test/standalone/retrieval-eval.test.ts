/**
 * Retrieval quality on the bundled Bitext sample (test/fixtures/rag, CDLA-Sharing):
 * hybrid search is never below its best part, with the offline default
 * embedder and with an embedder whose vectors are noise (the quality gate
 * drops it); the support-FAQ task (answers + known questions) meets its goal.
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
import { createOfflineEmbedder, type Embedder, RagService } from "../../src/rag/index.js";
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

async function scoreAll(embedder: Embedder, set: EvalSet): Promise<Record<string, EvalScores>> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-eval-test-"));
  const rag = await RagService.open({
    uri: join(dir, "lancedb"),
    embedder,
    chunkSize: 800,
    chunkOverlap: 100,
    rrfK: 60,
    scoreFloor: Number.NEGATIVE_INFINITY,
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

describe("retrieval eval on the bundled Bitext sample", { timeout: 240_000 }, () => {
  // Shared across runs on one machine: the first conversion of the word vectors takes 15-40 s.
  const offline = createOfflineEmbedder({ cacheDir: join(tmpdir(), "switchyard-embeddings") });
  let beir: EvalSet;
  let faq: EvalSet;

  beforeAll(async () => {
    await offline.warm();
    beir = await beirSet(join(FIXTURES, "bitext-beir"), undefined, 42);
    faq = bitextFaqSet(await readBitext(join(FIXTURES, "bitext-sample.csv")), { limit: 300, seed: 42, withQuestions: true, heldOut: 0.25 });
  });
  afterAll(() => undefined);

  it("hybrid is not below vector or full text on the BEIR-format set (offline default embedder)", async () => {
    expectHybridNotBelowParts(await scoreAll(offline, beir), ["ndcg10", "mrr10"]);
  });

  it("hybrid falls back to full text when the vectors are noise", async () => {
    const s = await scoreAll(noiseEmbedder, beir);
    expect(s.vector?.ndcg10).toBeLessThan(0.3);
    expectHybridNotBelowParts(s, ["ndcg10", "mrr10", "hit1", "hit5"]);
  });

  it("finds support answers from customers' questions (answers indexed with known questions)", async () => {
    const s = await scoreAll(offline, faq);
    expect(faq.docs).toHaveLength(27);
    expect(s.hybrid?.hit5).toBeGreaterThanOrEqual(0.85);
    expect(s.hybrid?.hit1).toBeGreaterThanOrEqual(0.6);
  });
});
