/**
 * Every response body and every stream chunk of every OpenAI endpoint the
 * gateway serves, validated with ajv against OpenAI's published OpenAPI
 * description (vendored in test/fixtures/openai-openapi/). Real socket, real
 * shard processes, the generated tiny model. Vendor extensions (top-level keys
 * the spec does not declare) are listed per endpoint, separately from errors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { z } from "zod";
import { zodResponseFormat } from "openai/helpers/zod";
import { ChatOpenAI } from "@langchain/openai";
import { HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { readSse, startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { openAISpec, type SpecCheck } from "../helpers/openai-spec.js";

let t: TestGateway;
beforeAll(async () => {
  openAISpec();
  t = await startTestGateway({ cache: { enabled: false } }, { slots: 2, contextSize: 1024 });
});
afterAll(async () => {
  await t?.close();
});

const user = (content: string) => [{ role: "user" as const, content }];
const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: {
      type: "object",
      properties: { city: { enum: ["Paris", "Tokyo"] }, celsius: { type: "boolean" } },
      required: ["city", "celsius"],
      additionalProperties: false,
    },
  },
};

function call(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${t.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Checks a body against a `$ref`; fails with ajv's messages; returns the extensions found. */
function conforms(ref: string, body: unknown): string[] {
  const result: SpecCheck = openAISpec().check(ref, body);
  expect(result.errors, `${ref}: ${JSON.stringify(body).slice(0, 600)}`).toEqual([]);
  return result.extensions;
}

/** A JSON response: status, then body against the spec's schema for that route and status. */
async function jsonConforms(method: string, route: string, path: string, body?: unknown): Promise<{ json: unknown; extensions: string[] }> {
  const res = await call(method, path, body);
  expect(res.status).toBe(200);
  const json: unknown = await res.json();
  return { json, extensions: conforms(openAISpec().responseRef(method, route, 200, "application/json"), json) };
}

/** A stream: every chunk against the route's `text/event-stream` schema (or `ref`); returns the union of extensions. */
async function streamConforms(route: string, body: unknown, ref?: string): Promise<{ chunks: unknown[]; extensions: string[] }> {
  const res = await call("POST", `/v1${route}`, body);
  expect(res.status).toBe(200);
  const events = await readSse(res);
  expect(events.at(-1)).toBe("[DONE]");
  const chunkRef = ref ?? openAISpec().responseRef("POST", route, 200, "text/event-stream");
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as unknown);
  expect(chunks.length).toBeGreaterThan(0);
  const extensions = new Set<string>();
  for (const chunk of chunks) for (const x of conforms(chunkRef, chunk)) extensions.add(x);
  return { chunks, extensions: [...extensions].sort() };
}

describe("OpenAI spec: models", () => {
  it("GET /v1/models and /v1/models/{model}", async () => {
    expect((await jsonConforms("GET", "/models", "/v1/models")).extensions).toEqual([]);
    // vLLM's model-card fields: `root` (the served model behind an alias) and `parent`; ours: `state` (loaded, loading, unloaded).
    expect((await jsonConforms("GET", "/models/{model}", "/v1/models/tiny")).extensions).toEqual(["root", "parent", "state"]);
  });
});

describe("OpenAI spec: chat completions", () => {
  const base = { model: "tiny", messages: user("Hello there"), max_tokens: 6, temperature: 0 };
  const cases: Array<[string, Record<string, unknown>]> = [
    ["plain", {}],
    ["logprobs", { logprobs: true, top_logprobs: 2 }],
    ["n = 2", { n: 2, temperature: 0.8, seed: 3 }],
    ["tool call", { tools: [weatherTool], tool_choice: "required", max_tokens: 300 }], // room for the forced call to finish (1 token a character)
    ["json_schema", { response_format: { type: "json_schema", json_schema: { name: "a", schema: { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] } } }, max_tokens: 30 }],
    ["every message role", {
      messages: [
        { role: "developer", content: "Be brief." },
        { role: "system", content: [{ type: "text", text: "Answer." }] },
        { role: "user", content: "Weather?", name: "ann" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\",\"celsius\":true}" } }] },
        { role: "tool", tool_call_id: "call_1", content: "18C" },
      ],
    }],
  ];
  for (const [name, patch] of cases) {
    it(`body: ${name}`, async () => {
      const { json, extensions } = await jsonConforms("POST", "/chat/completions", "/v1/chat/completions", { ...base, ...patch });
      expect(extensions).toEqual(["switchyard"]);
      expect(json).not.toHaveProperty("system_fingerprint", null);
    });
    it(`stream: ${name}`, async () => {
      const { extensions } = await streamConforms("/chat/completions", { ...base, ...patch, stream: true });
      expect(extensions).toEqual([]);
    });
  }

  it("stream with include_usage: the usage chunk carries the switchyard block", async () => {
    const { chunks, extensions } = await streamConforms("/chat/completions", { ...base, stream: true, stream_options: { include_usage: true } });
    expect(extensions).toEqual(["switchyard"]);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 6 } });
  });
});

describe("OpenAI spec: completions and embeddings", () => {
  it("POST /v1/completions, body and stream", async () => {
    const body = { model: "tiny", prompt: "Once upon a time", max_tokens: 5, temperature: 0 };
    expect((await jsonConforms("POST", "/completions", "/v1/completions", body)).extensions).toEqual(["switchyard"]);
    expect((await jsonConforms("POST", "/completions", "/v1/completions", { ...body, logprobs: 2 })).extensions).toEqual(["switchyard"]);
    // The spec has no chunk schema for legacy completions streams (see completionChunkRef).
    const ref = openAISpec().completionChunkRef();
    const streamed = await streamConforms("/completions", { ...body, stream: true, stream_options: { include_usage: true } }, ref);
    expect(streamed.extensions).toEqual(["switchyard"]);
  });

  it("POST /v1/embeddings, float and base64", async () => {
    const body = { model: "tiny", input: ["hello", "world"] };
    expect((await jsonConforms("POST", "/embeddings", "/v1/embeddings", { ...body, encoding_format: "float" })).extensions).toEqual([]);
    // The spec types `embedding` as float[] only; with `encoding_format: "base64"` OpenAI (and the
    // openai SDK, which decodes it) send a base64 string of little-endian float32s.
    const ref = openAISpec().derive("CreateEmbeddingResponse", "SwitchyardBase64EmbeddingResponse", (s) => {
      const props = s.properties as Record<string, Record<string, unknown>>;
      props.data = { type: "array", items: { type: "object", required: ["index", "object", "embedding"], properties: { index: { type: "integer" }, object: { const: "embedding" }, embedding: { type: "string", contentEncoding: "base64" } } } };
    });
    const res = await call("POST", "/v1/embeddings", { ...body, encoding_format: "base64" });
    expect(res.status).toBe(200);
    expect(conforms(ref, await res.json())).toEqual([]);
  });
});

describe("OpenAI spec: request fields", () => {
  const base = { model: "tiny", messages: user("Hello there"), max_tokens: 4, temperature: 0 };

  it("accepts the fields that cannot change a local model's output and lists them in x-switchyard-ignored-params", async () => {
    const ignored = {
      store: true,
      metadata: { app: "x" },
      service_tier: "auto",
      safety_identifier: "user-1",
      prompt_cache_key: "conversation-1",
      prompt_cache_retention: "24h",
      prediction: { type: "content", content: "Hello" },
      verbosity: "low",
      reasoning_effort: "low",
    };
    const res = await call("POST", "/v1/chat/completions", { ...base, ...ignored });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-ignored-params")?.split(",").sort()).toEqual(Object.keys(ignored).sort());
    conforms(openAISpec().responseRef("POST", "/chat/completions", 200, "application/json"), await res.json());
    const plain = await call("POST", "/v1/chat/completions", base);
    expect(plain.headers.get("x-switchyard-ignored-params")).toBeNull();
  });

  it("refuses fields whose output cannot be honoured with a 400 naming them", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ audio: { voice: "alloy", format: "mp3" } }, "audio"],
      [{ modalities: ["text", "audio"] }, "modalities"],
      [{ web_search_options: {} }, "web_search_options"],
      [{ functions: [{ name: "f", parameters: {} }] }, "functions"],
      [{ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "http://x/y.png" } }] }] }, "messages[0].content[0]"],
      [{ nonsense: 1 }, "nonsense"],
    ];
    for (const [patch, param] of cases) {
      const res = await call("POST", "/v1/chat/completions", { ...base, ...patch });
      expect(res.status, param).toBe(400);
      const body = (await res.json()) as { error: { param: string } };
      expect(body.error.param).toBe(param);
      conforms(openAISpec().componentRef("ErrorResponse"), body);
    }
    const ok = await call("POST", "/v1/chat/completions", { ...base, modalities: ["text"] });
    expect(ok.status).toBe(200);
  });

  it("chat.completions.parse with zodResponseFormat", async () => {
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: "x", maxRetries: 0 });
    const Mood = z.object({ mood: z.enum(["happy", "sad"]), sure: z.boolean() });
    const res = await client.chat.completions.parse({ model: "tiny", messages: user("Mood?"), response_format: zodResponseFormat(Mood, "mood"), max_tokens: 40, temperature: 0 });
    expect(res.choices[0]!.message.parsed).toMatchObject({ mood: expect.stringMatching(/happy|sad/), sure: expect.any(Boolean) });
  });

  it("a LangChain agent-style tool loop: tool messages carry `name` (as @langchain/openai sends them)", async () => {
    const llm = new ChatOpenAI({ model: "tiny", configuration: { baseURL: `${t.url}/v1` }, apiKey: "x", temperature: 0, maxTokens: 120 });
    const bound = llm.bindTools([weatherTool], { tool_choice: "get_weather" });
    const history: BaseMessage[] = [new HumanMessage("Weather in Paris?")];
    const ai = await bound.invoke(history);
    expect(ai.tool_calls).toHaveLength(1);
    history.push(ai, new ToolMessage({ content: "18C and sunny", tool_call_id: ai.tool_calls![0]!.id!, name: "get_weather" }));
    const answer = await llm.bindTools([weatherTool]).invoke(history, { tool_choice: "none" });
    expect(typeof answer.content).toBe("string");
    // The raw request LangChain built does carry the tool message's name.
    const res = await call("POST", "/v1/chat/completions", {
      ...base,
      messages: [...user("Weather?"), { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } }] }, { role: "tool", tool_call_id: "call_1", name: "get_weather", content: "18C" }],
    });
    expect(res.status).toBe(200);
  });
});

describe("OpenAI spec: errors", () => {
  it("400, 404 (model and route) and 413 bodies are ErrorResponse", async () => {
    const ref = openAISpec().componentRef("ErrorResponse");
    const bad = await call("POST", "/v1/chat/completions", { model: "tiny", messages: [] });
    expect(bad.status).toBe(400);
    expect(conforms(ref, await bad.json())).toEqual([]);
    const unknownModel = await call("POST", "/v1/chat/completions", { model: "nope", messages: user("x") });
    expect(unknownModel.status).toBe(404);
    expect(conforms(ref, await unknownModel.json())).toEqual([]);
    const route = await call("GET", "/v1/nowhere");
    expect(route.status).toBe(404);
    expect(conforms(ref, await route.json())).toEqual([]);
  });
});
