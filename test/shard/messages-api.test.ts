/**
 * Anthropic's Messages API over a real socket and real shard processes on the
 * generated tiny model, through the official `@anthropic-ai/sdk` client:
 * `messages.create` (streamed and not), the `messages.stream` helper,
 * `messages.countTokens` (equal to the same request's usage), a tool round
 * trip, and Anthropic's error envelope. Bodies and event sequences are checked
 * against Anthropic's published shapes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Anthropic from "@anthropic-ai/sdk";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { anthropicSpec } from "../helpers/anthropic-spec.js";

const KEY = "anthropic-test-key";
/**
 * Greedy decoding, so answers compare across APIs. `temperature` is a field of earlier API
 * versions that SDK 1.x no longer types; clients of those versions still send it.
 */
const GREEDY: object = { temperature: 0 };
let t: TestGateway;
let client: Anthropic;
beforeAll(async () => {
  t = await startTestGateway({ cache: { enabled: false }, auth: { keys: [{ key: KEY, tenant: "a" }] } }, { slots: 2, contextSize: 2048 });
  client = new Anthropic({ baseURL: t.url, apiKey: KEY, maxRetries: 0 });
});
afterAll(async () => {
  await t?.close();
});

const weather: Anthropic.Tool = {
  name: "get_weather",
  description: "Current weather for a city",
  input_schema: { type: "object", properties: { city: { type: "string", enum: ["Paris", "Tokyo"] }, celsius: { type: "boolean" } }, required: ["city", "celsius"], additionalProperties: false },
};

async function raw(path: string, body: unknown, headers: Record<string, string> = { "x-api-key": KEY }): Promise<Response> {
  return fetch(`${t.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers }, body: JSON.stringify(body) });
}

describe("messages.create", () => {
  it("answers; the body is Anthropic's Message; count_tokens equals usage.input_tokens", async () => {
    const params = { model: "tiny", system: "Be brief.", messages: [{ role: "user" as const, content: "Hello there" }], max_tokens: 12, ...GREEDY };
    const msg = await client.messages.create(params);
    expect(anthropicSpec.message(JSON.parse(JSON.stringify(msg)))).toEqual([]);
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.stop_reason).toBe("max_tokens");
    expect(msg.usage.output_tokens).toBe(12);
    expect(msg.content[0]).toMatchObject({ type: "text" });
    const count = await client.messages.countTokens({ model: "tiny", system: params.system, messages: params.messages });
    expect(count.input_tokens).toBe(msg.usage.input_tokens);
    // The same prompt through chat completions counts the same tokens.
    const chat = await fetch(`${t.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: "tiny", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello there" }], max_tokens: 12, temperature: 0 }),
    });
    const chatBody = (await chat.json()) as { usage: { prompt_tokens: number }; choices: Array<{ message: { content: string } }> };
    expect(chatBody.usage.prompt_tokens).toBe(msg.usage.input_tokens);
    expect((msg.content[0] as Anthropic.TextBlock).text).toBe(chatBody.choices[0]!.message.content);
  });

  it("streams Anthropic's events in order (message_start … message_stop, with ping)", async () => {
    const stream = await client.messages.create({ model: "tiny", messages: [{ role: "user", content: "Tell me a story" }], max_tokens: 12, ...GREEDY, stream: true });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    expect(anthropicSpec.stream(JSON.parse(JSON.stringify(events)) as Array<{ type: string }>)).toEqual([]);
    const start = events[0] as Anthropic.RawMessageStartEvent;
    const delta = events.find((e): e is Anthropic.RawMessageDeltaEvent => e.type === "message_delta")!;
    expect(delta.delta.stop_reason).toBe("max_tokens");
    expect(delta.usage.output_tokens).toBe(12);
    expect(start.message.usage.input_tokens).toBe(delta.usage.input_tokens);

    // Raw SSE carries `event:` lines (the SDK dispatches on them) and a ping.
    const res = await raw("/v1/messages", { model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 4, stream: true });
    const text = await res.text();
    expect(text.startsWith("event: message_start\ndata: ")).toBe(true);
    expect(text).toContain("event: ping\n");
    expect(text.trimEnd().endsWith('event: message_stop\ndata: {"type":"message_stop"}')).toBe(true);
  });

  it("stop_sequences: the matched one is reported with stop_reason stop_sequence", async () => {
    const params = { model: "tiny", messages: [{ role: "user" as const, content: "Count for me" }], max_tokens: 24, ...GREEDY };
    const free = await client.messages.create(params);
    const text = (free.content[0] as Anthropic.TextBlock).text;
    const stop = text.slice(6, 9);
    expect(stop.length).toBe(3);
    const stopped = await client.messages.create({ ...params, stop_sequences: ["never-in-this-text", stop] });
    expect(stopped).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: stop });
    expect((stopped.content[0] as Anthropic.TextBlock).text).toBe(text.slice(0, text.indexOf(stop)));
  });

  it("the messages.stream helper gives the final message and its text", async () => {
    const stream = client.messages.stream({ model: "tiny", messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 12, ...GREEDY });
    let text = "";
    stream.on("text", (delta) => (text += delta));
    const final = await stream.finalMessage();
    expect((final.content[0] as Anthropic.TextBlock).text).toBe(text);
    expect(final.usage.output_tokens).toBe(12);
  });
});

describe("tools", () => {
  it("a forced tool_use with parsed input, then a tool_result turn", async () => {
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
    const call = await client.messages.create({ model: "tiny", messages, tools: [weather], tool_choice: { type: "tool", name: "get_weather" }, max_tokens: 200, ...GREEDY });
    expect(anthropicSpec.message(JSON.parse(JSON.stringify(call)))).toEqual([]);
    expect(call.stop_reason).toBe("tool_use");
    const use = call.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use")!;
    expect(use.id).toMatch(/^toolu_/);
    expect(use.name).toBe("get_weather");
    expect(["Paris", "Tokyo"]).toContain((use.input as { city: string }).city);

    const followUp: Anthropic.MessageParam[] = [
      ...messages,
      { role: "assistant", content: call.content },
      { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "18C and sunny" }] },
    ];
    const answer = await client.messages.create({ model: "tiny", messages: followUp, tools: [weather], max_tokens: 8, ...GREEDY });
    expect(answer.content[0]).toMatchObject({ type: "text" });
    const count = await client.messages.countTokens({ model: "tiny", messages: followUp, tools: [weather] });
    expect(count.input_tokens).toBe(answer.usage.input_tokens);
  });

  it("streams a tool call as input_json_delta", async () => {
    const stream = client.messages.stream({ model: "tiny", messages: [{ role: "user", content: "Weather?" }], tools: [weather], tool_choice: { type: "any" }, max_tokens: 200, ...GREEDY });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    stream.on("streamEvent", (e) => events.push(e));
    const final = await stream.finalMessage();
    expect(anthropicSpec.stream(JSON.parse(JSON.stringify(events)) as Array<{ type: string }>)).toEqual([]);
    expect(events.some((e) => e.type === "content_block_delta" && e.delta.type === "input_json_delta")).toBe(true);
    expect(final.content.find((b) => b.type === "tool_use")).toMatchObject({ input: { city: expect.any(String) } });
  });
});

describe("errors in Anthropic's envelope", () => {
  it("400 for a missing max_tokens, a thinking request and an image; 404 for an unknown model; 401 for a bad key", async () => {
    const cases: Array<[unknown, number, string, Record<string, string>?]> = [
      [{ model: "tiny", messages: [{ role: "user", content: "x" }] }, 400, "invalid_request_error"],
      [{ model: "tiny", max_tokens: 8, messages: [{ role: "user", content: "x" }], thinking: { type: "enabled", budget_tokens: 1024 } }, 400, "invalid_request_error"],
      [{ model: "tiny", max_tokens: 8, messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } }] }] }, 400, "invalid_request_error"],
      [{ model: "nope", max_tokens: 8, messages: [{ role: "user", content: "x" }] }, 404, "not_found_error"],
      [{ model: "tiny", max_tokens: 8, messages: [{ role: "user", content: "x" }] }, 401, "authentication_error", { "x-api-key": "wrong-key-123" }],
    ];
    for (const [body, status, type, headers] of cases) {
      const res = await raw("/v1/messages", body, headers);
      expect(res.status, JSON.stringify(body)).toBe(status);
      const json: unknown = await res.json();
      expect(anthropicSpec.error(json)).toEqual([]);
      expect(json).toMatchObject({ type: "error", error: { type } });
    }
    const count = await raw("/v1/messages/count_tokens", { model: "tiny", max_tokens: 5, messages: [{ role: "user", content: "x" }] });
    expect(count.status).toBe(400);
    expect(anthropicSpec.error(await count.json())).toEqual([]);
    await expect(client.messages.create({ model: "tiny", max_tokens: 8, messages: [{ role: "user", content: "x" }], thinking: { type: "enabled", budget_tokens: 1024 } })).rejects.toBeInstanceOf(
      Anthropic.BadRequestError,
    );
  });

  it("accepts Authorization: Bearer as well as x-api-key", async () => {
    const res = await raw("/v1/messages", { model: "tiny", max_tokens: 4, messages: [{ role: "user", content: "x" }] }, { authorization: `Bearer ${KEY}` });
    expect(res.status).toBe(200);
    expect(anthropicSpec.message(await res.json())).toEqual([]);
  });
});
