/**
 * The vector gate / fusion calibration is measured in the background after a write, so the first hybrid
 * search of a collection embeds only its own query instead of waiting for the 32 probe queries.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type EmbedPurpose, type Embedder, HashingEmbedder, type RagDocument, RagService } from "../../src/rag/index.js";
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

  it("after a restart the measurement is read back from disk: the first hybrid search embeds only its query", async () => {
    const before = new CountingEmbedder();
    t = await tempRag({ embedder: before });
    await t.rag.upsertDocuments("acme", "kb", docs());
    await t.rag.settled();
    const query = { tenant: "acme", collection: "kb", query: "refund request", topK: 3, mode: "hybrid" as const };
    const first = await t.rag.searchWithFusion(query);
    await t.rag.dispose();
    const files = await readdir(`${t.options.uri}-calibration`);
    expect(files).toHaveLength(1);
    const stored = async (): Promise<{ version: number; embedderId: string }> =>
      JSON.parse(await readFile(join(`${t!.options.uri}-calibration`, files[0]!), "utf8")) as { version: number; embedderId: string };
    const measured = await stored();
    expect(measured.embedderId).toBe(before.id);

    // A new process on the same directory: the stored measurement serves, nothing is probed.
    const after = new CountingEmbedder();
    const reopened = await RagService.open({ ...t.options, embedder: after });
    try {
      // The same hits and the same fusion (the stored calibrated weight).
      expect(await reopened.searchWithFusion(query)).toEqual(first);
      expect(first.fusion?.calibrated).toBe(true);
      expect(after.queryTexts).toBe(1);
      // A write moves the table: the stored measurement is taken again in the background and stored anew.
      await reopened.upsertDocuments("acme", "kb", [{ id: "extra", text: "A coupon code applies once per order and cannot be combined." }]);
      await reopened.settled();
      expect(after.queryTexts).toBeGreaterThan(1 + 4);
      expect((await stored()).version).not.toBe(measured.version);
    } finally {
      await reopened.dispose();
    }
  });

  it("a stored measurement that does not parse is ignored and measured again", async () => {
    t = await tempRag({ embedder: new CountingEmbedder() });
    await t.rag.upsertDocuments("acme", "kb", docs());
    await t.rag.settled();
    await t.rag.dispose();
    const dir = `${t.options.uri}-calibration`;
    const [file] = await readdir(dir);
    await writeFile(join(dir, file!), "{ not json");
    const after = new CountingEmbedder();
    const reopened = await RagService.open({ ...t.options, embedder: after });
    try {
      const hits = await reopened.search({ tenant: "acme", collection: "kb", query: "refund request", topK: 3, mode: "hybrid" });
      expect(hits.length).toBeGreaterThan(0);
      expect(after.queryTexts).toBeGreaterThan(1 + 4); // its query and the probes
      await reopened.settled();
      expect(JSON.parse(await readFile(join(dir, file!), "utf8"))).toMatchObject({ embedderId: after.id });
    } finally {
      await reopened.dispose();
    }
  });

  it("with the gate off, writes measure nothing", async () => {
    const embedder = new CountingEmbedder();
    t = await tempRag({ embedder, vectorGate: false });
    await t.rag.upsertDocuments("acme", "kb", docs());
    await t.rag.settled();
    expect(embedder.queryTexts).toBe(0);
  });
});
