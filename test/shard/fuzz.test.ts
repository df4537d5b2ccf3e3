/**
 * Property-based fuzzing of every endpoint of the real gateway (real socket,
 * real shards): a few thousand random and mutated JSON bodies, plus non-JSON.
 * The property: never a 5xx, every error is OpenAI's envelope, and afterwards
 * the server still answers and no shard crashed.
 *
 * The one 5xx a client can legitimately cause is 504 when it sets its own
 * `timeout` extension (1 ms, say): allowed only for bodies that carry one.
 * Generations are capped at 4 tokens (config), so this stays well under a minute.
 *
 * A bug this fuzzer found and that stays covered (last test): a grammar at a
 * temperature float32 cannot hold (0 < t < ~1.2e-38) used to crash the shard.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ limits: { maxTokensCap: 4, defaultMaxTokens: 4, maxEmbeddingInputs: 8 } }, { contextSize: 256 });
});
afterAll(async () => {
  await t?.close();
});

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface Sent {
  method: "GET" | "POST";
  path: string;
  body?: string;
  contentType?: string;
  /** The body carried a `timeout`: a 504 is the client's own deadline. */
  ownDeadline?: boolean;
}

async function send(req: Sent): Promise<void> {
  const res = await fetch(`${t.url}${req.path}`, {
    method: req.method,
    headers: req.contentType === undefined ? {} : { "content-type": req.contentType },
    ...(req.body === undefined ? {} : { body: req.body }),
  });
  const text = await res.text();
  const label = `${req.method} ${req.path} ${res.status} ${(req.body ?? "").slice(0, 300)} → ${text.slice(0, 300)}`;
  if (res.status === 504 && req.ownDeadline) return;
  expect(res.status, label).toBeLessThan(500);
  if (res.status >= 400) {
    const body = JSON.parse(text) as { error?: { message?: unknown; type?: unknown } };
    expect(typeof body.error?.message, label).toBe("string");
    expect(typeof body.error?.type, label).toBe("string");
  } else if ((res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    // An error after the stream started would be an event, not a status.
    expect(text, label).not.toContain('"server_error"');
    expect(text.trimEnd().endsWith("data: [DONE]") || text.includes('"error"'), label).toBe(true);
  }
}

// --- generators ----------------------------------------------------------------------

const short = fc.string({ maxLength: 24 });
const weird: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(null, true, false, -1, 0, 1, 4, 5, 1e308, -1e308, 2 ** 53, 0.5, "", " ", "tiny", "default", [], {}, [""], "a".repeat(2000)),
  fc.integer().map((n) => n as Json),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => n as Json),
  fc.string({ unit: "binary", maxLength: 40 }),
);

const content: fc.Arbitrary<Json> = fc.oneof(short, fc.array(fc.record({ type: fc.constant("text"), text: short }), { maxLength: 2 }));
const message = fc.oneof(
  fc.record({ role: fc.constantFrom("system", "developer", "user"), content }),
  fc.record({ role: fc.constant("assistant"), content: fc.option(content, { nil: null }) }),
  fc.record({ role: fc.constant("tool"), content, tool_call_id: short }),
);
const model = fc.constantFrom("tiny", "default");
const samplingFields = {
  temperature: fc.double({ min: 0, max: 2, noNaN: true }),
  top_p: fc.double({ min: 0, max: 1, noNaN: true }),
  top_k: fc.integer({ min: 0, max: 50 }),
  seed: fc.integer({ min: 0, max: 1000 }),
  stop: fc.oneof(short, fc.array(short, { maxLength: 5 })),
  presence_penalty: fc.double({ min: -2, max: 2, noNaN: true }),
  frequency_penalty: fc.double({ min: -2, max: 2, noNaN: true }),
  stream: fc.boolean(),
  user: short,
  priority: fc.oneof(fc.integer({ min: -10, max: 10 }), fc.constantFrom("interactive", "batch")),
};
const validChat = fc.record(
  {
    model,
    messages: fc.array(message, { minLength: 1, maxLength: 3 }),
    max_tokens: fc.integer({ min: 1, max: 4 }),
    max_completion_tokens: fc.integer({ min: 1, max: 4 }),
    response_format: fc.oneof(
      fc.constant({ type: "text" }),
      fc.constant({ type: "json_object" }),
      fc.record({
        type: fc.constant("json_schema"),
        json_schema: fc.record({ name: fc.constantFrom("a", "answer"), schema: fc.constantFrom<Json>({ type: "object" }, { type: "string" }, { type: "object", properties: { x: { type: "number" } } }, { type: "nonsense" }) }),
      }),
    ),
    ...samplingFields,
  },
  { requiredKeys: ["model", "messages", "max_tokens"] },
) as fc.Arbitrary<Record<string, Json>>;
const validCompletion = fc.record(
  { model, prompt: fc.oneof(short, fc.array(short, { minLength: 1, maxLength: 2 })), max_tokens: fc.integer({ min: 1, max: 4 }), echo: fc.boolean(), ...samplingFields },
  { requiredKeys: ["model", "prompt", "max_tokens"] },
) as fc.Arbitrary<Record<string, Json>>;
const validEmbedding = fc.record(
  { model, input: fc.oneof(short.filter((s) => s.length > 0), fc.array(short, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 3 })), encoding_format: fc.constantFrom("float", "base64"), dimensions: fc.integer({ min: 1, max: 64 }) },
  { requiredKeys: ["model", "input"] },
) as fc.Arbitrary<Record<string, Json>>;

const KNOWN_FIELDS = [
  "model", "messages", "prompt", "input", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "n", "stream",
  "stream_options", "stop", "seed", "response_format", "logit_bias", "logprobs", "top_logprobs", "tools", "tool_choice", "user",
  "priority", "timeout", "rag", "store", "metadata", "encoding_format", "dimensions", "echo", "suffix", "best_of",
];
const mutation = fc.tuple(fc.constantFrom("delete", "set", "setKnown", "setMessage", "unknown"), fc.nat(), weird, short);

/** Applies 1–3 mutations to a valid body: drop a field, replace a value, poke a message, add a field. */
function mutate(base: Record<string, Json>, ops: Array<[string, number, Json, string]>): Record<string, Json> {
  const body: Record<string, Json> = structuredClone(base);
  for (const [op, n, value, name] of ops) {
    const keys = Object.keys(body);
    if (op === "delete" && keys.length) delete body[keys[n % keys.length]!];
    else if (op === "set" && keys.length) body[keys[n % keys.length]!] = value;
    else if (op === "setKnown") body[KNOWN_FIELDS[n % KNOWN_FIELDS.length]!] = value;
    else if (op === "setMessage" && Array.isArray(body.messages) && body.messages.length) {
      const msgs = body.messages;
      const i = n % msgs.length;
      const m = msgs[i];
      if (m && typeof m === "object" && !Array.isArray(m)) m[["role", "content", "name", "tool_calls", name][n % 5]!] = value;
      else msgs[i] = value;
    } else if (op === "unknown") body[name || "x"] = value;
  }
  return body;
}

const mutated = (valid: fc.Arbitrary<Record<string, Json>>) =>
  fc.tuple(valid, fc.array(mutation, { minLength: 0, maxLength: 3 })).map(([b, ops]) => mutate(b, ops));

const post = (path: string) => (body: Json): Sent => ({
  method: "POST",
  path,
  body: JSON.stringify(body),
  contentType: "application/json",
  ownDeadline: typeof body === "object" && body !== null && !Array.isArray(body) && "timeout" in body,
});

const ENDPOINTS = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"] as const;
const RUNS = { chat: 1000, completions: 500, embeddings: 500, randomJson: 400, nonJson: 400, modelIds: 300 };

describe("fuzz: no 5xx, no crash", () => {
  it("chat completions: mutated requests", async () => {
    await fc.assert(fc.asyncProperty(mutated(validChat).map(post("/v1/chat/completions")), send), { numRuns: RUNS.chat });
  }, 120_000);

  it("completions: mutated requests", async () => {
    await fc.assert(fc.asyncProperty(mutated(validCompletion).map(post("/v1/completions")), send), { numRuns: RUNS.completions });
  }, 120_000);

  it("embeddings: mutated requests", async () => {
    await fc.assert(fc.asyncProperty(mutated(validEmbedding).map(post("/v1/embeddings")), send), { numRuns: RUNS.embeddings });
  }, 120_000);

  it("random JSON values to every POST endpoint", async () => {
    const arb = fc.tuple(fc.constantFrom(...ENDPOINTS), weird).map(([path, body]) => post(path)(body));
    await fc.assert(fc.asyncProperty(arb, send), { numRuns: RUNS.randomJson });
  }, 120_000);

  it("non-JSON bodies and odd content types", async () => {
    const truncated = fc.tuple(validChat, fc.nat()).map(([b, n]) => {
      const s = JSON.stringify(b);
      return s.slice(0, n % s.length);
    });
    const arb = fc
      .tuple(
        fc.constantFrom(...ENDPOINTS),
        fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 }), truncated, fc.constantFrom("", "null", "[]", "{", "}", "\u0000", "{\"model\":")),
        fc.constantFrom<string | undefined>(undefined, "application/json", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-8", "application/vnd.api+json", "multipart/form-data; boundary=x"),
      )
      .map(([path, body, contentType]): Sent => ({ method: "POST", path, body, ...(contentType === undefined ? {} : { contentType }) }));
    await fc.assert(fc.asyncProperty(arb, send), { numRuns: RUNS.nonJson });
  }, 120_000);

  it("model ids on GET /v1/models/{id}", async () => {
    const arb = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: "binary", maxLength: 60 }), fc.constantFrom("tiny", "default", "..", "%2e%2e", "a/b")).map(
      (id): Sent => ({ method: "GET", path: `/v1/models/${encodeURIComponent(id)}` }),
    );
    await fc.assert(fc.asyncProperty(arb, send), { numRuns: RUNS.modelIds });
  }, 60_000);

  it("leaves the server up and every shard un-crashed", async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    const res = await t.client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "still alive?" }], max_tokens: 2 });
    expect(res.choices[0]!.finish_reason).toBeTypeOf("string");
    for (const pool of t.gateway.registry.snapshot()) for (const shard of pool.shards) expect(shard.restarts, shard.id).toBe(0);
  });
});

describe("regressions found by fuzzing", () => {
  it("a grammar at a near-zero temperature (1e-41) does not crash the shard", async () => {
    const before = t.gateway.registry.snapshot()[0]!.shards[0]!.restarts;
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 4, response_format: { type: "json_object" }, temperature: 1e-41 }),
    });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1000));
    expect(t.gateway.registry.snapshot()[0]!.shards[0]!.restarts).toBe(before);
  });
});
