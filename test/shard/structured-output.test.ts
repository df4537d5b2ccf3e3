/**
 * Structured output on real shard processes (the generated tiny model, whose
 * text is random: every string is bounded so the JSON completes), through the
 * official clients: schemas from zod v4 and from openai's zod helpers, for
 * chat `response_format`, forced tool calls, Responses `text.format` and
 * Messages tools. The SDKs parse the output with the zod schema, so a range,
 * an enum or a pattern the grammar let slip would fail the test. A keyword no
 * grammar carries (`multipleOf`) is accepted and its violation reported.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { z } from "zod";
import { zodFunction, zodResponseFormat, zodTextFormat } from "openai/helpers/zod";
import { startTestGateway, readSse, type TestGateway } from "../helpers/gateway.js";

/** The `data:` payloads of an SSE body with `event:` lines (Anthropic's). */
function dataOf(text: string): string[] {
  return text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6));
}

const KEY = "structured-key";
let t: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;
beforeAll(async () => {
  t = await startTestGateway({ cache: { enabled: false }, auth: { keys: [{ key: KEY, tenant: "a" }] } }, { slots: 2, contextSize: 2048 });
  openai = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: t.url, apiKey: KEY, maxRetries: 0 });
});
afterAll(async () => {
  await t?.close();
});

const Item = z.object({ id: z.number().int().min(1).max(9), tag: z.enum(["a", "b"]) });
const Order = z.object({
  qty: z.number().int().positive().lte(100),
  delta: z.number().int().gte(-50).lt(50),
  code: z.string().regex(/^[A-Z]{2}-\d{3}$/),
  note: z.string().max(4).nullable(),
  items: z.array(Item).min(1).max(2),
  day: z.iso.date(),
});
const SAMPLES = 6;
const messages = [{ role: "user" as const, content: "Write the order." }];

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${t.url}${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` }, body: JSON.stringify(body) });
}

describe("chat completions", () => {
  it("chat.completions.parse with zodResponseFormat: every sample parses under the zod schema, no violation reported", async () => {
    for (let seed = 1; seed <= SAMPLES; seed++) {
      const res = await openai.chat.completions.parse({ model: "tiny", messages, response_format: zodResponseFormat(Order, "order"), temperature: 1, seed, max_tokens: 400 });
      const choice = res.choices[0]!;
      expect(choice.finish_reason).toBe("stop");
      expect(Order.parse(choice.message.parsed)).toEqual(choice.message.parsed);
      expect((res as unknown as { switchyard: object }).switchyard).not.toHaveProperty("schema_violations");
    }
  });

  it("type integer never comes back with an exponent or a fraction, and stays in range (z.toJSONSchema, many samples)", async () => {
    const schema = z.toJSONSchema(z.object({ any: z.number().int(), small: z.number().int().min(-7).max(7), big: z.number().int().gt(1000).max(1_000_000) }));
    for (let seed = 1; seed <= 20; seed++) {
      const res = await post("/v1/chat/completions", { model: "tiny", messages, response_format: { type: "json_schema", json_schema: { name: "ints", schema } }, temperature: 1.5, seed, max_tokens: 120 });
      const body = (await res.json()) as { choices: Array<{ message: { content: string } }>; switchyard: object };
      const text = body.choices[0]!.message.content;
      const values = text.match(/-?[0-9][0-9.eE+-]*/g) ?? [];
      expect(values.length, text).toBe(3);
      for (const v of values) expect(v, text).toMatch(/^-?(0|[1-9][0-9]*)$/);
      const parsed = JSON.parse(text) as { any: number; small: number; big: number };
      expect(Number.isSafeInteger(parsed.any)).toBe(true);
      expect(Math.abs(parsed.small)).toBeLessThanOrEqual(7);
      expect(parsed.big).toBeGreaterThan(1000);
      expect(parsed.big).toBeLessThanOrEqual(1_000_000);
      expect(body.switchyard).not.toHaveProperty("schema_violations");
    }
  });

  it("forced tool calls with zodFunction: the SDK parses the arguments with the zod schema", async () => {
    const tool = zodFunction({ name: "place_order", parameters: Order });
    for (let seed = 1; seed <= SAMPLES; seed++) {
      const res = await openai.chat.completions.parse({ model: "tiny", messages, tools: [tool], tool_choice: { type: "function", function: { name: "place_order" } }, temperature: 1, seed, max_tokens: 400 });
      const call = res.choices[0]!.message.tool_calls?.[0];
      expect(call?.type === "function" && Order.parse(call.function.parsed_arguments)).toBeTruthy();
    }
  });

  it("a keyword no grammar carries (multipleOf) is accepted and its violation reported: header, body block, stream finish chunk", async () => {
    // No integer from 1 to 6 is a multiple of 7: the grammar keeps the range, the check reports multipleOf every time.
    const schema = { type: "object", properties: { n: { type: "integer", minimum: 1, maximum: 6, multipleOf: 7 }, s: { type: "string", maxLength: 3 } }, required: ["n", "s"], additionalProperties: false };
    const request = { model: "tiny", messages, response_format: { type: "json_schema", json_schema: { name: "x", schema } }, max_tokens: 60 };
    const res = await post("/v1/chat/completions", request);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-schema-violations")).toBe("1");
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }>; switchyard: { schema_violations: unknown[] } };
    const n = (JSON.parse(body.choices[0]!.message.content) as { n: number }).n;
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(6);
    expect(body.switchyard.schema_violations).toEqual([{ choice: 0, target: "response_format", path: "/n", keyword: "multipleOf", message: "must be multiple of 7" }]);

    const stream = await post("/v1/chat/completions", { ...request, stream: true });
    const chunks = (await readSse(stream)).filter((d) => d !== "[DONE]").map((d) => JSON.parse(d) as { choices: Array<{ finish_reason: string | null }>; switchyard?: { schema_violations: unknown[] } });
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish?.switchyard?.schema_violations).toEqual([{ choice: 0, target: "response_format", path: "/n", keyword: "multipleOf", message: "must be multiple of 7" }]);
  });

  it("a tool schema with what zod emits for records and int ranges (propertyNames, minimum/maximum) is accepted; unsatisfiable or invalid ones are a 400 naming the field", async () => {
    const parameters = z.toJSONSchema(z.object({ scores: z.record(z.string().regex(/^[a-z]{1,3}$/), z.number().int().min(0).max(5)) }));
    const res = await post("/v1/chat/completions", { model: "tiny", messages, tools: [{ type: "function", function: { name: "score", parameters } }], tool_choice: "required", max_tokens: 200, temperature: 1, seed: 3 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ message: { tool_calls: Array<{ function: { arguments: string } }> } }> };
    const args = JSON.parse(body.choices[0]!.message.tool_calls[0]!.function.arguments) as { scores: Record<string, number> };
    for (const [k, v] of Object.entries(args.scores)) {
      expect(k).toMatch(/^[a-z]{1,3}$/);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(5);
    }
    const bad = await post("/v1/chat/completions", { model: "tiny", messages, response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "integer", minimum: 5, maximum: 4 } } }, max_tokens: 5 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe("response_format");
  });
});

describe("Responses text.format", () => {
  it("responses.parse with zodTextFormat: output_parsed matches the zod schema", async () => {
    // The Responses API has no seed: three unseeded samples at temperature 1.
    for (let i = 0; i < 3; i++) {
      const res = await openai.responses.parse({ model: "tiny", input: "Write the order.", text: { format: zodTextFormat(Order, "order") }, temperature: 1, max_output_tokens: 400 });
      expect(res.status).toBe("completed");
      expect(Order.parse(res.output_parsed)).toEqual(res.output_parsed);
    }
  });

  it("reports a violation in the response's switchyard block", async () => {
    const schema = { type: "object", properties: { n: { type: "integer", minimum: 1, maximum: 6, multipleOf: 7 } }, required: ["n"], additionalProperties: false };
    const res = await post("/v1/responses", { model: "tiny", input: "n?", text: { format: { type: "json_schema", name: "x", schema } }, max_output_tokens: 30 });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-schema-violations")).toBe("1");
    const body = (await res.json()) as { switchyard: { schema_violations: Array<{ keyword: string }> } };
    expect(body.switchyard.schema_violations.map((v) => v.keyword)).toEqual(["multipleOf"]);
  });
});

describe("Messages tools", () => {
  it("a forced tool_use's input matches the zod schema it was declared with", async () => {
    const input_schema = z.toJSONSchema(Order) as Anthropic.Tool.InputSchema;
    for (let i = 0; i < 3; i++) {
      const msg = await anthropic.messages.create({
        model: "tiny",
        max_tokens: 400,
        ...({ temperature: 1 } as object),
        messages: [{ role: "user", content: "Write the order." }],
        tools: [{ name: "place_order", input_schema }],
        tool_choice: { type: "tool", name: "place_order" },
      });
      expect(msg.stop_reason).toBe("tool_use");
      const use = msg.content.find((b) => b.type === "tool_use");
      expect(Order.parse(use?.input)).toEqual(use?.input);
    }
  });

  it("reports a violation on the message (and on message_delta when streamed)", async () => {
    const input_schema = { type: "object" as const, properties: { n: { type: "integer", minimum: 1, maximum: 6, multipleOf: 7 } }, required: ["n"] };
    const request = { model: "tiny", max_tokens: 60, messages: [{ role: "user", content: "n?" }], tools: [{ name: "f", input_schema }], tool_choice: { type: "tool", name: "f" } };
    const headers = { "content-type": "application/json", "x-api-key": KEY, "anthropic-version": "2023-06-01" };
    const res = await fetch(`${t.url}/v1/messages`, { method: "POST", headers, body: JSON.stringify(request) });
    expect(res.status).toBe(200);
    const msg = (await res.json()) as { switchyard: { schema_violations: Array<{ target: string; keyword: string }> } };
    expect(msg.switchyard.schema_violations).toMatchObject([{ target: "tool_calls[0].arguments", keyword: "multipleOf" }]);
    const stream = await fetch(`${t.url}/v1/messages`, { method: "POST", headers, body: JSON.stringify({ ...request, stream: true }) });
    const events = dataOf(await stream.text()).map((d) => JSON.parse(d) as { type: string; switchyard?: { schema_violations: unknown[] } });
    expect(events.find((e) => e.type === "message_delta")?.switchyard?.schema_violations).toHaveLength(1);
  });
});
