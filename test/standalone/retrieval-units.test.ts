/**
 * Units of retrieval's embedder choice, model-card prefixes, weighted fusion,
 * the per-collection fusion calibration and known-question documents.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { GatewayError } from "../../src/errors.js";
import {
  Calibration,
  chooseEmbedder,
  embeddingFamily,
  type EmbeddingModelHandle,
  HashingEmbedder,
  modelCardEmbedder,
  RagService,
  validateDocuments,
  weightedFusion,
} from "../../src/rag/index.js";
import { fusionFromConfig } from "../../src/rag/from-config.js";
import { RELATIVE_GATE } from "../../src/rag/vector-gate.js";

function handle(over: Partial<EmbeddingModelHandle> = {}): EmbeddingModelHandle & { seen: string[][] } {
  const seen: string[][] = [];
  return {
    file: "models/bge-small-en-v1.5-q8_0.gguf",
    identity: "bge-small-en-v1.5-q8_0.gguf:1:2",
    tiny: false,
    embed: (texts) => {
      seen.push(texts);
      return Promise.resolve(texts.map(() => [3, 4]));
    },
    seen,
    ...over,
  };
}

describe("embedder choice", () => {
  const base = { cacheDir: join(tmpdir(), "switchyard-embeddings"), warn: () => undefined };

  it("uses the offline embedder when no embedding model is configured, never a chat model", () => {
    const resolved: string[] = [];
    const chosen = chooseEmbedder({ ...base, embeddingModel: undefined, resolve: (n) => (resolved.push(n), handle()) });
    expect(chosen.source).toBe("sif+hashing");
    expect(chosen.embedder.id).toMatch(/^concat\(1\*sif-v1:wink-sg100d:100000/);
    expect(resolved).toEqual([]);
  });

  it("refuses the generated tiny model even when configured", () => {
    expect(() => chooseEmbedder({ ...base, embeddingModel: "default", resolve: () => handle({ tiny: true, file: "tiny" }) })).toThrow(
      /tiny model/,
    );
  });

  it("refuses a name that is not a configured model", () => {
    expect(() => chooseEmbedder({ ...base, embeddingModel: "nope", resolve: () => undefined })).toThrow(/no model is named 'nope'/);
  });

  it("uses an explicitly configured chat model, with a warning", () => {
    const warnings: string[] = [];
    const chosen = chooseEmbedder({
      ...base,
      embeddingModel: "chat",
      resolve: () => handle({ file: "models/qwen2.5-0.5b-instruct-q4_k_m.gguf" }),
      warn: (_f, m) => warnings.push(m),
    });
    expect(chosen.source).toBe("model");
    expect(warnings.join()).toMatch(/does not look like an embedding model/);
  });

  it("embeds with the model card's prefixes and L2-normalises", async () => {
    const h = handle();
    const { embedder } = chooseEmbedder({ ...base, embeddingModel: "bge", resolve: () => h });
    const [q] = await embedder.embed(["refund"], "query");
    await embedder.embed(["Refunds take 5 days."], "document");
    expect(q).toEqual([0.6, 0.8]);
    expect(h.seen).toEqual([["Represent this sentence for searching relevant passages: refund"], ["Refunds take 5 days."]]);
    expect(embedder.id).toBe("gguf:bge-small-en-v1.5-q8_0.gguf:1:2:card-bge:l2");
  });

  it("knows the families' prefixes", async () => {
    expect(embeddingFamily("nomic-embed-text-v1.5.Q8_0.gguf")?.queryPrefix).toBe("search_query: ");
    expect(embeddingFamily("multilingual-e5-small-q8_0.gguf")?.documentPrefix).toBe("passage: ");
    expect(embeddingFamily("gte-small.Q8_0.gguf")?.queryPrefix).toBe("");
    expect(embeddingFamily("Qwen2.5-0.5B-Instruct-Q4_K_M.gguf")).toBeUndefined();
    const seen: string[] = [];
    const e = modelCardEmbedder({ id: "x", embed: (t) => (seen.push(...t), Promise.resolve(t.map(() => [1, 0]))) }, "e5-small-v2.gguf");
    await e.embed(["a"], "query");
    await e.embed(["b"]);
    expect(seen).toEqual(["query: a", "passage: b"]);
  });
});

describe("weighted fusion", () => {
  const key = (x: { id: string }): string => x.id;
  const score = (x: { s: number }): number => x.s;
  const vec = [
    { id: "a", s: 0.9 },
    { id: "b", s: 0.5 },
  ];
  const text = [
    { id: "b", s: 12 },
    { id: "c", s: 3 },
  ];

  it("weight 0 is the full-text order, weight 1 the vector order", () => {
    const ids = (w: number, method: "rrf" | "convex"): string[] =>
      weightedFusion([vec, text], key, score, { method, vectorWeight: w, rrfK: 60 }).map((f) => f.item.id);
    for (const m of ["rrf", "convex"] as const) {
      expect(ids(0, m).slice(0, 2)).toEqual(["b", "c"]);
      expect(ids(1, m).slice(0, 2)).toEqual(["a", "b"]);
    }
  });

  it("convex: min-max normalised scores, weighted", () => {
    const fused = weightedFusion([vec, text], key, score, { method: "convex", vectorWeight: 0.5, rrfK: 60 });
    // b: 0.5·0 + 0.5·1 = 0.5; a: 0.5·1 = 0.5; c: 0.5·0 = 0 (ties break by best single rank, then key).
    expect(fused.map((f) => [f.item.id, f.score])).toEqual([
      ["a", 0.5],
      ["b", 0.5],
      ["c", 0],
    ]);
  });

  it("rejects weights outside [0, 1]", () => {
    expect(() => weightedFusion([vec, text], key, score, { method: "rrf", vectorWeight: 1.5, rrfK: 60 })).toThrow(RangeError);
  });
});

describe("fusion calibration", () => {
  // One probe whose chunk "t" the vectors rank first and BM25 third. Convex fusion ranks it first for
  // vector weights ≥ 0.7 (t = w beats x = 1 − w/2), second for 0.4-0.6, third below.
  const rankings = [
    {
      target: "t",
      vector: [
        { key: "t", score: 0.9 },
        { key: "x", score: 0.5 },
        { key: "y", score: 0.1 },
      ],
      text: [
        { key: "x", score: 10 },
        { key: "y", score: 5 },
        { key: "t", score: 1 },
      ],
    },
  ];
  const convex = (vectorWeight: number): { method: "convex"; vectorWeight: number; rrfK: number } => ({ method: "convex", vectorWeight, rrfK: 60 });

  it("uses the weight whose fusion ranks the probes best, the nearest to the configured one among ties", () => {
    const c = new Calibration(0.9, 1, 1, rankings);
    expect(c.probeMrr(convex(0.5))).toBeCloseTo(0.5);
    expect(c.probeMrr(convex(0.7))).toBe(1);
    expect(c.weightFor(convex(0.5))).toBe(0.7);
    expect(c.weightFor(convex(0.9))).toBe(0.9);
    expect(c.weightFor(convex(0.2))).toBe(0.7);
  });

  it("scales by the gate's multiplier, and trusts the configuration without probes", () => {
    expect(new Calibration(0.05, 0, 1, rankings).weightFor(convex(0.5))).toBe(0);
    expect(new Calibration(0.25, 0.5, 1, rankings).weightFor(convex(0.5))).toBeCloseTo(0.35);
    expect(new Calibration(1, 1, 2, []).weightFor(convex(0.4))).toBe(0.4);
  });

  it("leaves the vectors out where their ranking is clearly worse than full text's on the probes", () => {
    // The same probe, and a second one whose target BM25 ranks first and the vectors third.
    const second = { target: "u", vector: [...rankings[0]!.text].map((h, i) => ({ ...h, key: ["x", "y", "u"][i]! })), text: [{ key: "u", score: 9 }, { key: "x", score: 1 }] };
    // Vectors alone: 1 + 1/3; full text alone: 1/3 + 1. As good: fused as calibrated.
    const even = new Calibration(0.9, 1, 2, [...rankings, second]);
    expect(even.relative).toBeCloseTo(1);
    expect(even.weightFor(convex(0.5))).toBeGreaterThan(0);
    // A third probe only full text finds: vectors (1 + 1/3) / (1/3 + 1 + 1) = 0.57 of full text.
    const third = { target: "z", vector: [{ key: "x", score: 0.9 }], text: [{ key: "z", score: 3 }] };
    const weak = new Calibration(0.9, 1, 3, [...rankings, second, third]);
    expect(weak.relative).toBeCloseTo(4 / 7);
    expect(weak.weightFor(convex(0.5))).toBe(0);
    expect(weak.weightFor({ method: "rrf", vectorWeight: 0.5, rrfK: 60 })).toBe(0);
    // Without probes there is nothing to compare: the configuration is trusted.
    expect(new Calibration(1, 1, 2, []).relative).toBe(1);
    // The threshold is the fusion's: 0 turns the gate off, a lower one lets these vectors in.
    expect(weak.weightFor({ ...convex(0.5), relativeGate: 0 })).toBeGreaterThan(0);
    expect(weak.weightFor({ ...convex(0.5), relativeGate: 0.5 })).toBe(weak.weightFor({ ...convex(0.5), relativeGate: 0 }));
  });

  it("the config gates the offline embedder's vectors by default, not an embedding model's; a set value wins", () => {
    const fusion = { method: "convex" as const, vectorWeight: 0.5, calibrate: true };
    expect(fusionFromConfig(fusion, "sif+hashing").relativeGate).toBe(RELATIVE_GATE);
    expect(fusionFromConfig(fusion, "hashing").relativeGate).toBe(RELATIVE_GATE);
    expect(fusionFromConfig(fusion, "model").relativeGate).toBe(0);
    expect(fusionFromConfig({ ...fusion, relativeGate: 0.7 }, "model").relativeGate).toBe(0.7);
    expect(configSchema.parse({ models: [{ name: "default", file: "tiny" }], rag: { fusion: { relativeGate: 0.8 } } }).rag.fusion.relativeGate).toBe(0.8);
    expect(() => configSchema.parse({ models: [{ name: "default", file: "tiny" }], rag: { fusion: { relativeGate: 2 } } })).toThrow();
  });
});

describe("fusion config", () => {
  it("a collection's fusion overrides only the keys it sets", () => {
    const config = configSchema.parse({
      models: [{ name: "default", file: "tiny" }],
      rag: { fusion: { method: "rrf" }, collections: { kb: { fusion: { vectorWeight: 0.7 } }, faq: { fusion: { calibrate: false } } } },
    });
    expect(config.rag.fusion).toEqual({ method: "rrf", vectorWeight: 0.5, calibrate: true });
    expect(config.rag.collections.kb?.fusion).toEqual({ vectorWeight: 0.7 });
    expect(config.rag.collections.faq?.fusion).toEqual({ calibrate: false });
  });
});

describe("documents with known questions", () => {
  it("validates questions", () => {
    expect(() => validateDocuments([{ id: "a", text: "x", questions: "how?" }])).toThrow(GatewayError);
    expect(() => validateDocuments([{ id: "a", text: "x", questions: [1] }])).toThrow(/questions must be an array/);
    expect(() => validateDocuments([{ id: "a", text: "x", questions: ["how?"] }])).not.toThrow();
  });

  it("a question match returns the answer's first chunk, once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-q-"));
    const rag = await RagService.open({
      uri: join(dir, "db"),
      embedder: new HashingEmbedder({ dimension: 128 }),
      chunkSize: 200,
      chunkOverlap: 0,
      rrfK: 60,
      scoreFloor: Number.NEGATIVE_INFINITY,
    });
    try {
      await rag.upsertDocuments("t", "faq", [
        {
          id: "refunds",
          text: "Money goes back to the original card within five business days.",
          questions: ["how do I get my money back", "can I get a refund for my purchase"],
        },
        { id: "shipping", text: "Parcels leave the warehouse the next morning by courier." },
      ]);
      for (const mode of ["vector", "fulltext", "hybrid"] as const) {
        const hits = await rag.search({ tenant: "t", collection: "faq", query: "refund purchase money back", topK: 5, mode });
        expect(hits[0]?.chunkId, mode).toBe("refunds#0");
        expect(hits[0]?.text, mode).toMatch(/original card/);
        expect(hits.filter((h) => h.documentId === "refunds"), mode).toHaveLength(1);
      }
    } finally {
      await rag.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
