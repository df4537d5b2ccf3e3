/**
 * Hybrid search ranks by row ids and reads the columns of the fused top-k
 * only (search.ts `hybridByRowId`). It must return exactly what fusing the
 * two materialised rankings returns, fall back to that path when the table
 * version moves under it, keep the collapse of question rows, and never read
 * another tenant's rows.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FusionOptions, type RagDocument, weightedFusion } from "../../src/rag/index.js";
import { searchCollection } from "../../src/rag/search.js";
import { ChunkStore } from "../../src/rag/store.js";
import { seededRandom } from "../../src/util/seeded-random.js";
import { SUPPORT_DOCS } from "../fixtures/rag/support-kb.js";
import { tempRag, type TempRag } from "../helpers/rag.js";

const T = "acme";
const C = "kb";
const QUERIES = ["refund to my card", "where is my parcel", "forgot password link", "cancel order fee", "invoice with VAT number", "gift card balance"];
// Random texts over a small vocabulary: the two top-20 lists share few rows, so equal fused scores
// (rank r in one list only, rank r in the other only) fall at the top-5 boundary.
const rand = seededRandom(11);
const VOCAB = Array.from({ length: 150 }, (_, i) => `w${(i * 7919).toString(36)}`);
const words = (n: number): string => Array.from({ length: n }, () => VOCAB[Math.floor(rand() * VOCAB.length)]).join(" ");
// Ids in another order than the rows, so tie-breaking by row id would differ from by chunk id.
const RANDOM_DOCS: RagDocument[] = Array.from({ length: 400 }, (_, i) => ({ id: `r${((i * 7919) % 1009).toString(36)}`, text: words(12) }));
const RANDOM_QUERIES = Array.from({ length: 30 }, () => words(3));
const FUSIONS: FusionOptions[] = [
  { method: "rrf", vectorWeight: 0.5, rrfK: 60 },
  { method: "rrf", vectorWeight: 0.8, rrfK: 10 },
  { method: "convex", vectorWeight: 0.3, rrfK: 60 },
];

describe("hybrid search over row ids", { timeout: 60_000 }, () => {
  let t: TempRag;
  let store: ChunkStore;
  beforeEach(async () => {
    t = await tempRag({ vectorGate: false });
    await t.rag.upsertDocuments(T, C, SUPPORT_DOCS);
    await t.rag.upsertDocuments(T, "random", RANDOM_DOCS);
    store = await ChunkStore.connect({ uri: t.options.uri, readConsistencyIntervalSeconds: 0 });
  });
  afterEach(async () => {
    store.close();
    await t.cleanup();
  });

  const settings = (fusion: FusionOptions, s: ChunkStore = store) => ({ store: s, embedder: t.options.embedder, fusion, scoreFloor: Number.NEGATIVE_INFINITY });
  const brief = (passages: { chunkId: string; score: number }[]) => passages.map((p) => [p.chunkId, p.score]);

  it("returns what fusing the two materialised top-20 rankings returns, ties included", async () => {
    expect(await store.hasQuestionRows(C)).toBe(false);
    let reads = 0;
    const counted = Object.assign(Object.create(store) as ChunkStore, {
      rowsById: (...args: Parameters<ChunkStore["rowsById"]>) => {
        reads++;
        return store.rowsById(...args);
      },
    });
    let checked = 0;
    for (const fusion of FUSIONS) {
      for (const [collection, queries] of [[C, QUERIES], ["random", RANDOM_QUERIES]] as const) {
        for (const query of queries) {
          const byVector = await t.rag.search({ tenant: T, collection, query, topK: 20, mode: "vector" });
          const byText = await t.rag.search({ tenant: T, collection, query, topK: 20, mode: "fulltext" });
          const fused = weightedFusion([byVector, byText], (p) => p.chunkId, (p) => p.score, fusion);
          for (const topK of [3, 4, 5]) {
            const got = await searchCollection(settings(fusion, counted), { tenant: T, collection, query, topK, mode: "hybrid" });
            expect(brief(got), `${fusion.method} ${fusion.vectorWeight} '${query}' top ${topK}`).toEqual(fused.slice(0, topK).map((f) => [f.item.chunkId, f.score]));
            checked++;
          }
        }
      }
    }
    expect(reads).toBe(checked); // the row-id path ran every time
  });

  it("falls back to reading the columns when the table version moves between ranking and reading", async () => {
    let version = 100;
    // The same store, except that every version read sees a newer commit.
    const moving = Object.assign(Object.create(store) as ChunkStore, { version: () => Promise.resolve(version++) });
    for (const query of QUERIES) {
      const stable = await searchCollection(settings(FUSIONS[0]!), { tenant: T, collection: C, query, topK: 5, mode: "hybrid" });
      const moved = await searchCollection(settings(FUSIONS[0]!, moving), { tenant: T, collection: C, query, topK: 5, mode: "hybrid" });
      expect(brief(moved)).toEqual(brief(stable));
    }
    expect(version).toBeGreaterThan(100 + QUERIES.length);
  });

  it("reads no row of another tenant, and still collapses question rows into their answer", async () => {
    const other: RagDocument[] = [{ id: "secret", text: "Refunds to the card of the other tenant take forever." }];
    await t.rag.upsertDocuments("globex", C, other);
    const mine = await store.vectorRank(T, C, (await t.options.embedder.embed(["refund card"], "query"))[0]!, 5);
    expect(mine.length).toBe(5);
    expect((await store.rowsById("globex", C, mine.map((r) => r.rowId))).size).toBe(0);
    expect((await store.rowsById(T, C, mine.map((r) => r.rowId))).size).toBe(5);

    await t.rag.upsertDocuments(T, C, [{ id: "q-doc", text: "Zebrafish tanks ship in insulated boxes.", questions: ["how do you pack aquarium fish", "aquarium fish packaging"] }]);
    expect(await store.hasQuestionRows(C)).toBe(true);
    const hits = await t.rag.search({ tenant: T, collection: C, query: "aquarium fish packaging", topK: 5, mode: "hybrid" });
    expect(hits[0]?.chunkId).toBe("q-doc#0");
    expect(hits.filter((h) => h.documentId === "q-doc")).toHaveLength(1);
  });
});
