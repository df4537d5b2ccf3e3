/**
 * The Responses API layer without a model: request translation (into a chat
 * request the chat schema accepts), the response object and every stream event
 * validated against OpenAI's published spec, and the bounded per-tenant store.
 */
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.js";
import { chatRequestSchema } from "../../src/server/openai/schemas.js";
import {
  createResponseSchema,
  MemoryResponseStore,
  ResponseRenderer,
  translateRequest,
  type CreateResponseRequest,
  type ResponseEvent,
} from "../../src/server/responses/index.js";
import type { GeneratedChunk, GenerationResult } from "../../src/types.js";
import { openAISpec } from "../helpers/openai-spec.js";

const parse = (body: Record<string, unknown>): CreateResponseRequest => createResponseSchema.parse({ model: "tiny", ...body });

function refusal(body: Record<string, unknown>): GatewayError {
  try {
    translateRequest(parse(body), []);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

const timings = { queueMs: 0, ttftMs: 1, decodeMs: 2, cachedPromptTokens: 3 };
const result = (patch: Partial<GenerationResult> = {}): GenerationResult => ({
  text: "Hello world",
  finishReason: "stop",
  usage: { promptTokens: 10, completionTokens: 2 },
  timings,
  shard: "tiny#0",
  ...patch,
});

function renderer(body: Record<string, unknown> = {}, logprobs = false): ResponseRenderer {
  return new ResponseRenderer({ id: "resp_1", createdAt: 1_700_000_000, model: "tiny", request: parse(body), logprobs });
}

function expectSpecEvents(events: ResponseEvent[]): void {
  const spec = openAISpec();
  const union = spec.responseRef("POST", "/responses", 200, "text/event-stream").replace("#/components/schemas/", "");
  for (const e of events) {
    const check = spec.check(spec.unionMemberRef(union, e.type), e);
    expect(check.errors, JSON.stringify(e)).toEqual([]);
    expect(check.extensions).toEqual([]);
  }
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
}

/** Streams `chunks` through `r` and finishes it with `final`; every event is checked against the spec. */
function streamThrough(r: ResponseRenderer, chunks: GeneratedChunk[], final: GenerationResult) {
  const events = [...r.start(), ...chunks.flatMap((chunk) => r.chunk(chunk))];
  const { events: tail, response } = r.finish(final);
  const all = [...events, ...tail];
  expectSpecEvents(all);
  return { all, response };
}

function expectSpecResponse(response: unknown): void {
  const spec = openAISpec();
  const check = spec.check(spec.responseRef("POST", "/responses", 200, "application/json"), response);
  expect(check.errors, JSON.stringify(response)).toEqual([]);
  expect(check.extensions).toEqual([]);
}

describe("Responses: request translation", () => {
  it("maps a string input with instructions and sampling fields to a valid chat request", () => {
    const { chat, input, ignored } = translateRequest(
      parse({ input: "Hi", instructions: "Be brief.", max_output_tokens: 32, temperature: 0.2, top_p: 0.9, prompt_cache_key: "k", safety_identifier: "u1" }),
      [],
    );
    expect(chatRequestSchema.safeParse(chat).success).toBe(true);
    expect(chat).toMatchObject({ messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }], max_completion_tokens: 32, temperature: 0.2, top_p: 0.9 });
    expect(input).toEqual([{ id: expect.stringMatching(/^msg_[0-9a-f]{48}$/), type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: "Hi" }] }]);
    expect(ignored.sort()).toEqual(["prompt_cache_key", "safety_identifier"]);
  });

  it("maps items: input_text parts, function_call + output (a tool round trip), assistant replies, history first", () => {
    const history = translateRequest(parse({ input: "Earlier question" }), []).input;
    const { chat } = translateRequest(
      parse({
        input: [
          { role: "developer", content: [{ type: "input_text", text: "Use tools." }] },
          { type: "message", role: "user", content: [{ type: "input_text", text: "Weather " }, { type: "input_text", text: "in Paris?" }] },
          { type: "function_call", call_id: "call_a", name: "get_weather", arguments: "{\"city\":\"Paris\"}" },
          { type: "function_call", call_id: "call_b", name: "get_time", arguments: "{}" },
          { type: "function_call_output", call_id: "call_a", output: "18C" },
          { type: "function_call_output", call_id: "call_b", output: [{ type: "input_text", text: "noon" }] },
          { role: "assistant", content: "It is 18C at noon." },
        ],
        tools: [{ type: "function", name: "get_weather", parameters: { type: "object", properties: {} }, strict: true }],
        tool_choice: { type: "function", name: "get_weather" },
        parallel_tool_calls: false,
      }),
      history,
    );
    expect(chatRequestSchema.safeParse(chat).success).toBe(true);
    expect(chat.messages).toEqual([
      { role: "user", content: "Earlier question" },
      { role: "developer", content: "Use tools." },
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_a", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } },
          { id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: "call_a", content: "18C" },
      { role: "tool", tool_call_id: "call_b", content: "noon" },
      { role: "assistant", content: "It is 18C at noon." },
    ]);
    expect(chat.tools).toEqual([{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} }, strict: true } }]);
    expect(chat.tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });
    expect(chat.parallel_tool_calls).toBe(false);
  });

  it("maps text.format to response_format and include logprobs to logprobs", () => {
    const schema = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] };
    const { chat, logprobs } = translateRequest(
      parse({ input: "x", text: { format: { type: "json_schema", name: "out", schema, strict: true } }, include: ["message.output_text.logprobs"], top_logprobs: 2 }),
      [],
    );
    expect(chat.response_format).toEqual({ type: "json_schema", json_schema: { name: "out", schema, strict: true } });
    expect(chat).toMatchObject({ logprobs: true, top_logprobs: 2 });
    expect(logprobs).toBe(true);
    expect(translateRequest(parse({ input: "x", text: { format: { type: "json_object" } } }), []).chat.response_format).toEqual({ type: "json_object" });
  });

  it("refuses what a local text model cannot do, naming the field", () => {
    expect(refusal({ input: "x", tools: [{ type: "web_search" }] })).toMatchObject({ status: 400, param: "tools[0].type" });
    expect(refusal({ input: "x", tools: [{ type: "code_interpreter", container: { type: "auto" } }] }).message).toMatch(/code_interpreter/);
    expect(refusal({ input: [{ role: "user", content: [{ type: "input_image", image_url: "http://x/y.png" }] }] })).toMatchObject({ param: "input[0].content[0]" });
    expect(refusal({ input: [{ type: "reasoning", id: "rs_1", summary: [] }] })).toMatchObject({ param: "input[0].type" });
    expect(refusal({ input: "x", background: true })).toMatchObject({ param: "background" });
    expect(refusal({ input: "x", include: ["code_interpreter_call.outputs"] })).toMatchObject({ param: "include[0]" });
    expect(refusal({ input: "x", tool_choice: { type: "web_search_preview" } })).toMatchObject({ param: "tool_choice" });
    expect(refusal({ input: [] })).toMatchObject({ param: "input" });
    expect(createResponseSchema.safeParse({ model: "tiny", input: "x", max_output_tokens: 8 }).success).toBe(false);
    expect(createResponseSchema.safeParse({ model: "tiny", input: "x", bogus: 1 }).success).toBe(false);
  });
});

describe("Responses: rendering against OpenAI's spec", () => {
  it("a non-streamed text answer", () => {
    const r = renderer({ input: "Hi", metadata: { a: "b" } });
    const { response } = r.finish(result());
    expectSpecResponse(response);
    expect(response).toMatchObject({
      object: "response",
      status: "completed",
      incomplete_details: null,
      metadata: { a: "b" },
      output: [{ type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Hello world", annotations: [] }] }],
      usage: { input_tokens: 10, output_tokens: 2, total_tokens: 12, input_tokens_details: { cached_tokens: 3 } },
    });
  });

  it("a streamed text answer: event order, deltas and the final object agree", () => {
    const r = renderer({ input: "Hi" });
    const { all, response } = streamThrough(r, [{ text: "Hello", tokens: 1 }, { text: "", tokens: 0 }, { text: " world", tokens: 1 }], result());
    expect(all.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(all.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("")).toBe("Hello world");
    expect(all.at(-1)!.response).toEqual(response);
    expectSpecResponse(response);
    // The check can fail.
    const spec = openAISpec();
    expect(spec.check(spec.responseRef("POST", "/responses", 200, "application/json"), { ...response, status: "done" }).errors).not.toEqual([]);
  });

  it("a streamed function call, cut short by max_output_tokens: incomplete, arguments streamed then done", () => {
    const r = renderer({ input: "Weather?", tools: [{ type: "function", name: "get_weather", parameters: { type: "object" } }] });
    const { all, response } = streamThrough(
      r,
      [
        { text: "", tokens: 1, toolCalls: [{ index: 0, name: "get_weather", arguments: "" }] },
        { text: "", tokens: 2, toolCalls: [{ index: 0, arguments: "{\"city\":" }] },
      ],
      result({ text: "", finishReason: "length", toolCalls: [{ name: "get_weather", arguments: "{\"city\":" }] }),
    );
    expect(all.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.incomplete",
    ]);
    expect(response).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      output: [{ type: "function_call", name: "get_weather", arguments: "{\"city\":", call_id: expect.stringMatching(/^call_/), status: "incomplete" }],
    });
    expectSpecResponse(response);
  });

  it("a completed call given only in the result still streams its item (a cache replay has no fragments)", () => {
    const r = renderer({ input: "x", tools: [{ type: "function", name: "f" }] });
    const { events, response } = r.finish(result({ text: "", toolCalls: [{ name: "f", arguments: "{}" }] }));
    expectSpecEvents([...r.start().map((e) => ({ ...e, sequence_number: e.sequence_number - 2 })), ...events].slice(2));
    expect(events.map((e) => e.type)).toEqual([
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(response.output).toHaveLength(1);
  });

  it("log probabilities in output_text when include asked for them; a failure is response.failed", () => {
    const lp = [{ token: "Hi", logprob: -0.5, bytes: [72, 105], offset: 0, top: [{ token: "Hi", logprob: -0.5, bytes: [72, 105] }] }];
    const r = renderer({ input: "x", include: ["message.output_text.logprobs"] }, true);
    const { response } = streamThrough(r, [{ text: "Hi", tokens: 1, logprobs: lp }], result({ text: "Hi", logprobs: lp }));
    expect(response.output[0]).toMatchObject({ content: [{ logprobs: [{ token: "Hi", logprob: -0.5, bytes: [72, 105], top_logprobs: [{ token: "Hi" }] }] }] });
    const failed = renderer({ input: "x" });
    const fail = [...failed.start(), ...failed.fail(new GatewayError(500, "server_error", "The model backend failed."))];
    expectSpecEvents(fail);
    expect(fail.at(-1)).toMatchObject({ type: "response.failed", response: { status: "failed", error: { code: "server_error" } } });
  });
});

describe("Responses: the in-memory store", () => {
  const stored = (id: string) => ({ response: { ...renderer().response("completed"), id }, input: [], conversation: [] });

  it("scopes ids by tenant, deletes, and returns copies", async () => {
    const store = new MemoryResponseStore();
    await store.put("a", stored("resp_1"));
    expect((await store.get("a", "resp_1"))?.response.id).toBe("resp_1");
    expect(await store.get("b", "resp_1")).toBeUndefined();
    expect(await store.delete("b", "resp_1")).toBe(false);
    const copy = (await store.get("a", "resp_1"))!;
    copy.response.status = "failed";
    expect((await store.get("a", "resp_1"))?.response.status).toBe("completed");
    expect(await store.delete("a", "resp_1")).toBe(true);
    expect(await store.get("a", "resp_1")).toBeUndefined();
    await store.dispose();
    await store.dispose();
  });

  it("is bounded per tenant: the least recently used goes first", async () => {
    const store = new MemoryResponseStore({ maxPerTenant: 2 });
    await store.put("a", stored("r1"));
    await store.put("a", stored("r2"));
    await store.get("a", "r1");
    await store.put("a", stored("r3"));
    await store.put("b", stored("r4"));
    expect(await store.get("a", "r2")).toBeUndefined();
    expect((await store.get("a", "r1"))?.response.id).toBe("r1");
    expect((await store.get("a", "r3"))?.response.id).toBe("r3");
    expect((await store.get("b", "r4"))?.response.id).toBe("r4");
  });
});
