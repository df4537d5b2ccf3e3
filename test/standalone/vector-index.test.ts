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

  async function open(threshold: number): Promise<RagService> {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-ann-"));
    const rag = await RagService.open({
      uri: join(dir, "db"),
      embedder: new HashingEmbedder({ dimension: 64 }),
      chunkSize: 800,
      chunkOverlap: 0,
      rrfK: 60,
      scoreFloor: Number.NEGATIVE_INFINITY,
      vectorIndex: { threshold, type: "hnsw_sq" },
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
    expect(status.type).toBe("hnsw_sq");
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
});
