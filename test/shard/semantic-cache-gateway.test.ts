/**
 * The semantic cache on the real path: real gateways, real shard processes
 * on the tiny model, the official clients, and (for the shared store) a real
 * redis-server behind two gateways. Paraphrases of an answered question hit
 * (`x-switchyard-cache: semantic`, the similarity in a header and in the
 * `switchyard` block, the same answer streamed or not), other intents miss,
 * tenants never share, and multi-turn, tools, n > 1, logprobs and sampled
 * requests bypass unless the key allows sampled ones.
 */
import Anthropic from "@anthropic-ai/sdk";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSse, startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { hasRedisServer, startRedisServer, type RedisServer } from "../helpers/redis-server.js";

const KEYS = {
  acme: "sk-semantic-acme-000000000001",
  acmePlain: "sk-semantic-acme-plain-00002",
  acmeSampled: "sk-semantic-acme-sampled-003",
  globex: "sk-semantic-globex-00000004",
};

const ON = { cache: { semantic: { enabled: true } } };
const AUTH = {
  keys: [
    { key: KEYS.acme, tenant: "acme", ...ON },
    { key: KEYS.acmePlain, tenant: "acme" },
    { key: KEYS.acmeSampled, tenant: "acme", cache: { semantic: { enabled: true, allowSampled: true } } },
    { key: KEYS.globex, tenant: "globex", ...ON },
  ],
};

/** `temperature` is a field SDK 1.x no longer types; clients of earlier versions still send it. */
const GREEDY: object = { temperature: 0 };

const QUESTION = "How do I reset my password?";
const PARAPHRASE = "I need to reset my password, how do I do it?";
const OTHER_INTENT = "How do I cancel my order?";

type ChatBody = OpenAI.Chat.ChatCompletion & { switchyard: { cache: string; similarity?: number } };

function ask(t: TestGateway, key: string, content: string | OpenAI.Chat.ChatCompletionMessageParam[], extra: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> = {}) {
  const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: key, maxRetries: 0 });
  const messages = typeof content === "string" ? [{ role: "user" as const, content }] : content;
  return client.chat.completions.create({ model: "tiny", max_tokens: 8, temperature: 0, messages, ...extra }).withResponse();
}

async function served(t: TestGateway, key: string, content: string | OpenAI.Chat.ChatCompletionMessageParam[], extra: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> = {}) {
  const { data, response } = await ask(t, key, content, extra);
  return { body: data as ChatBody, cache: response.headers.get("x-switchyard-cache"), similarity: response.headers.get("x-switchyard-cache-similarity") };
}

describe("semantic cache through the gateway (real shards)", () => {
  let t: TestGateway;
  beforeAll(async () => {
    // Room for a tool definition in the prompt.
    t = await startTestGateway({ auth: AUTH, cache: { semantic: { threshold: 0.8 } } }, { contextSize: 1024 });
  });
  afterAll(async () => t?.close());

  it("a paraphrase of an answered question gets its answer, marked semantic with the similarity; another intent misses", async () => {
    const first = await served(t, KEYS.acme, QUESTION);
    expect(first.cache).toBe("miss");
    const again = await served(t, KEYS.acme, PARAPHRASE);
    expect(again.cache).toBe("semantic");
    const similarity = Number(again.similarity);
    expect(similarity).toBeGreaterThanOrEqual(0.8);
    expect(similarity).toBeLessThan(1);
    expect(again.body.switchyard.cache).toBe("semantic");
    expect(again.body.switchyard.similarity).toBeCloseTo(similarity, 3);
    expect(again.body.choices[0]!.message.content).toBe(first.body.choices[0]!.message.content);
    expect(again.body.usage).toEqual(first.body.usage);

    const other = await served(t, KEYS.acme, OTHER_INTENT);
    expect(other.cache).toBe("miss");
    expect(other.similarity).toBeNull();
  });

  it("streams a semantic hit as the same text", async () => {
    const first = await served(t, KEYS.acme, "What are your opening hours on weekends?");
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEYS.acme}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", max_tokens: 8, temperature: 0, stream: true, messages: [{ role: "user", content: "on weekends, what are your opening hours?" }] }),
    });
    expect(res.headers.get("x-switchyard-cache")).toBe("semantic");
    expect(Number(res.headers.get("x-switchyard-cache-similarity"))).toBeGreaterThanOrEqual(0.8);
    const events = await readSse(res);
    expect(events.at(-1)).toBe("[DONE]");
    const text = events
      .slice(0, -1)
      .map((e) => (JSON.parse(e) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? "")
      .join("");
    expect(text).toBe(first.body.choices[0]!.message.content);
  });

  it("never across tenants, never for a key that did not opt in", async () => {
    await served(t, KEYS.acme, "Can I change the delivery address of my parcel?");
    const paraphrase = "can I change my parcel's delivery address?";
    expect((await served(t, KEYS.globex, paraphrase)).cache).toBe("miss");
    // A semantic hit stores nothing under the exact key: the next caller of the same tenant is not served by it...
    expect((await served(t, KEYS.acme, paraphrase)).cache).toBe("semantic");
    // ...and a key of that tenant without the opt-in misses.
    expect((await served(t, KEYS.acmePlain, paraphrase)).cache).toBe("miss");
  });

  it("bypasses multi-turn conversations, tools, n > 1, logprobs and sampled requests", async () => {
    await served(t, KEYS.acme, "How long does a refund take?");
    const paraphrase = "how long does it take to get a refund?";
    const multiTurn = await served(t, KEYS.acme, [
      { role: "user", content: "hello" },
      { role: "assistant", content: "hi" },
      { role: "user", content: paraphrase },
    ]);
    expect(multiTurn.cache).not.toBe("semantic");
    const tools = await served(t, KEYS.acme, paraphrase, { tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: {} } } }] });
    expect(tools.cache).toBe("bypass");
    expect((await served(t, KEYS.acme, paraphrase, { n: 2 })).cache).toBe("bypass");
    expect((await served(t, KEYS.acme, paraphrase, { logprobs: true })).cache).toBe("bypass");
    // Sampled: not for a key that did not allow it; for one that did.
    expect((await served(t, KEYS.acme, paraphrase, { temperature: 0.9 })).cache).toBe("bypass");
    await served(t, KEYS.acmeSampled, "How long does a refund take?", { temperature: 0.9 });
    expect((await served(t, KEYS.acmeSampled, paraphrase, { temperature: 0.9 })).cache).toBe("semantic");
    // And the plain paraphrase still hits: the bypasses stored nothing under its scope.
    expect((await served(t, KEYS.acme, paraphrase)).cache).toBe("semantic");
  });

  it("the Responses and Messages APIs answer paraphrases from the semantic cache too", async () => {
    const openai = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: KEYS.acme, maxRetries: 0 });
    const first = await openai.responses.create({ model: "tiny", input: "Do you ship to Canada?", max_output_tokens: 16, temperature: 0 }).withResponse();
    expect(first.response.headers.get("x-switchyard-cache")).toBe("miss");
    const again = await openai.responses.create({ model: "tiny", input: "do you ship to canada at all?", max_output_tokens: 16, temperature: 0 }).withResponse();
    expect(again.response.headers.get("x-switchyard-cache")).toBe("semantic");
    expect(again.data.output_text).toBe(first.data.output_text);

    const anthropic = new Anthropic({ baseURL: t.url, apiKey: KEYS.acme, maxRetries: 0 });
    const m1 = await anthropic.messages.create({ model: "tiny", max_tokens: 8, ...GREEDY, messages: [{ role: "user", content: "Is there a student discount?" }] }).withResponse();
    expect(m1.response.headers.get("x-switchyard-cache")).toBe("miss");
    const m2 = await anthropic.messages.create({ model: "tiny", max_tokens: 8, ...GREEDY, messages: [{ role: "user", content: "is there any discount for a student?" }] }).withResponse();
    expect(m2.response.headers.get("x-switchyard-cache")).toBe("semantic");
    expect(m2.data.content).toEqual(m1.data.content);
  });
});

describe.skipIf(!hasRedisServer)("semantic cache shared in Redis by two gateways", () => {
  let redis: RedisServer;
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    redis = await startRedisServer();
    a = await startTestGateway({ auth: AUTH, redis: { url: redis.url } });
    b = await startTestGateway({ auth: AUTH, redis: { url: redis.url } });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it("a question answered on one replica serves its paraphrase on the other, within the tenant only", async () => {
    const first = await served(a, KEYS.acme, QUESTION);
    expect(first.cache).toBe("miss");
    // The entry is written as the answer goes out: wait until Redis holds it (bounded), then ask the other replica.
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      for (let i = 0; i < 50 && (await client.keys("switchyard:cache:sem:*:index")).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await client.keys("switchyard:cache:sem:*:answers")).toHaveLength(1);
    } finally {
      client.disconnect();
    }
    const again = await served(b, KEYS.acme, PARAPHRASE);
    expect(again.cache).toBe("semantic");
    expect(again.body.choices[0]!.message.content).toBe(first.body.choices[0]!.message.content);
    expect((await served(b, KEYS.globex, PARAPHRASE)).cache).toBe("miss");
  });
});
