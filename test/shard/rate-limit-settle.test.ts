/** Tokens-per-minute limits charge real usage, not the admission estimate (real gateway, real shards), on every generating API. */
import { afterAll, beforeAll, expect, it } from "vitest";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

const KEY = "sk-settle-0000000000001";
const RESPONSES_KEY = "sk-settle-0000000000002";
const MESSAGES_KEY = "sk-settle-0000000000003";
const TOOLS_KEY = "sk-settle-0000000000004";
let t: TestGateway;
let client: OpenAI;
beforeAll(async () => {
  const keys = [KEY, RESPONSES_KEY, MESSAGES_KEY, TOOLS_KEY].map((key, i) => ({ key, tenant: `t${i}`, tokensPerMinute: 600 }));
  // Context for a prompt carrying a tool's schema (over 512 tokens on the tiny model, see the last test).
  t = await startTestGateway({ cache: { enabled: false }, auth: { keys } }, { contextSize: 2048 });
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

/** Greedy decoding; `temperature` is a field SDK 1.x no longer types, which clients still send. */
const GREEDY: object = { temperature: 0 };

it("Messages: reservations of 250 tokens settle at real input_tokens + output_tokens, streamed or not", async () => {
  const anthropic = new Anthropic({ baseURL: t.url, apiKey: MESSAGES_KEY, maxRetries: 0 });
  const messages = [{ role: "user" as const, content: "go" }];
  // Learn the deterministic output, then stop right after its first characters.
  const probe = await anthropic.messages.create({ model: "tiny", messages, max_tokens: 3, ...GREEDY });
  const stop = (probe.content[0] as Anthropic.TextBlock).text.trim().slice(0, 2);
  let spent = probe.usage.input_tokens + probe.usage.output_tokens;
  // Each reserves max_tokens (250) plus the body estimate at admission: four (over 1,000) exceed 600/min unless settled.
  for (let i = 0; i < 4; i++) {
    const params = { model: "tiny", messages, max_tokens: 250, stop_sequences: [stop], ...GREEDY };
    let usage: Anthropic.Usage;
    if (i % 2 === 0) {
      const res = await anthropic.messages.create(params).withResponse();
      usage = res.data.usage;
      spent += usage.input_tokens + usage.output_tokens;
      // The limiter's window holds exactly the real usage of every request so far.
      expect(Number(res.response.headers.get("x-ratelimit-remaining-tokens"))).toBe(600 - spent);
    } else {
      const final = await anthropic.messages.stream(params).finalMessage();
      usage = final.usage;
      spent += usage.input_tokens + usage.output_tokens;
    }
    expect(usage.output_tokens).toBeLessThan(20);
  }
  expect(spent).toBeLessThan(600 - 250);
});

it("Messages: a forced tool call is charged its real usage (the schema rendered into the prompt), so the next request is refused", async () => {
  const anthropic = new Anthropic({ baseURL: t.url, apiKey: TOOLS_KEY, maxRetries: 0 });
  const weather: Anthropic.Tool = {
    name: "get_weather",
    description: "Current weather for a city",
    input_schema: { type: "object", properties: { city: { type: "string", enum: ["Paris", "Tokyo"] }, celsius: { type: "boolean" } }, required: ["city", "celsius"], additionalProperties: false },
  };
  const messages = [{ role: "user" as const, content: "Weather in Paris?" }];
  // The chat template renders the tool's schema into the prompt, and the tiny model's ~1,000-token vocabulary
  // spends a token per one or two characters: the prompt is several times the body's chars/4 estimate.
  const estimate = Math.ceil(JSON.stringify({ model: "tiny", messages, tools: [weather], tool_choice: { type: "any" }, max_tokens: 60, temperature: 0 }).length / 4) + 60;
  const res = await anthropic.messages.create({ model: "tiny", messages, tools: [weather], tool_choice: { type: "any" }, max_tokens: 60, ...GREEDY }).withResponse();
  const used = res.data.usage.input_tokens + res.data.usage.output_tokens;
  expect(res.data.usage.input_tokens).toBe((await anthropic.messages.countTokens({ model: "tiny", messages, tools: [weather] })).input_tokens);
  expect(estimate).toBeLessThan(600); // admitted on the estimate...
  expect(used).toBeGreaterThan(600 - 40); // ...and settled at its real usage, which (nearly) fills the minute
  expect(Number(res.response.headers.get("x-ratelimit-remaining-tokens"))).toBe(Math.max(0, 600 - used));
  // A small request (estimate ~45 tokens) that would fit an unsettled window is refused: Anthropic's envelope, Retry-After.
  const err = await anthropic.messages.create({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 8, ...GREEDY }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Anthropic.RateLimitError);
  const limited = err as InstanceType<typeof Anthropic.RateLimitError>;
  expect(limited.error).toMatchObject({ type: "error", error: { type: "rate_limit_error", message: expect.stringMatching(/tokens per minute \(TPM\): limit 600/) } });
  expect(Number(limited.headers?.get("retry-after"))).toBeGreaterThan(0);
});
