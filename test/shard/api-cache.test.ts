/**
 * The response cache on the Responses and Messages APIs (real gateway, real
 * shards, real socket, official clients): a repeated deterministic request is
 * a hit, rendered in that API's own shape (validated against OpenAI's spec and
 * Anthropic's message and event schemas), streamed or not, and a structured
 * output's schema violations are reported on a hit as on the miss.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { openAISpec } from "../helpers/openai-spec.js";
import { anthropicSpec } from "../helpers/anthropic-spec.js";

const KEY = "cache-api-key";
let t: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;
beforeAll(async () => {
  openAISpec();
  t = await startTestGateway({ auth: { keys: [{ key: KEY, tenant: "a" }] } }, { slots: 2, contextSize: 2048 });
  openai = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: t.url, apiKey: KEY, maxRetries: 0 });
});
afterAll(async () => {
  await t?.close();
});

let counter = 0;
const fresh = () => `cache api question ${++counter} ${Date.now()}`;

/** `data:` payloads of an SSE body (OpenAI's and Anthropic's both have `event:` lines here). */
function dataOf(text: string): Array<{ type: string; sequence_number: number } & Record<string, unknown>> {
  return text
    .split("\n")
    .filter((l) => l.startsWith("data: "))
    .map((l) => JSON.parse(l.slice(6)) as { type: string; sequence_number: number });
}

function expectResponseSpec(body: unknown): void {
  const spec = openAISpec();
  const check = spec.check(spec.responseRef("POST", "/responses", 200, "application/json"), body);
  expect(check.errors, JSON.stringify(body).slice(0, 600)).toEqual([]);
  expect(check.extensions).toEqual([]);
}

describe("POST /v1/responses", () => {
  it("a repeated deterministic request is a hit with the same output, a Response by OpenAI's spec, streamed or not", async () => {
    const params = { model: "tiny", input: fresh(), max_output_tokens: 16, temperature: 0 };
    const first = await openai.responses.create(params).withResponse();
    expect(first.response.headers.get("x-switchyard-cache")).toBe("miss");
    const second = await openai.responses.create(params).withResponse();
    expect(second.response.headers.get("x-switchyard-cache")).toBe("hit");
    expect(second.response.headers.get("x-switchyard-shard")).toBe("cache");
    expect(second.data.output_text).toBe(first.data.output_text);
    expect(second.data.id).not.toBe(first.data.id);
    expect(second.data.usage).toEqual(first.data.usage);
    expectResponseSpec(JSON.parse(JSON.stringify({ ...second.data, output_text: undefined })));
    // The stored hit is retrievable like any response.
    expect((await openai.responses.retrieve(second.data.id)).output_text).toBe(first.data.output_text);

    const res = await fetch(`${t.url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` }, body: JSON.stringify({ ...params, stream: true }) });
    expect(res.headers.get("x-switchyard-cache")).toBe("hit");
    const events = dataOf(await res.text());
    const spec = openAISpec();
    for (const e of events) {
      const check = spec.check(spec.unionMemberRef("ResponseStreamEvent", e.type), e);
      expect(check.errors, JSON.stringify(e).slice(0, 600)).toEqual([]);
    }
    expect(events.map((e) => e.type)).toContain("response.output_text.delta");
    const done = events.at(-1) as unknown as { type: string; response: { output: Array<{ content?: Array<{ text: string }> }> } };
    expect(done.type).toBe("response.incomplete");
    expect(done.response.output[0]!.content![0]!.text).toBe(first.data.output_text);
  });

  it("a structured output's violations are reported on the hit as on the miss", async () => {
    const schema = { type: "object", properties: { n: { type: "integer", minimum: 1, maximum: 6, multipleOf: 7 } }, required: ["n"], additionalProperties: false };
    const body = JSON.stringify({ model: "tiny", input: fresh(), text: { format: { type: "json_schema", name: "x", schema } }, max_output_tokens: 30, temperature: 0 });
    const headers = { "content-type": "application/json", authorization: `Bearer ${KEY}` };
    const miss = await fetch(`${t.url}/v1/responses`, { method: "POST", headers, body });
    const hit = await fetch(`${t.url}/v1/responses`, { method: "POST", headers, body });
    expect([miss.headers.get("x-switchyard-cache"), hit.headers.get("x-switchyard-cache")]).toEqual(["miss", "hit"]);
    expect(hit.headers.get("x-switchyard-schema-violations")).toBe("1");
    const json = (await hit.json()) as { switchyard: { schema_violations: Array<{ keyword: string }> } };
    expect(json.switchyard.schema_violations.map((v) => v.keyword)).toEqual(["multipleOf"]);
  });
});

describe("POST /v1/messages", () => {
  it("a repeated deterministic request is a hit with the same content, an Anthropic Message, streamed or not", async () => {
    const params = { model: "tiny", max_tokens: 12, messages: [{ role: "user" as const, content: fresh() }], ...({ temperature: 0 } as object) };
    const first = await anthropic.messages.create(params).withResponse();
    expect(first.response.headers.get("x-switchyard-cache")).toBe("miss");
    const second = await anthropic.messages.create(params).withResponse();
    expect(second.response.headers.get("x-switchyard-cache")).toBe("hit");
    expect(anthropicSpec.message(JSON.parse(JSON.stringify(second.data)))).toEqual([]);
    expect(second.data.content).toEqual(first.data.content);
    expect(second.data.usage).toEqual(first.data.usage);
    expect(second.data.stop_reason).toBe("max_tokens");
    expect(second.data.id).not.toBe(first.data.id);

    const res = await fetch(`${t.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": KEY, "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ ...params, stream: true }),
    });
    expect(res.headers.get("x-switchyard-cache")).toBe("hit");
    const events = dataOf(await res.text());
    expect(anthropicSpec.stream(events)).toEqual([]);
    const text = events
      .filter((e) => e.type === "content_block_delta")
      .map((e) => (e.delta as { text: string }).text)
      .join("");
    expect(text).toBe((first.data.content[0] as Anthropic.TextBlock).text);
  });

  it("a forced tool_use is cached like the chat completions it stands on: tool calls bypass the cache", async () => {
    const tools = [{ name: "f", input_schema: { type: "object" as const, properties: { ok: { type: "boolean" } }, required: ["ok"] } }];
    const params = { model: "tiny", max_tokens: 30, messages: [{ role: "user" as const, content: fresh() }], tools, tool_choice: { type: "tool" as const, name: "f" }, ...({ temperature: 0 } as object) };
    const first = await anthropic.messages.create(params).withResponse();
    const second = await anthropic.messages.create(params).withResponse();
    expect([first.response.headers.get("x-switchyard-cache"), second.response.headers.get("x-switchyard-cache")]).toEqual(["bypass", "bypass"]);
    // Same call (temperature 0), each with its own tool_use id.
    const calls = (m: Anthropic.Message) => m.content.map((b) => (b.type === "tool_use" ? { name: b.name, input: b.input } : b));
    expect(calls(second.data)).toEqual(calls(first.data));
  });
});
