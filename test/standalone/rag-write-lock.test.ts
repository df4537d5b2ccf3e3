/**
 * Concurrent upserts into one collection are serialised by the store's write
 * lock (lifecycle-utils `withLock`): each one reads the content hashes after
 * the previous one wrote, so the same documents are inserted exactly once.
 * Real LanceDB on a temp dir, no shard process.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RagDocument } from "../../src/rag/index.js";
import { tempRag, type TempRag } from "../helpers/rag.js";

const docs = (): RagDocument[] => [
  { id: "refunds.md", title: "Refunds", text: "We refund orders within 30 days." },
  { id: "shipping.md", title: "Shipping", text: "Parcels ship within two business days." },
];

describe("store write lock", { timeout: 60_000 }, () => {
  let t: TempRag;
  beforeEach(async () => {
    t = await tempRag();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it("inserts the same documents once when four upserts race; other collections are not held up", async () => {
    const results = await Promise.all([
      ...Array.from({ length: 4 }, () => t.rag.upsertDocuments("acme", "kb", docs())),
      t.rag.upsertDocuments("acme", "other", docs()),
    ]);
    const kb = results.slice(0, 4);
    expect(kb.filter((r) => r.inserted === 2)).toHaveLength(1);
    expect(kb.filter((r) => r.unchanged === 2 && r.inserted === 0)).toHaveLength(3);
    expect(results[4]).toMatchObject({ inserted: 2 });
    const hits = await t.rag.search({ tenant: "acme", collection: "kb", query: "refund orders", topK: 10, mode: "fulltext" });
    expect(hits.filter((h) => h.documentId === "refunds.md")).toHaveLength(1);
  });
});
