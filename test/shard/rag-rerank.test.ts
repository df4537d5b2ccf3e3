/**
 * Reranking on the real path: a generated tiny reranker GGUF (qwen3
 * architecture, rank pooling, a yes/no classification head) loaded through
 * node-llama-cpp's LlamaRankingContext, applied after fusion by a real
 * RagService on LanceDB. The tiny model's scores are random but
 * deterministic, so the checks compare search order with the reranker's own
 * scores; a file that cannot rank fails the gateway's start.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { ensureTinyReranker } from "../../src/engine/tiny-model/index.js";
import { GgufReranker, NotARerankerError } from "../../src/rag/index.js";
import { startTestGateway, TINY_DIR, tinyModelPath } from "../helpers/gateway.js";
import { tempRag, type TempRag } from "../helpers/rag.js";

const DOCS = [
  { id: "refunds", text: "Refunds are issued within 14 days of purchase to the original card." },
  { id: "shipping", text: "Standard shipping takes 3 to 5 business days; express arrives next day." },
  { id: "password", text: "Reset your password with the Forgot password link on the sign-in page." },
  { id: "invoice", text: "Invoices are emailed after each purchase and listed on the billing page." },
  { id: "cancel", text: "Cancel an order from the order page before it ships to get a full refund." },
];
const QUERY = "how long do refunds take after a purchase";

let file = "";
let reranker: GgufReranker;
let t: TempRag;

beforeAll(async () => {
  file = await ensureTinyReranker(TINY_DIR);
  reranker = new GgufReranker({ file, contextSize: 256 });
  t = await tempRag({ reranker, rerankTopN: 4 });
  await t.rag.upsertDocuments("acme", "kb", DOCS);
}, 120_000);
afterAll(async () => {
  await t?.cleanup(); // disposes the reranker with the service
});

describe("GgufReranker on a generated tiny reranker", { timeout: 120_000 }, () => {
  it("scores every document in [0, 1], the same scores every time, none for no documents", async () => {
    const texts = DOCS.map((d) => d.text);
    const first = await reranker.rank(QUERY, texts);
    expect(first).toHaveLength(texts.length);
    for (const s of first) expect(s >= 0 && s <= 1).toBe(true);
    expect(new Set(first).size).toBeGreaterThan(1);
    expect(await reranker.rank(QUERY, texts)).toEqual(first);
    expect(await reranker.rank(QUERY, [])).toEqual([]);
  });

  it("reorders the first rerankTopN candidates of a search by the reranker's score", async () => {
    const passages = await t.rag.search({ tenant: "acme", collection: "kb", query: QUERY, topK: 5 });
    expect(passages).toHaveLength(5);
    const head = passages.slice(0, 4);
    const scores = await reranker.rank(QUERY, head.map((p) => p.text));
    // The reranked head carries the reranker's own scores, best first.
    expect(head.map((p) => p.score)).toEqual(scores);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    // The same collection without a reranker: the same top 4 (reordered), and the 5th keeps its fused place and score.
    const fused = await tempRag();
    let plain;
    try {
      await fused.rag.upsertDocuments("acme", "kb", DOCS);
      plain = await fused.rag.search({ tenant: "acme", collection: "kb", query: QUERY, topK: 5 });
    } finally {
      await fused.cleanup();
    }
    expect(new Set(head.map((p) => p.documentId))).toEqual(new Set(plain.slice(0, 4).map((p) => p.documentId)));
    expect(passages[4]).toMatchObject({ documentId: plain[4]!.documentId, score: plain[4]!.score });
  });

  it("refuses a model that cannot rank (the tiny chat model) with a clear error", async () => {
    const chat = new GgufReranker({ file: await tinyModelPath() });
    await expect(chat.load()).rejects.toBeInstanceOf(NotARerankerError);
    await expect(chat.load()).rejects.toThrow(/cannot rank passages/);
    await chat.dispose();
  });
});

describe("rag.rerankModel in the config", { timeout: 180_000 }, () => {
  it("validates the settings", () => {
    const base = { models: [{ name: "m", file: "/x.gguf" }] };
    expect(loadConfig({ env: {}, raw: base }).rag).toMatchObject({ rerankTopN: 20, rerankContextSize: 512 });
    expect(loadConfig({ env: {}, raw: base }).rag.rerankModel).toBeUndefined();
    expect(() => loadConfig({ env: {}, raw: { ...base, rag: { rerankTopN: 0 } } })).toThrow(/rerankTopN/);
    expect(() => loadConfig({ env: {}, raw: { ...base, rag: { rerankModel: "" } } })).toThrow(/rerankModel/);
  });

  it("a gateway whose rerankModel cannot rank does not start", async () => {
    await expect(startTestGateway({ rag: { rerankModel: await tinyModelPath() } })).rejects.toBeInstanceOf(NotARerankerError);
  });
});
