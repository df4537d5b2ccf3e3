/**
 * Per-key model lists (`auth.keys[].models`) on a real gateway with real shards:
 * a list matches a model's canonical name and its aliases (`models: [default]`,
 * as config/default.yaml suggests) and bots; retrieval runs the configured
 * embedding model, so the same list guards ingest, search and `rag` grounding.
 * Also the embedding model's own client errors: an empty `input` array, and
 * context-length errors naming `input` (embeddings) or `query` (search).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { ensureTinyModel } from "../../src/engine/tiny-model/index.js";
import { startTestGateway, TINY_DIR, tinyModelPath, type TestGateway } from "../helpers/gateway.js";

const KEYS = {
  byAlias: "sk-models-alias-000000000001",
  byBot: "sk-models-bot-0000000000002",
  retrieval: "sk-models-rag-0000000000003",
  canonical: "sk-models-canon-00000000004",
} as const;
/** The embedding model's context (tokens): the tiny model's byte-level tokenizer makes ~1 token a character. */
const EMBED_CONTEXT = 128;

let t: TestGateway;
const client = (key: string) => new OpenAI({ baseURL: `${t.url}/v1`, apiKey: key, maxRetries: 0 });
const post = (key: string, path: string, body: unknown) =>
  fetch(`${t.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
const chat = (key: string, model: string, extra: Record<string, unknown> = {}) =>
  post(key, "/v1/chat/completions", { model, messages: [{ role: "user", content: "hi" }], max_tokens: 2, ...extra });
const errorOf = async (res: Response) => ((await res.json()) as { error: { type: string; param: string | null; code: string | null; message: string } }).error;

beforeAll(async () => {
  // A model file of its own (not the tiny fallback), with a short context: a real embedding shard whose limit a test can reach.
  const embedFile = await ensureTinyModel(TINY_DIR, { contextLength: EMBED_CONTEXT });
  t = await startTestGateway({
    cache: { enabled: false },
    models: [
      { name: "tiny", aliases: ["default"], file: await tinyModelPath(), shards: 1, slots: 2, contextSize: 512, threads: 1, fallback: "none" },
      { name: "embedder", file: embedFile, shards: 1, slots: 1, contextSize: EMBED_CONTEXT, threads: 1, fallback: "none" },
    ],
    bots: [{ name: "support-bot", model: "default", collection: "support", topK: 2 }],
    rag: { embeddingModel: "embedder" },
    auth: {
      keys: [
        { key: KEYS.byAlias, tenant: "alias", models: ["default"] },
        // One tenant: the retrieval key fills the collection the bot grounds in.
        { key: KEYS.byBot, tenant: "acme", models: ["support-bot"] },
        { key: KEYS.retrieval, tenant: "acme", models: ["tiny", "embedder"] },
        { key: KEYS.canonical, tenant: "canon", models: ["tiny"] },
      ],
    },
  });
});
afterAll(async () => t?.close());

describe("per-key model lists", () => {
  it("an alias in the list allows the model under every one of its names, and lists them", async () => {
    for (const model of ["default", "tiny"]) expect((await chat(KEYS.byAlias, model)).status).toBe(200);
    expect((await chat(KEYS.canonical, "default")).status).toBe(200);
    const ids = (await client(KEYS.byAlias).models.list()).data.map((m) => m.id).sort();
    // A model's bots run on it: its names allow them too.
    expect(ids).toEqual(["default", "support-bot", "tiny"]);
    expect((await client(KEYS.byAlias).models.retrieve("default")).id).toBe("default");
    // The model list does not reach the embedding model or the bot.
    const denied = await chat(KEYS.byAlias, "embedder");
    expect(denied.status).toBe(403);
    expect(await errorOf(denied)).toMatchObject({ type: "permission_error", code: "model_not_allowed" });
  });

  it("a bot in the list allows the bot, not the model under it; the model's names allow its bots", async () => {
    expect((await post(KEYS.retrieval, "/v1/collections/support/documents", { documents: [{ id: "faq", text: "Refunds take five days." }] })).status).toBe(200);
    expect((await chat(KEYS.byBot, "support-bot")).status).toBe(200);
    for (const model of ["tiny", "default"]) expect((await chat(KEYS.byBot, model)).status).toBe(403);
    expect((await client(KEYS.byBot).models.list()).data.map((m) => m.id)).toEqual(["support-bot"]);
    // Allowed (the alias key's tenant has no such collection: 404, not 403).
    expect((await chat(KEYS.byAlias, "support-bot")).status).not.toBe(403);
  });

  it("a refused model on /v1/messages is a 403 in Anthropic's envelope", async () => {
    const anthropic = new Anthropic({ baseURL: t.url, apiKey: KEYS.byBot, maxRetries: 0 });
    const err = await anthropic.messages.create({ model: "tiny", max_tokens: 2, messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((err as InstanceType<typeof Anthropic.PermissionDeniedError>).error).toMatchObject({ type: "error", error: { type: "permission_error" } });
  });

  it("retrieval runs the embedding model: ingest, search, vector stores and `rag` grounding need it in the list", async () => {
    const doc = { id: "d1", text: "Refunds take five days." };
    const refusals = [
      await post(KEYS.byAlias, "/v1/collections/support/documents", { documents: [doc] }),
      await post(KEYS.byAlias, "/v1/collections/support/search", { query: "refunds" }),
      await post(KEYS.byAlias, "/v1/vector_stores", { name: "kb" }),
      await chat(KEYS.byAlias, "default", { rag: { collection: "support" } }),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(403);
      expect(await errorOf(res)).toMatchObject({ type: "permission_error", code: "model_not_allowed" });
    }
    expect((await post(KEYS.retrieval, "/v1/collections/support/documents", { documents: [doc] })).status).toBe(200);
    const found = await post(KEYS.retrieval, "/v1/collections/support/search", { query: "refunds" });
    expect(found.status).toBe(200);
    expect(((await found.json()) as { data: unknown[] }).data.length).toBeGreaterThan(0);
    expect((await chat(KEYS.retrieval, "tiny", { rag: { collection: "support" } })).status).toBe(200);
  });
});

describe("embedding input errors name the right param", () => {
  it("an empty `input` array is a 400 naming input", async () => {
    const res = await post(KEYS.retrieval, "/v1/embeddings", { model: "embedder", input: [] });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ type: "invalid_request_error", param: "input" });
  });

  it("input longer than the embedding context: 400 context_length_exceeded naming input (embeddings) or query (search)", async () => {
    const long = "refund ".repeat(EMBED_CONTEXT);
    const embeddings = await post(KEYS.retrieval, "/v1/embeddings", { model: "embedder", input: ["short", long] });
    expect(embeddings.status).toBe(400);
    expect(await errorOf(embeddings)).toMatchObject({ param: "input", code: "context_length_exceeded" });

    expect((await post(KEYS.retrieval, "/v1/collections/kb/documents", { documents: [{ id: "a", text: "Shipping is free." }] })).status).toBe(200);
    const search = await post(KEYS.retrieval, "/v1/collections/kb/search", { query: long, mode: "vector" });
    expect(search.status).toBe(400);
    expect(await errorOf(search)).toMatchObject({ param: "query", code: "context_length_exceeded" });
  });
});
