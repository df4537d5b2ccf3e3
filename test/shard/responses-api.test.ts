/**
 * OpenAI's Responses API over a real socket and real shard processes on the
 * generated tiny model, through the official `openai` client (v6): create
 * (streamed and not), the `responses.stream` helper, stored responses
 * (retrieve, input_items, delete, previous_response_id, tenant isolation),
 * function-call round trips and `text.format`. Every body and every stream
 * event is validated against OpenAI's published spec.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { z } from "zod";
import { zodTextFormat } from "openai/helpers/zod";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { openAISpec } from "../helpers/openai-spec.js";

let t: TestGateway;
let a: OpenAI;
let b: OpenAI;
beforeAll(async () => {
  openAISpec();
  t = await startTestGateway(
    { cache: { enabled: false }, auth: { keys: [{ key: "key-tenant-a", tenant: "a" }, { key: "key-tenant-b", tenant: "b" }] } },
    { slots: 2, contextSize: 2048 },
  );
  a = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: "key-tenant-a", maxRetries: 0 });
  b = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: "key-tenant-b", maxRetries: 0 });
});
afterAll(async () => {
  await t?.close();
});

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "Current weather for a city",
  strict: true,
  parameters: {
    type: "object",
    properties: { city: { type: "string", enum: ["Paris", "Tokyo"] }, celsius: { type: "boolean" } },
    required: ["city", "celsius"],
    additionalProperties: false,
  },
};

function expectSpecBody(route: string, method: string, body: unknown): void {
  const spec = openAISpec();
  const check = spec.check(spec.responseRef(method, route, 200, "application/json"), body);
  expect(check.errors, JSON.stringify(body).slice(0, 800)).toEqual([]);
  expect(check.extensions).toEqual([]);
}

function expectSpecEvents(events: ReadonlyArray<{ type: string; sequence_number: number }>): void {
  const spec = openAISpec();
  for (const e of events) {
    const check = spec.check(spec.unionMemberRef("ResponseStreamEvent", e.type), e);
    expect(check.errors, JSON.stringify(e).slice(0, 800)).toEqual([]);
    expect(check.extensions).toEqual([]);
  }
  const seq = events.map((e) => e.sequence_number);
  expect(seq).toEqual([...seq].sort((x, y) => x - y));
  expect(new Set(seq).size).toBe(seq.length);
}

describe("responses.create", () => {
  it("answers a string input; the body is OpenAI's Response; usage matches chat completions for the same prompt", async () => {
    const res = await a.responses.create({ model: "tiny", input: "Hello there", instructions: "Be brief.", max_output_tokens: 16, temperature: 0 });
    expectSpecBody("/responses", "POST", JSON.parse(JSON.stringify({ ...res, output_text: undefined })));
    expect(res.object).toBe("response");
    expect(res.id).toMatch(/^resp_/);
    expect(res.status).toBe("incomplete");
    expect(res.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(res.output_text.length).toBeGreaterThan(0);
    expect(res.usage).toMatchObject({ output_tokens: 16 });
    const chat = await a.chat.completions.create({
      model: "tiny",
      messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello there" }],
      max_tokens: 16,
      temperature: 0,
    });
    expect(res.usage!.input_tokens).toBe(chat.usage!.prompt_tokens);
    expect(res.output_text).toBe(chat.choices[0]!.message.content);
  });

  it("streams OpenAI's event sequence, every event valid, text deltas adding up to the final text", async () => {
    const stream = await a.responses.create({ model: "tiny", input: [{ role: "user", content: [{ type: "input_text", text: "Tell me a story" }] }], max_output_tokens: 16, temperature: 0, stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    expectSpecEvents(events);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(types.slice(-4)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.incomplete"]);
    const text = events.flatMap((e) => (e.type === "response.output_text.delta" ? [e.delta] : [])).join("");
    const last = events.at(-1) as OpenAI.Responses.ResponseIncompleteEvent;
    expect(last.response.output[0]).toMatchObject({ type: "message", content: [{ type: "output_text", text }] });
  });

  it("the responses.stream helper gives the final response", async () => {
    const stream = a.responses.stream({ model: "tiny", input: "Once upon a time", max_output_tokens: 16, temperature: 0 });
    let deltas = "";
    stream.on("response.output_text.delta", (e) => (deltas += e.delta));
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(deltas);
    expect(final.status).toBe("incomplete");
  });
});

describe("stored responses", () => {
  it("retrieve, input_items, previous_response_id, delete; another tenant gets 404", async () => {
    const first = await a.responses.create({ model: "tiny", input: "My name is Ann.", max_output_tokens: 16, temperature: 0 });
    const got = await a.responses.retrieve(first.id);
    expectSpecBody("/responses/{response_id}", "GET", JSON.parse(JSON.stringify({ ...got, output_text: undefined })));
    expect(got.output).toEqual(first.output);
    const items = await a.responses.inputItems.list(first.id);
    expectSpecBody("/responses/{response_id}/input_items", "GET", { object: "list", data: items.data, has_more: items.has_more, first_id: items.data[0]?.id, last_id: items.data.at(-1)?.id });
    expect(items.data).toHaveLength(1);
    expect(items.data[0]).toMatchObject({ type: "message", role: "user", content: [{ type: "input_text", text: "My name is Ann." }] });

    const second = await a.responses.create({ model: "tiny", previous_response_id: first.id, input: "What is my name?", max_output_tokens: 16, temperature: 0 });
    expect(second.previous_response_id).toBe(first.id);
    // The continuation's prompt holds the first turn and its answer.
    expect(second.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens + first.usage!.output_tokens);

    await expect(b.responses.retrieve(first.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(b.responses.create({ model: "tiny", previous_response_id: first.id, input: "x", max_output_tokens: 16 })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(b.responses.delete(first.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);

    await a.responses.delete(first.id);
    await expect(a.responses.retrieve(first.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const raw = await fetch(`${t.url}/v1/responses/${first.id}`, { headers: { authorization: "Bearer key-tenant-a" } });
    expect(raw.status).toBe(404);
    const spec = openAISpec();
    expect(spec.check(spec.componentRef("ErrorResponse"), await raw.json()).errors).toEqual([]);
  });

  it("store: false keeps nothing", async () => {
    const res = await a.responses.create({ model: "tiny", input: "Forget me", store: false, max_output_tokens: 16, temperature: 0 });
    await expect(a.responses.retrieve(res.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe("tools and formats", () => {
  it("a forced function call, then its output through previous_response_id", async () => {
    const call = await a.responses.create({ model: "tiny", input: "Weather in Paris?", tools: [weatherTool], tool_choice: "required", max_output_tokens: 200, temperature: 0 });
    expectSpecBody("/responses", "POST", JSON.parse(JSON.stringify({ ...call, output_text: undefined })));
    const fc = call.output.find((o): o is OpenAI.Responses.ResponseFunctionToolCall => o.type === "function_call");
    expect(fc).toBeDefined();
    expect(fc!.name).toBe("get_weather");
    expect(fc!.call_id).toMatch(/^call_/);
    const args = JSON.parse(fc!.arguments) as { city: string; celsius: boolean };
    expect(["Paris", "Tokyo"]).toContain(args.city);

    const answer = await a.responses.create({
      model: "tiny",
      previous_response_id: call.id,
      input: [{ type: "function_call_output", call_id: fc!.call_id, output: "18C and sunny" }],
      tools: [weatherTool],
      max_output_tokens: 16,
      temperature: 0,
    });
    expect(answer.output[0]).toMatchObject({ type: "message" });
    expect(answer.usage!.input_tokens).toBeGreaterThan(call.usage!.input_tokens);
  });

  it("streams a function call as function_call_arguments deltas", async () => {
    const stream = await a.responses.create({ model: "tiny", input: "Weather?", tools: [weatherTool], tool_choice: { type: "function", name: "get_weather" }, max_output_tokens: 200, temperature: 0, stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    expectSpecEvents(events);
    const deltas = events.flatMap((e) => (e.type === "response.function_call_arguments.delta" ? [e.delta] : [])).join("");
    const done = events.find((e): e is OpenAI.Responses.ResponseFunctionCallArgumentsDoneEvent => e.type === "response.function_call_arguments.done");
    expect(done?.arguments).toBe(deltas);
    expect(JSON.parse(deltas)).toMatchObject({ city: expect.any(String) });
  });

  it("text.format json_schema from zodTextFormat parses", async () => {
    const Answer = z.object({ mood: z.enum(["happy", "sad"]), ok: z.boolean() });
    const res = await a.responses.parse({ model: "tiny", input: "Mood?", text: { format: zodTextFormat(Answer, "answer") }, max_output_tokens: 60, temperature: 0 });
    expect(res.output_parsed).toMatchObject({ mood: expect.stringMatching(/happy|sad/), ok: expect.any(Boolean) });
  });

  it("refuses built-in tools and unknown fields with a 400 naming them", async () => {
    const web = await a.responses.create({ model: "tiny", input: "x", tools: [{ type: "web_search" }] }).catch((e: unknown) => e);
    expect(web).toBeInstanceOf(OpenAI.BadRequestError);
    expect((web as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("tools[0].type");
    const res = await fetch(`${t.url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer key-tenant-a" }, body: JSON.stringify({ model: "tiny", input: "x", bogus: 1 }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { param: "bogus" } });
  });

  it("reports ignored fields in x-switchyard-ignored-params", async () => {
    const { response } = await a.responses
      .create({ model: "tiny", input: "x", max_output_tokens: 16, prompt_cache_key: "k1", safety_identifier: "user-1", temperature: 0 })
      .withResponse();
    expect(response.headers.get("x-switchyard-ignored-params")?.split(",").sort()).toEqual(["prompt_cache_key", "safety_identifier"]);
  });
});
