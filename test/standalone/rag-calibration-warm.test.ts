/**
 * The vector gate / fusion calibration is measured in the background after a write, so the first hybrid
 * search of a collection embeds only its own query instead of waiting for the 32 probe queries.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type EmbedPurpose, type Embedder, HashingEmbedder, type RagDocument } from "../../src/rag/index.js";
import { GATE_PROBES } from "../../src/rag/vector-gate.js";
import { tempRag, type TempRag } from "../helpers/rag.js";

/** Counts the texts embedded as queries. */
class CountingEmbedder implements Embedder {
  readonly inner = new HashingEmbedder({ dimension: 256 });
  readonly id = this.inner.id;
  readonly dimension = this.inner.dimension;
  queryTexts = 0;
  embed(texts: string[], purpose?: EmbedPurpose): Promise<number[][]> {
    if (purpose === "query") this.queryTexts += texts.length;
    return this.inner.embed(texts);
  }
}

const topics = ["refund", "shipping", "password", "invoice", "warranty", "delivery", "account", "coupon"];
const docs = (): RagDocument[] =>
  Array.from({ length: 48 }, (_, i) => {
    const topic = topics[i % topics.length] as string;
    return { id: `doc-${i}`, title: `${topic} ${i}`, text: `How to handle a ${topic} request number ${i}: open the ${topic} page, check the order ${i}, and follow the steps listed for case ${i}.` };
  });

describe("calibration warmed by writes", { timeout: 60_000 }, () => {
  let t: TempRag | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it("the first hybrid search after an upsert embeds only its own query", async () => {
    const embedder = new CountingEmbedder();
    t = await tempRag({ embedder });
    await t.rag.upsertDocuments("acme", "kb", docs());
    await t.rag.settled();
    const warmed = embedder.queryTexts;
    expect(warmed).toBeGreaterThanOrEqual(4); // the probes were embedded by the background calibration
    expect(warmed).toBeLessThanOrEqual(GATE_PROBES);
    const hits = await t.rag.search({ tenant: "acme", collection: "kb", query: "refund request", topK: 3, mode: "hybrid" });
    expect(hits.length).toBeGreaterThan(0);
    expect(embedder.queryTexts - warmed).toBe(1);
  });

  it("with the gate off, writes measure nothing", async () => {
    const embedder = new CountingEmbedder();
    t = await tempRag({ embedder, vectorGate: false });
    await t.rag.upsertDocuments("acme", "kb", docs());
    await t.rag.settled();
    expect(embedder.queryTexts).toBe(0);
  });
});
