import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.js";
import { Chunker, contentHash, filterPredicate, HashingEmbedder, metadataEntries, reciprocalRankFusion, sqlString } from "../../src/rag/index.js";
import { NearDuplicateFilter, jaccard } from "../../src/rag/dedupe.js";
import { embedInBatches } from "../../src/rag/embedder.js";
import { ndcgAt, percentile, recallAt } from "../../src/rag/eval-metrics.js";

const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);

describe("HashingEmbedder", () => {
  it("is deterministic, unit-length and of fixed dimension", async () => {
    const e = new HashingEmbedder({ dimension: 64 });
    const [a, b] = await e.embed(["Refund my order please", "Refund my order please"]);
    expect(a).toHaveLength(64);
    expect(a).toEqual(b);
    expect(dot(a ?? [], a ?? [])).toBeCloseTo(1, 10);
    const [empty] = await e.embed([""]);
    expect(dot(empty ?? [], empty ?? [])).toBeCloseTo(1, 10);
    expect(new HashingEmbedder({ dimension: 64 }).id).toBe(e.id);
    expect(new HashingEmbedder({ dimension: 128 }).id).not.toBe(e.id);
  });

  it("scores shared words above unrelated text", () => {
    const e = new HashingEmbedder();
    const q = e.embedOne("how do I get a refund for my orders");
    const related = e.embedOne("Refunds for an order are issued within 30 days.");
    const unrelated = e.embedOne("Our offices are closed on public holidays.");
    expect(dot(q, related)).toBeGreaterThan(dot(q, unrelated) + 0.2);
  });

  it("is batched by embedInBatches with output checks", async () => {
    const calls: number[] = [];
    const e = { id: "count", embed: async (t: string[]) => (calls.push(t.length), t.map(() => [1, 0])) };
    expect(await embedInBatches(e, ["a", "b", "c", "d", "e"], 2)).toHaveLength(5);
    expect(calls).toEqual([2, 2, 1]);
    const broken = { id: "broken", embed: async () => [[1]] };
    await expect(embedInBatches(broken, ["a", "b"], 8)).rejects.toThrow(/1 vectors for 2 texts/);
  });
});

describe("Chunker", () => {
  it("splits with size/overlap, numbers chunks densely and keeps document fields", async () => {
    const chunker = new Chunker({ chunkSize: 100, chunkOverlap: 20 });
    const text = Array.from({ length: 10 }, (_, i) => `Sentence number ${i} has some words in it.`).join(" ");
    const chunks = await chunker.chunk({ id: "d", text, title: "T", source: "s", metadata: { k: "v" } });
    expect(chunks.length).toBeGreaterThan(3);
    chunks.forEach((c, i) => {
      expect(c).toMatchObject({ chunkId: `d#${i}`, documentId: "d", position: i, title: "T", source: "s", metadata: { k: "v" } });
      expect(c.text.length).toBeLessThanOrEqual(100);
    });
  });

  it("splits markdown at headings and drops near-duplicate chunks", async () => {
    const chunker = new Chunker({ chunkSize: 120, chunkOverlap: 0 });
    const footer = "Questions? Contact support@example.com, we answer within one business day.";
    // Section bodies are long enough that each footer becomes a chunk of its own.
    const md = [
      "# Refunds\n\nRefunds take five days after the parcel is back in our warehouse.",
      footer,
      "## Returns\n\nReturn labels are free of charge for every order in the EU.",
      `${footer.toUpperCase()}!!`,
      "## Exchanges\n\nExchanges are free too, as long as the item is unused.",
      footer,
    ].join("\n\n");
    const chunks = await chunker.chunk({ id: "faq.md", text: md });
    const withFooter = chunks.filter((c) => /contact support/i.test(c.text));
    expect(withFooter).toHaveLength(1);
    expect(chunks.some((c) => c.text.startsWith("## Returns"))).toBe(true);
    expect(chunks.map((c) => c.position)).toEqual(chunks.map((_, i) => i));
  });

  it("rejects an overlap not smaller than the size", () => {
    expect(() => new Chunker({ chunkSize: 100, chunkOverlap: 100 })).toThrow(RangeError);
  });

  it("hashes content, not key order, and includes chunking settings", () => {
    const a = contentHash({ id: "x", text: "t", metadata: { a: 1, b: 2 } }, 800, 100);
    expect(contentHash({ id: "x", text: "t", metadata: { b: 2, a: 1 } }, 800, 100)).toBe(a);
    expect(contentHash({ id: "x", text: "t", metadata: { a: 1, b: 3 } }, 800, 100)).not.toBe(a);
    expect(contentHash({ id: "x", text: "t", title: "new", metadata: { a: 1, b: 2 } }, 800, 100)).not.toBe(a);
    expect(contentHash({ id: "x", text: "t", metadata: { a: 1, b: 2 } }, 500, 100)).not.toBe(a);
  });
});

describe("near-duplicate filter", () => {
  it("drops normalised-equal and ≥ 0.9 Jaccard texts, keeps distinct ones", () => {
    const f = new NearDuplicateFilter();
    const base = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    expect(f.keep(base)).toBe(true);
    expect(f.keep(`${base.toUpperCase()}!`)).toBe(false);
    expect(f.keep(`${base} extra`)).toBe(false); // 38 of 39 shingles shared
    expect(f.keep("something else entirely different here")).toBe(true);
    expect(jaccard(new Set(["a", "b"]), new Set(["b", "c"]))).toBeCloseTo(1 / 3);
  });
});

describe("reciprocal rank fusion", () => {
  it("sums 1/(k+rank), normalised to (0, 1], ties broken deterministically", () => {
    const fused = reciprocalRankFusion([["a", "b", "c"], ["b", "d"]], (x) => x, 60);
    expect(fused.map((f) => f.item)).toEqual(["b", "a", "d", "c"]);
    const best = 2 / 61;
    expect(fused[0]?.score).toBeCloseTo((1 / 62 + 1 / 61) / best);
    expect(fused[1]?.score).toBeCloseTo(1 / 61 / best);
    expect(fused[0]?.ranks).toEqual([2, 1]);
    expect(reciprocalRankFusion([["x"], ["x"]], (x) => x, 60)[0]?.score).toBeCloseTo(1);
    expect(reciprocalRankFusion([["a", "a", "b"], []], (x) => x, 60).map((f) => f.ranks[0])).toEqual([1, 2]);
    expect(() => reciprocalRankFusion([], (x: string) => x, 0)).toThrow(RangeError);
  });
});

describe("filters and SQL quoting", () => {
  it("compiles columns and metadata keys, quoting values", () => {
    expect(sqlString("it's")).toBe("'it''s'");
    expect(filterPredicate(undefined)).toBeUndefined();
    expect(filterPredicate({})).toBeUndefined();
    expect(filterPredicate({ source: "a'b", lang: "en", year: 2024, ok: true })).toBe(
      "source = 'a''b' AND array_has(metadata_kv, 'lang=en') AND array_has(metadata_kv, 'year=2024') AND array_has(metadata_kv, 'ok=true')",
    );
    expect(() => filterPredicate({ "a b": "x" })).toThrow(GatewayError);
    expect(() => filterPredicate({ a: { nested: 1 } })).toThrow(GatewayError);
  });

  it("stores scalar and array metadata as filterable entries", () => {
    expect(metadataEntries({ lang: "en", n: 3, tags: ["a", "b", "a"], nested: { x: 1 }, nil: null, "bad key": "x" })).toEqual([
      "lang=en",
      "n=3",
      "tags=a",
      "tags=b",
    ]);
  });
});

describe("eval metrics", () => {
  it("computes nDCG, recall and percentiles", () => {
    expect(ndcgAt(["a", "b"], new Map([["b", 1]]), 10)).toBeCloseTo(1 / Math.log2(3));
    expect(ndcgAt(["b", "a"], new Map([["b", 1]]), 10)).toBe(1);
    expect(recallAt(["a", "b"], new Set(["b", "z"]), 10)).toBe(0.5);
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
  });
});
