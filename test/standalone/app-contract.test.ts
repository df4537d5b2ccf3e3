/**
 * The HTTP contract in process: `createApp(deps)` over a scripted backend,
 * driven with `app.request()`. Bodies are checked against the vendored OpenAI
 * spec; auth, limits, cache and error envelopes as a client sees them.
 */
import { describe, expect, it } from "vitest";
import { inProcessApp } from "../helpers/in-process-app.js";
import { openAISpec } from "../helpers/openai-spec.js";

const spec = openAISpec();
const chat = (over: Record<string, unknown> = {}) => ({ model: "m", messages: [{ role: "user", content: "hi" }], max_tokens: 3, temperature: 0, ...over });

interface OpenAIError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

function sseData(text: string): string[] {
  return text
    .split("\n\n")
    .map((block) => block.split("\n").find((l) => l.startsWith("data: "))?.slice(6))
    .filter((d): d is string => d !== undefined);
}

describe("createApp over a scripted backend", () => {
  it("answers a chat completion that conforms to the spec, under the model's alias too", async () => {
    await using t = await inProcessApp();
    for (const model of ["m", "m-alias"]) {
      const res = await t.post("/v1/chat/completions", chat({ model }));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { model: string; choices: Array<{ message: { content: string }; finish_reason: string }>; usage: { completion_tokens: number } };
      expect(spec.check(spec.responseRef("post", "/chat/completions", 200, "application/json"), body).errors).toEqual([]);
      expect(body.choices[0]!.message.content).toBe("t0 t1 t2 ");
      expect(body.choices[0]!.finish_reason).toBe("length");
      expect(body.usage.completion_tokens).toBe(3);
    }
  });

  it("streams SSE chunks that conform to the spec and end with [DONE]", async () => {
    await using t = await inProcessApp();
    const res = await t.post("/v1/chat/completions", chat({ stream: true, stream_options: { include_usage: true } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = sseData(await res.text());
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: Array<{ delta: { content?: string } }> });
    const ref = spec.componentRef("CreateChatCompletionStreamResponse");
    for (const c of chunks) expect(spec.check(ref, c).errors).toEqual([]);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("t0 t1 t2 ");
  });

  it("serves a repeated deterministic request from the cache without calling the backend", async () => {
    await using t = await inProcessApp();
    const first = await t.post("/v1/chat/completions", chat());
    expect(first.headers.get("x-switchyard-cache")).toBe("miss");
    const second = await t.post("/v1/chat/completions", chat());
    expect(second.headers.get("x-switchyard-cache")).toBe("hit");
    expect(((await second.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe("t0 t1 t2 ");
    expect(t.backend.calls).toBe(1);
    // Sampled requests bypass the cache.
    const sampled = await t.post("/v1/chat/completions", chat({ temperature: 0.8 }));
    expect(sampled.headers.get("x-switchyard-cache")).toBe("bypass");
    expect(t.backend.calls).toBe(2);
  });

  it("refuses a missing or wrong key with 401 in each API's own envelope", async () => {
    await using t = await inProcessApp({ auth: { keys: [{ key: "tenant-key-0001", tenant: "acme" }] } });
    const openai = await t.post("/v1/chat/completions", chat());
    expect(openai.status).toBe(401);
    expect(((await openai.json()) as OpenAIError).error.type).toBe("authentication_error");
    const anthropic = await t.post("/v1/messages", { model: "m", max_tokens: 3, messages: [{ role: "user", content: "hi" }] }, "wrong-key-0001");
    expect(anthropic.status).toBe(401);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    const ok = await t.post("/v1/chat/completions", chat(), "tenant-key-0001");
    expect(ok.status).toBe(200);
    expect(t.backend.calls).toBe(1);
  });

  it("limits requests per key with 429 and Retry-After, and leaves other keys alone", async () => {
    await using t = await inProcessApp({
      auth: {
        keys: [
          { key: "limited-key-01", tenant: "a", requestsPerMinute: 2 },
          { key: "free-key-0001", tenant: "b" },
        ],
      },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await t.post("/v1/chat/completions", chat({ temperature: 0.5 }), "limited-key-01")).status);
    expect(statuses).toEqual([200, 200, 429]);
    const limited = await t.post("/v1/chat/completions", chat({ temperature: 0.5 }), "limited-key-01");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await limited.json()) as OpenAIError).error.type).toBe("rate_limit_error");
    expect((await t.post("/v1/chat/completions", chat({ temperature: 0.5 }), "free-key-0001")).status).toBe(200);
  });

  it("answers client mistakes with 4xx naming the problem, never a 500", async () => {
    await using t = await inProcessApp();
    const malformed = await t.post("/v1/chat/completions", "{not json");
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as OpenAIError).error.type).toBe("invalid_request_error");
    const missing = await t.post("/v1/chat/completions", { model: "m" });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as OpenAIError).error.param).toBe("messages");
    const unknown = await t.post("/v1/chat/completions", chat({ model: "nope" }));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as OpenAIError).error.code).toBe("model_not_found");
    const route = await t.app.request("/v1/nothing-here");
    expect(route.status).toBe(404);
    expect(t.backend.calls).toBe(0);
  });

  it("reports a backend that fails before the first token as a server error, not the client's", async () => {
    // A crashed shard: 503 with Retry-After (the client may retry); an engine fault: 500 without the shard's own text.
    await using crashed = await inProcessApp({}, () => ({ kind: "fail-before-first-token", code: "crashed" }));
    const unavailable = await crashed.post("/v1/chat/completions", chat());
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get("retry-after")).not.toBeNull();
    await using faulty = await inProcessApp({}, () => ({ kind: "fail-before-first-token", code: "engine_error" }));
    const failed = await faulty.post("/v1/chat/completions", chat());
    expect(failed.status).toBe(500);
    const body = (await failed.json()) as OpenAIError;
    expect(body.error.type).toBe("server_error");
    expect(body.error.message).not.toContain("m#0 failed");
  });

  it("lists the model and its alias", async () => {
    await using t = await inProcessApp();
    const res = await t.app.request("/v1/models");
    const body = (await res.json()) as { data: Array<{ id: string }> };
    expect(spec.check(spec.responseRef("get", "/models", 200, "application/json"), body).errors).toEqual([]);
    expect(body.data.map((m) => m.id)).toEqual(expect.arrayContaining(["m", "m-alias"]));
  });
});
