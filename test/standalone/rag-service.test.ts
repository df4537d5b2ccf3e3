import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.js";
import { HashingEmbedder, type RagDocument, RagService } from "../../src/rag/index.js";
import { SUPPORT_DOCS } from "../fixtures/rag/support-kb.js";
import { tempRag, type TempRag } from "../helpers/rag.js";

const T = "acme";
const C = "kb";

const docs = (): RagDocument[] => [
  { id: "refunds.md", title: "Refunds", text: "# Refunds\n\nWe refund orders within 30 days. Refunds reach your card in 5 days.", metadata: { lang: "en", team: "billing" } },
  { id: "shipping.md", title: "Shipping", text: "# Shipping\n\nParcels ship within two business days with tracking.", metadata: { lang: "en", team: "logistics" } },
  { id: "passwort.txt", title: "Passwort", text: "Passwort vergessen? Klicken Sie auf Passwort zurücksetzen.", metadata: { lang: "de", team: "accounts" } },
];

async function expectGatewayError(promise: Promise<unknown>, status: number): Promise<GatewayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  expect((err as GatewayError).status).toBe(status);
  return err as GatewayError;
}

describe("RagService upsert / delete", { timeout: 60_000 }, () => {
  let t: TempRag;
  beforeEach(async () => {
    t = await tempRag();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it("inserts, skips unchanged documents and counts chunks", async () => {
    const first = await t.rag.upsertDocuments(T, C, docs());
    expect(first).toEqual({ inserted: 3, updated: 0, unchanged: 0, chunks: 3 });

    const again = await t.rag.upsertDocuments(T, C, docs());
    expect(again).toEqual({ inserted: 0, updated: 0, unchanged: 3, chunks: 0 });

    // Metadata is part of the content hash: changing it is an update.
    const changed = docs().map((d) => (d.id === "shipping.md" ? { ...d, metadata: { ...d.metadata, lang: "en-GB" } } : d));
    const third = await t.rag.upsertDocuments(T, C, changed);
    expect(third).toEqual({ inserted: 0, updated: 1, unchanged: 2, chunks: 1 });
  });

  it("replaces all chunks of a changed document: the old text is no longer found in any mode", async () => {
    const long = Array.from({ length: 12 }, (_, i) => `Paragraph ${i} talks about the zebracorn warranty rule number ${i}.`).join("\n\n");
    await t.rag.upsertDocuments(T, C, [{ id: "warranty", text: long }, ...docs()]);
    const before = await t.rag.search({ tenant: T, collection: C, query: "zebracorn warranty", topK: 20, mode: "fulltext" });
    expect(before.filter((p) => p.documentId === "warranty").length).toBeGreaterThan(1);

    const r = await t.rag.upsertDocuments(T, C, [{ id: "warranty", text: "Warranty claims now go through the unicornfish portal." }]);
    expect(r).toEqual({ inserted: 0, updated: 1, unchanged: 0, chunks: 1 });
    for (const mode of ["vector", "fulltext", "hybrid"] as const) {
      const hits = await t.rag.search({ tenant: T, collection: C, query: "zebracorn warranty rule", topK: 20, mode });
      expect(hits.some((p) => p.text.includes("zebracorn"))).toBe(false);
      // "warranty" still matches the new text, which is a single chunk now.
      expect(hits.filter((p) => p.documentId === "warranty").map((p) => p.chunkId)).toEqual(["warranty#0"]);
    }
    const now = await t.rag.search({ tenant: T, collection: C, query: "unicornfish", topK: 5, mode: "fulltext" });
    expect(now.map((p) => p.chunkId)).toEqual(["warranty#0"]);
  });

  it("deletes by id, returning false for unknown documents", async () => {
    await t.rag.upsertDocuments(T, C, docs());
    expect(await t.rag.deleteDocument(T, C, "refunds.md")).toBe(true);
    expect(await t.rag.deleteDocument(T, C, "refunds.md")).toBe(false);
    expect(await t.rag.deleteDocument(T, C, "never-was")).toBe(false);
    expect(await t.rag.deleteDocument(T, "no-such-collection", "x")).toBe(false);
    const hits = await t.rag.search({ tenant: T, collection: C, query: "refund orders within 30 days", topK: 10 });
    expect(hits.some((p) => p.documentId === "refunds.md")).toBe(false);
    // Re-adding a deleted document is an insert.
    expect(await t.rag.upsertDocuments(T, C, docs())).toMatchObject({ inserted: 1, unchanged: 2 });
  });

  it("handles ids with quotes and SQL-looking text safely", async () => {
    const id = "it's a' OR '1'='1";
    await t.rag.upsertDocuments(T, C, [{ id, text: "Quoted identifiers are stored verbatim." }, ...docs()]);
    const hits = await t.rag.search({ tenant: T, collection: C, query: "quoted identifiers verbatim", topK: 1, filter: { document_id: id } });
    expect(hits.map((p) => p.documentId)).toEqual([id]);
    expect(await t.rag.deleteDocument(T, C, id)).toBe(true);
    // Only that document went: the injection-shaped id matched nothing else.
    expect(await t.rag.upsertDocuments(T, C, docs())).toMatchObject({ unchanged: 3 });
  });

  it("changes the collection version on every write, and only on writes", async () => {
    expect(await t.rag.collectionVersion(T, C)).toBe(0);
    const versions: number[] = [];
    await t.rag.upsertDocuments(T, C, docs());
    versions.push(await t.rag.collectionVersion(T, C));
    await t.rag.upsertDocuments(T, C, docs()); // nothing changed: no write
    expect(await t.rag.collectionVersion(T, C)).toBe(versions[0]);
    await t.rag.upsertDocuments(T, C, [{ id: "new", text: "A brand new document." }]);
    versions.push(await t.rag.collectionVersion(T, C));
    await t.rag.upsertDocuments(T, C, [{ id: "new", text: "A changed document." }]);
    versions.push(await t.rag.collectionVersion(T, C));
    await t.rag.deleteDocument(T, C, "new");
    versions.push(await t.rag.collectionVersion(T, C));
    for (let i = 1; i < versions.length; i++) expect(versions[i]).not.toBe(versions[i - 1]);
    await t.rag.search({ tenant: T, collection: C, query: "refund" });
    expect(await t.rag.collectionVersion(T, C)).toBe(versions.at(-1));
  });

  it("filters on metadata keys and columns inside the query", async () => {
    await t.rag.upsertDocuments(T, C, docs());
    for (const mode of ["vector", "fulltext", "hybrid"] as const) {
      const de = await t.rag.search({ tenant: T, collection: C, query: "refund passwort shipping", topK: 10, mode, filter: { lang: "de" } });
      expect(de.map((p) => p.documentId)).toEqual(["passwort.txt"]);
      const byTitle = await t.rag.search({ tenant: T, collection: C, query: "refund passwort shipping", topK: 10, mode, filter: { title: "Shipping", lang: "en" } });
      expect(byTitle.map((p) => p.documentId)).toEqual(["shipping.md"]);
    }
    await expectGatewayError(t.rag.search({ tenant: T, collection: C, query: "x", filter: { "bad key": "v" } }), 400);
  });

  it("keeps full-text top-k exact for rows written after indexing (small upserts are not optimized)", async () => {
    await t.rag.upsertDocuments(T, C, SUPPORT_DOCS);
    // 30 more chunks, below the optimize threshold: they stay outside the full-text index.
    await t.rag.upsertDocuments(T, C, SUPPORT_DOCS.map((d) => ({ ...d, id: `${d.id}-v2`, text: `${d.text} Order details differ per order.` })));
    for (const query of ["order", "payment card", "delivery business days"]) {
      const top3 = await t.rag.search({ tenant: T, collection: C, query, topK: 3, mode: "fulltext" });
      const all = await t.rag.search({ tenant: T, collection: C, query, topK: 60, mode: "fulltext" });
      expect(top3.map((p) => p.score)).toEqual(all.slice(0, 3).map((p) => p.score));
      expect(all.map((p) => p.score)).toEqual([...all.map((p) => p.score)].sort((a, b) => b - a));
    }
  });

  it("lists the tenant's collections", async () => {
    await t.rag.upsertDocuments(T, "kb-b", docs());
    await t.rag.upsertDocuments(T, "kb-a", docs());
    await t.rag.upsertDocuments("other", "kb-c", docs());
    expect(await t.rag.listCollections(T)).toEqual(["kb-a", "kb-b"]);
    expect(await t.rag.listCollections("other")).toEqual(["kb-c"]);
    expect(await t.rag.listCollections("nobody")).toEqual([]);
  });
});

describe("RagService validation", { timeout: 60_000 }, () => {
  let t: TempRag;
  beforeEach(async () => {
    t = await tempRag();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it.each(["", "../etc", "a b", "x'; DROP TABLE kb; --", "a".repeat(65), "-leading", "kb/evil", "ké"])(
    "rejects collection name %j with a 400",
    async (name) => {
      const err = await expectGatewayError(t.rag.upsertDocuments(T, name, docs()), 400);
      expect(err.type).toBe("invalid_request_error");
      await expectGatewayError(t.rag.search({ tenant: T, collection: name, query: "x" }), 400);
      await expectGatewayError(t.rag.deleteDocument(T, name, "x"), 400);
      await expectGatewayError(t.rag.collectionVersion(T, name), 400);
    },
  );

  it("rejects bad tenants, documents and search parameters with a 400, writing nothing", async () => {
    await expectGatewayError(t.rag.upsertDocuments("bad tenant'", C, docs()), 400);
    await expectGatewayError(t.rag.upsertDocuments(T, C, [{ id: "", text: "x" }]), 400);
    await expectGatewayError(t.rag.upsertDocuments(T, C, [...docs(), { id: "empty", text: "   " }]), 400);
    await expectGatewayError(t.rag.upsertDocuments(T, C, [...docs(), { id: "refunds.md", text: "dup" }]), 400);
    expect(await t.rag.collectionVersion(T, C)).toBe(0);

    await t.rag.upsertDocuments(T, C, docs());
    await expectGatewayError(t.rag.search({ tenant: T, collection: C, query: "  " }), 400);
    await expectGatewayError(t.rag.search({ tenant: T, collection: C, query: "x", topK: 0 }), 400);
    await expectGatewayError(t.rag.search({ tenant: T, collection: C, query: "x", topK: 1.5 }), 400);
    await expectGatewayError(t.rag.search({ tenant: T, collection: C, query: "x", mode: "magic" as "hybrid" }), 400);
  });

  it("answers 404 for a collection the tenant does not have, even if another tenant does", async () => {
    await t.rag.upsertDocuments("other", C, docs());
    const err = await expectGatewayError(t.rag.search({ tenant: T, collection: C, query: "refund" }), 404);
    expect(err.code).toBe("collection_not_found");
    await expectGatewayError(t.rag.search({ tenant: T, collection: "nothing-here", query: "refund" }), 404);
  });

  it("refuses to mix embedders in one collection (409)", async () => {
    await t.rag.upsertDocuments(T, C, docs());
    const other = new RagService({ ...t.options, embedder: new HashingEmbedder({ dimension: 128 }) });
    try {
      const err = await expectGatewayError(other.upsertDocuments(T, C, [{ id: "x", text: "hello" }]), 409);
      expect(err.code).toBe("embedder_mismatch");
      await expectGatewayError(other.search({ tenant: T, collection: C, query: "refund", mode: "vector" }), 409);
      // Full-text search needs no vectors, so it still works.
      expect((await other.search({ tenant: T, collection: C, query: "refund", mode: "fulltext" })).length).toBeGreaterThan(0);
    } finally {
      await other.dispose();
    }
  });
});
