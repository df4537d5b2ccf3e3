/** The collection version a tenant sees moves only with its own writes (issue #14, item 9), on real LanceDB. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempRag, type TempRag } from "../helpers/rag.js";

describe("per-tenant collection version", { timeout: 60_000 }, () => {
  let t: TempRag;
  beforeAll(async () => {
    t = await tempRag();
  });
  afterAll(async () => t?.cleanup());

  it("another tenant's writes never move it; the tenant's own writes do", async () => {
    expect(await t.rag.collectionVersion("alpha", "kb")).toBe(0);
    await t.rag.upsertDocuments("alpha", "kb", [{ id: "a1", text: "Alpha refund policy: thirty days." }]);
    const v1 = await t.rag.collectionVersion("alpha", "kb");
    expect(v1).toBeGreaterThan(0);
    await t.rag.upsertDocuments("beta", "kb", [{ id: "b1", text: "Beta shipping policy." }]);
    await t.rag.upsertDocuments("beta", "kb", [{ id: "b2", text: "Beta pricing sheet." }]);
    await t.rag.deleteDocument("beta", "kb", "b1");
    expect(await t.rag.collectionVersion("alpha", "kb")).toBe(v1);
    // Re-sending the same content changes nothing; new content does.
    await t.rag.upsertDocuments("alpha", "kb", [{ id: "a1", text: "Alpha refund policy: thirty days." }]);
    expect(await t.rag.collectionVersion("alpha", "kb")).toBe(v1);
    await t.rag.upsertDocuments("alpha", "kb", [{ id: "a1", text: "Alpha refund policy: sixty days." }]);
    expect(await t.rag.collectionVersion("alpha", "kb")).not.toBe(v1);
    // A tenant with nothing in an existing collection sees 0, not the table's version.
    expect(await t.rag.collectionVersion("gamma", "kb")).toBe(0);
  });
});
