/**
 * Retrieval over HTTP on the real path: real gateway, real shards (their
 * embeddings), real LanceDB on disk, the official client.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { readSse, startTestGateway, type TestGateway } from "../helpers/gateway.js";

const KB = [
  { id: "refunds", title: "Refund policy", source: "kb/refunds.md", text: "Refunds are issued within 14 days of purchase. To request a refund, open the order page and press Request refund. Refunds go back to the original payment method." },
  { id: "shipping", title: "Shipping times", source: "kb/shipping.md", text: "Standard shipping takes 3 to 5 business days. Express shipping arrives the next business day when ordered before noon." },
  { id: "password", title: "Reset your password", source: "kb/password.md", text: "To reset your password, click Forgot password on the sign-in page and follow the link we email you. The link expires after one hour." },
  { id: "invoice", title: "Invoices", source: "kb/invoices.md", text: "Invoices are available under Account, Billing, Invoices. You can download each invoice as a PDF." },
];

const KEY_A = "sk-tenant-a-000000000001";
const KEY_B = "sk-tenant-b-000000000002";

let t: TestGateway;
let a: OpenAI;
let b: OpenAI;
beforeAll(async () => {
  t = await startTestGateway({
    auth: { keys: [{ key: KEY_A, tenant: "acme" }, { key: KEY_B, tenant: "globex" }] },
    bots: [{ name: "support-bot", model: "tiny", collection: "support", topK: 2, systemPrompt: "You are Acme support." }],
  }, { contextSize: 2048 });
  a = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: KEY_A, maxRetries: 0 });
  b = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: KEY_B, maxRetries: 0 });
});
afterAll(async () => t?.close());

async function api(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

type Passage = { document_id: string; text: string; score: number };

describe("collections API", () => {
  it("upserts, skips unchanged, replaces changed, deletes", async () => {
    const first = await api(KEY_A, "POST", "/v1/collections/support/documents", KB);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ inserted: 4, updated: 0, unchanged: 0 });
    const v1 = first.json.version as number;

    const again = await api(KEY_A, "POST", "/v1/collections/support/documents", KB);
    expect(again.json).toMatchObject({ inserted: 0, updated: 0, unchanged: 4 });

    const changed = { ...KB[1]!, text: "Standard shipping now takes 2 business days. Zebra-crossing courier." };
    const upd = await api(KEY_A, "POST", "/v1/collections/support/documents", [changed]);
    expect(upd.json).toMatchObject({ inserted: 0, updated: 1 });
    expect(upd.json.version).not.toBe(v1);
    const hits = (await api(KEY_A, "POST", "/v1/collections/support/search", { query: "Zebra-crossing courier", top_k: 3 })).json.data as Passage[];
    expect(hits[0]!.document_id).toBe("shipping");
    const oldSearch = await api(KEY_A, "POST", "/v1/collections/support/search", { query: "Express shipping before noon", top_k: 5, mode: "fulltext" });
    const old = oldSearch.json.data as Passage[];
    // Only hybrid reports a fusion: the one it used, with the collection's calibrated vector weight unless the request set one.
    expect(oldSearch.json.fusion).toBeUndefined();
    const hybrid = (await api(KEY_A, "POST", "/v1/collections/support/search", { query: "Express shipping before noon" })).json;
    expect(hybrid.fusion).toMatchObject({ method: "convex", calibrated: true });
    const weight = (hybrid.fusion as { vector_weight: number }).vector_weight;
    expect(weight).toBeGreaterThanOrEqual(0);
    expect(weight).toBeLessThanOrEqual(1);
    const pinned = (await api(KEY_A, "POST", "/v1/collections/support/search", { query: "Express shipping before noon", fusion: { method: "rrf", vector_weight: 0.7 } })).json;
    expect(pinned.fusion).toEqual({ method: "rrf", vector_weight: 0.7, rrf_k: 60, calibrated: false });
    expect(old.every((p) => !p.text.includes("before noon"))).toBe(true);

    await api(KEY_A, "POST", "/v1/collections/support/documents", [{ id: "temp", text: "Temporary note about parrots." }]);
    expect((await api(KEY_A, "DELETE", "/v1/collections/support/documents/temp")).status).toBe(200);
    expect((await api(KEY_A, "DELETE", "/v1/collections/support/documents/temp")).status).toBe(404);
    const parrots = (await api(KEY_A, "POST", "/v1/collections/support/search", { query: "parrots", mode: "fulltext" })).json.data as Passage[];
    expect(parrots).toHaveLength(0);
  });

  it("validates input with 400s", async () => {
    expect((await api(KEY_A, "POST", "/v1/collections/support/documents", [{ text: "no id" }])).status).toBe(400);
    expect((await api(KEY_A, "POST", "/v1/collections/bad name!/search", { query: "x" })).status).toBe(400);
    expect((await api(KEY_A, "POST", "/v1/collections/support/search", { query: "" })).status).toBe(400);
  });

  it("isolates tenants: the same collection name never crosses", async () => {
    await api(KEY_B, "POST", "/v1/collections/support/documents", [{ id: "globex-secret", text: "Globex marker: platypus umbrella." }]);
    for (const mode of ["vector", "fulltext", "hybrid"]) {
      const fromA = (await api(KEY_A, "POST", "/v1/collections/support/search", { query: "platypus umbrella", mode, top_k: 10 })).json.data as Passage[];
      expect(fromA.some((p) => p.text.includes("platypus"))).toBe(false);
      const fromB = (await api(KEY_B, "POST", "/v1/collections/support/search", { query: "platypus umbrella", mode, top_k: 10 })).json.data as Passage[];
      if (mode !== "vector") expect(fromB[0]!.document_id).toBe("globex-secret");
      expect(fromB.some((p) => p.document_id === "refunds")).toBe(false);
    }
    const listA = (await api(KEY_A, "GET", "/v1/collections")).json.data as Array<{ name: string }>;
    expect(listA.map((c) => c.name)).toContain("support");
  });
});

describe("grounded chat", () => {
  it("answers with citations that match the retrieved documents", async () => {
    const search = (await api(KEY_A, "POST", "/v1/collections/support/search", { query: "How do I reset my password?", top_k: 3 })).json.data as Passage[];
    const res = await a.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "How do I reset my password?" }],
      max_tokens: 8,
      temperature: 0,
      rag: { collection: "support", top_k: 3 },
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const citations = (res as unknown as { citations: Array<{ index: number; document_id: string; title: string; source: string; score: number }> }).citations;
    expect(citations.map((c) => c.document_id)).toEqual(search.map((p) => p.document_id));
    expect(citations[0]).toMatchObject({ index: 1, document_id: "password", title: "Reset your password", source: "kb/password.md" });
    // The grounded prompt is much longer than the question alone: the sources went in.
    expect(res.usage!.prompt_tokens).toBeGreaterThan(200);
  });

  it("streams citations on the final chunk; a bot name grounds without the extension", async () => {
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY_A}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "support-bot", messages: [{ role: "user", content: "When will my invoice be available?" }], max_tokens: 4, stream: true, stream_options: { include_usage: true } }),
    });
    const events = (await readSse(res)).slice(0, -1).map((e) => JSON.parse(e) as { citations?: Array<{ document_id: string }>; choices: Array<{ finish_reason: string | null }> });
    const finish = events.find((e) => e.choices[0]?.finish_reason);
    expect(finish!.citations!.length).toBe(2);
    expect(finish!.citations![0]!.document_id).toBe("invoice");
    expect(events.at(-1)!.citations).toEqual(finish!.citations);
  });

  it("says it does not know when nothing relevant is found", async () => {
    for (const rag of [
      { collection: "support", mode: "fulltext" },
      { collection: "support", score_floor: 1.5 },
    ]) {
      const res = await a.chat.completions.create({
        model: "tiny",
        messages: [{ role: "user", content: "Xylophone quasar?" }],
        max_tokens: 8,
        rag,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      expect(res.choices[0]!.message.content).toMatch(/I don't know/);
      expect((res as unknown as { citations: unknown[] }).citations).toEqual([]);
    }
    const missing = await a.chat.completions
      .create({ model: "tiny", messages: [{ role: "user", content: "x" }], rag: { collection: "nope" } } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("tenants get different cache entries for the same grounded question", async () => {
    const body = { model: "tiny", messages: [{ role: "user" as const, content: "refund please" }], max_tokens: 4, temperature: 0 };
    const r1 = await a.chat.completions.create(body).withResponse();
    expect(r1.response.headers.get("x-switchyard-cache")).toBe("miss");
    const r2 = await b.chat.completions.create(body).withResponse();
    expect(r2.response.headers.get("x-switchyard-cache")).toBe("miss");
    const r3 = await a.chat.completions.create(body).withResponse();
    expect(r3.response.headers.get("x-switchyard-cache")).toBe("hit");
  });
});
