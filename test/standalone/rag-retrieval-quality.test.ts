import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SearchMode } from "../../src/rag/index.js";
import { hitAt, mean, reciprocalRank } from "../../src/rag/eval-metrics.js";
import { SUPPORT_DOCS, SUPPORT_QUERIES } from "../fixtures/rag/support-kb.js";
import { tempRag, type TempRag } from "../helpers/rag.js";

describe("retrieval quality on a 30-document support fixture", { timeout: 60_000 }, () => {
  let t: TempRag;
  const scores = new Map<SearchMode, { hit1: number; hit3: number; mrr: number }>();

  beforeAll(async () => {
    t = await tempRag();
    await t.rag.upsertDocuments("t", "support", SUPPORT_DOCS);
    for (const mode of ["vector", "fulltext", "hybrid"] as const) {
      const rows = await Promise.all(
        SUPPORT_QUERIES.map(async (q) => {
          const passages = await t.rag.search({ tenant: "t", collection: "support", query: q.query, topK: 10, mode });
          const ranking = passages.map((p) => p.documentId);
          const relevant = new Set([q.expected]);
          return { hit1: hitAt(ranking, relevant, 1), hit3: hitAt(ranking, relevant, 3), mrr: reciprocalRank(ranking, relevant, 10) };
        }),
      );
      scores.set(mode, { hit1: mean(rows.map((r) => r.hit1)), hit3: mean(rows.map((r) => r.hit3)), mrr: mean(rows.map((r) => r.mrr)) });
    }
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it("every mode finds most answers", () => {
    for (const [mode, s] of scores) expect(s.hit3, mode).toBeGreaterThanOrEqual(0.75);
  });

  it("hybrid is at least as good as each single mode (hit@1 and MRR)", () => {
    const hybrid = scores.get("hybrid");
    const vector = scores.get("vector");
    const fulltext = scores.get("fulltext");
    if (hybrid === undefined || vector === undefined || fulltext === undefined) throw new Error("missing scores");
    expect(hybrid.hit1).toBeGreaterThanOrEqual(vector.hit1);
    expect(hybrid.hit1).toBeGreaterThanOrEqual(fulltext.hit1);
    expect(hybrid.mrr).toBeGreaterThanOrEqual(vector.mrr);
    expect(hybrid.mrr).toBeGreaterThanOrEqual(fulltext.mrr);
  });
});
