/**
 * The ANN vector index: built in the background once a collection passes the
 * threshold, while upserts and searches go on; rows written meanwhile are
 * searchable at once (flat search over the unindexed tail).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HashingEmbedder, RagService, type RagDocument } from "../../src/rag/index.js";
import { seededRandom } from "../../src/util/seeded-random.js";

const WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu".split(" ");

function docs(n: number, prefix: string, seed: number): RagDocument[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    text: Array.from({ length: 30 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(" ") + ` ${prefix}marker${i}`,
  }));
}

describe("background ANN index", { timeout: 180_000 }, () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  async function open(threshold: number, ivf: { probeFraction?: number } = {}): Promise<RagService> {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-ann-"));
    const rag = await RagService.open({
      uri: join(dir, "db"),
      embedder: new HashingEmbedder({ dimension: 64 }),
      chunkSize: 800,
      chunkOverlap: 0,
      rrfK: 60,
      scoreFloor: Number.NEGATIVE_INFINITY,
      vectorIndex: { threshold, ...ivf },
    });
    cleanup = async () => {
      await rag.dispose();
      await rm(dir, { recursive: true, force: true });
    };
    return rag;
  }

  it("starts past the threshold without blocking upserts, and new rows are found at once", async () => {
    const rag = await open(1_500);
    await rag.upsertDocuments("t", "kb", docs(1_000, "a", 1));
    expect((await rag.vectorIndexStatus("kb")).state).toBe("none");

    await rag.upsertDocuments("t", "kb", docs(1_000, "b", 2));
    expect((await rag.vectorIndexStatus("kb")).state).toBe("building");

    // Upserts and searches go on during the build.
    await rag.upsertDocuments("t", "kb", [{ id: "late", text: "zebracrossing lighthouse keeper" }]);
    for (const mode of ["vector", "fulltext", "hybrid"] as const) {
      const hits = await rag.search({ tenant: "t", collection: "kb", query: "zebracrossing lighthouse keeper", topK: 3, mode });
      expect(hits[0]?.documentId, mode).toBe("late");
    }

    await rag.buildVectorIndex("kb"); // joins the running build
    const status = await rag.vectorIndexStatus("kb");
    expect(status.state).toBe("ready");
    expect(status.type).toBe("ivf_flat");
    expect(status.indexedRows).toBeGreaterThanOrEqual(2_000);

    await rag.upsertDocuments("t", "kb", [{ id: "after", text: "quasar nebula telescope" }]);
    const hits = await rag.search({ tenant: "t", collection: "kb", query: "quasar nebula telescope", topK: 3, mode: "vector" });
    expect(hits[0]?.documentId).toBe("after");
    const marker = await rag.search({ tenant: "t", collection: "kb", query: "bmarker7", topK: 3, mode: "fulltext" });
    expect(marker[0]?.documentId).toBe("b-7");
  });

  it("does not build below the threshold; `buildVectorIndex` builds on demand", async () => {
    const rag = await open(0);
    await rag.upsertDocuments("t", "kb", docs(300, "c", 3));
    expect((await rag.vectorIndexStatus("kb")).state).toBe("none");
    await rag.buildVectorIndex("kb", "ivf_pq");
    expect(await rag.vectorIndexStatus("kb")).toMatchObject({ state: "ready", type: "ivf_pq" });
  });

  it("searches probeFraction of the IVF_FLAT partitions: all of them = the flat top-10, one = fewer of them", async () => {
    const queries = docs(20, "q", 9).map((d) => d.text.split(" ").slice(0, 5).join(" "));
    const top10 = async (rag: RagService): Promise<string[][]> =>
      Promise.all(queries.map(async (query) => (await rag.search({ tenant: "t", collection: "kb", query, topK: 10, mode: "vector" })).map((p) => p.chunkId)));
    const recall = (got: string[][], want: string[][]): number =>
      got.reduce((sum, ids, i) => sum + ids.filter((id) => want[i]!.includes(id)).length / 10, 0) / got.length;

    const all = await open(0, { probeFraction: 1 });
    await all.upsertDocuments("t", "kb", docs(2_000, "d", 4));
    const flat = await top10(all);
    await all.buildVectorIndex("kb");
    expect((await all.vectorIndexStatus("kb")).type).toBe("ivf_flat");
    expect(recall(await top10(all), flat)).toBe(1);
    await cleanup?.();

    const one = await open(0, { probeFraction: 0.001 }); // ⌈0.001 × 45⌉ = 1 partition
    await one.upsertDocuments("t", "kb", docs(2_000, "d", 4));
    expect(recall(await top10(one), flat)).toBe(1); // same data, still flat
    await one.buildVectorIndex("kb");
    expect(recall(await top10(one), flat)).toBeLessThan(0.9);
  });
});
