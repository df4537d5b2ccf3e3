import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SwitchyardRetriever } from "../../src/rag/index.js";
import { SUPPORT_DOCS } from "../fixtures/rag/support-kb.js";
import { tempRag, type TempRag } from "../helpers/rag.js";

/**
 * Two tenants hold the same documents in the same collection (one LanceDB
 * table), each copy tagged with the tenant's own marker word. No search, in
 * any mode, with or without filters, may return the other tenant's marker.
 */
const TENANTS = { alpha: "alphamarker", beta: "betamarker" } as const;
const C = "shared-kb";

describe("tenant isolation", { timeout: 60_000 }, () => {
  let t: TempRag;
  beforeAll(async () => {
    t = await tempRag();
    for (const [tenant, marker] of Object.entries(TENANTS)) {
      const docs = SUPPORT_DOCS.slice(0, 12).map((d) => ({ ...d, text: `${d.text} Reference code ${marker}.`, metadata: { owner: tenant } }));
      await t.rag.upsertDocuments(tenant, C, docs);
    }
    // A document only beta has, with the same id scheme.
    await t.rag.upsertDocuments("beta", C, [{ id: "beta-only", text: `Secret beta pricing sheet ${TENANTS.beta}.` }]);
  });
  afterAll(async () => {
    await t.cleanup();
  });

  const queries = [
    "refund policy",
    "alphamarker",
    "betamarker",
    "alphamarker betamarker reference code",
    "secret pricing sheet",
    "password",
  ];

  for (const [tenant, own] of Object.entries(TENANTS)) {
    const foreign = Object.values(TENANTS).find((m) => m !== own) as string;
    for (const mode of ["vector", "fulltext", "hybrid"] as const) {
      it(`${tenant} never sees ${foreign} (${mode})`, async () => {
        let seen = 0;
        for (const query of queries) {
          for (const filter of [undefined, { owner: tenant }, { owner: tenant === "alpha" ? "beta" : "alpha" }]) {
            const hits = await t.rag.search({ tenant, collection: C, query, topK: 50, mode, ...(filter === undefined ? {} : { filter }) });
            seen += hits.length;
            for (const h of hits) {
              expect(h.text).not.toContain(foreign);
              expect(h.text).toContain(own);
            }
          }
        }
        expect(seen).toBeGreaterThan(0);
      });
    }
  }

  it("keeps deletes and updates within the tenant", async () => {
    expect(await t.rag.deleteDocument("alpha", C, "beta-only")).toBe(false);
    const r = await t.rag.upsertDocuments("alpha", C, [{ ...(SUPPORT_DOCS[0] as (typeof SUPPORT_DOCS)[number]), text: "alpha rewrote this refund answer alphamarker" }]);
    expect(r.updated).toBe(1);
    const beta = await t.rag.search({ tenant: "beta", collection: C, query: "refund", topK: 50, mode: "fulltext" });
    expect(beta.some((p) => p.documentId === SUPPORT_DOCS[0]?.id && p.text.includes("betamarker"))).toBe(true);
    expect(beta.some((p) => p.text.includes("rewrote"))).toBe(false);
  });

  it("isolates the LangChain retriever too", async () => {
    const retriever = new SwitchyardRetriever({ service: t.rag, tenant: "alpha", collection: C, topK: 50 });
    const docs = await retriever.invoke("betamarker secret pricing");
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) expect(d.pageContent).not.toContain("betamarker");
    expect(docs.map((d) => d.metadata.index)).toEqual(docs.map((_, i) => i + 1));
    const source = SUPPORT_DOCS.find((s) => s.id === docs[0]?.metadata.document_id);
    expect(docs[0]?.metadata).toMatchObject({ title: source?.title, source: "", metadata: { owner: "alpha" } });
    expect(docs[0]?.metadata.chunk_id).toBe(docs[0]?.id);
    expect(typeof docs[0]?.metadata.score).toBe("number");
  });
});
