/** Tokens-per-minute limits charge real usage, not the admission estimate (real gateway, real shards), on every generating API. */
import { afterAll, beforeAll, expect, it } from "vitest";
import OpenAI from "openai";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

const KEY = "sk-settle-0000000000001";
const RESPONSES_KEY = "sk-settle-0000000000002";
let t: TestGateway;
let client: OpenAI;
beforeAll(async () => {
  t = await startTestGateway({ cache: { enabled: false }, auth: { keys: [KEY, RESPONSES_KEY].map((key, i) => ({ key, tenant: ["acme", "resp"][i]!, tokensPerMinute: 600 })) } });
  client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: KEY, maxRetries: 0 });
});
afterAll(async () => t?.close());

it("refunds the unused part of a reservation once the real usage is known", async () => {
  // Learn the deterministic output, then stop right after its first characters: ~1 real completion token.
  const probe = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "go" }], max_tokens: 3, temperature: 0 });
  const text = probe.choices[0]!.message.content!;
  const stop = text.trim().slice(0, 2);
  // Each request reserves ~max_tokens (250) at admission; four of them (1,000) exceed 600/min unless settled.
  for (let i = 0; i < 4; i++) {
    const res = await client.chat.completions
      .create({ model: "tiny", messages: [{ role: "user", content: "go" }], max_tokens: 250, temperature: 0, stop: [stop] })
      .withResponse();
    expect(res.data.usage!.completion_tokens).toBeLessThan(20);
    expect(Number(res.response.headers.get("x-ratelimit-remaining-tokens"))).toBeGreaterThan(0);
  }
});

it("a request whose max_tokens alone exceeds the key's tokens/min is refused (429, no Retry-After), never run", async () => {
  const before = await client.models.list().withResponse();
  const remaining = before.response.headers.get("x-ratelimit-remaining-tokens");
  const err = await client.chat.completions
    .create({ model: "tiny", messages: [{ role: "user", content: "go" }], max_tokens: 4000, temperature: 0 })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.RateLimitError);
  const limited = err as InstanceType<typeof OpenAI.RateLimitError>;
  expect(limited.message).toMatch(/Request too large for tokens per minute \(TPM\): limit 600/);
  expect(limited.headers?.get("retry-after")).toBeNull();
  // Nothing was reserved for it.
  const after = await client.models.list().withResponse();
  expect(after.response.headers.get("x-ratelimit-remaining-tokens")).toBe(remaining);
});

// A boolean answer ends after a few tokens whatever max tokens says: the grammar closes it.
const okSchema = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"], additionalProperties: false } as const;

it("Responses: four reservations of 250 tokens fit 600/min because each settles at its real usage, streamed or not", async () => {
  const responses = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: RESPONSES_KEY, maxRetries: 0 });
  for (let i = 0; i < 4; i++) {
    const params = { model: "tiny", input: "go", max_output_tokens: 250, temperature: 0, store: false, text: { format: { type: "json_schema" as const, name: "ok", schema: okSchema } } };
    if (i % 2 === 0) {
      const res = await responses.responses.create(params).withResponse();
      expect(res.data.usage!.output_tokens).toBeLessThan(20);
      expect(Number(res.response.headers.get("x-ratelimit-remaining-tokens"))).toBeGreaterThan(0);
    } else {
      const stream = await responses.responses.create({ ...params, stream: true });
      let completed: OpenAI.Responses.Response | undefined;
      for await (const e of stream) if (e.type === "response.completed") completed = e.response;
      expect(completed?.usage?.output_tokens).toBeLessThan(20);
    }
  }
});
