/**
 * The OpenAI surface over a real socket, real shard processes and the official
 * `openai` client, on the generated tiny model.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { getLlama, ChatMLChatWrapper, LlamaLogLevel } from "node-llama-cpp";
import { readSse, startTestGateway, tinyModelPath, type TestGateway } from "../helpers/gateway.js";

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ cache: { enabled: false } });
});
afterAll(async () => {
  await t?.close();
});

const user = (content: string) => [{ role: "user" as const, content }];

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${t.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("models and health", () => {
  it("lists models and aliases, retrieves one, 404s an unknown one", async () => {
    const list = await t.client.models.list();
    expect(list.data.map((m) => m.id).sort()).toEqual(["default", "tiny"]);
    expect(list.data[0]).toMatchObject({ object: "model", owned_by: "switchyard" });
    const one = await t.client.models.retrieve("tiny");
    expect(one.id).toBe("tiny");
    await expect(t.client.models.retrieve("nope")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("answers liveness and readiness", async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", models: ["tiny"] });
  });
});

describe("chat completions", () => {
  it("answers non-streamed with exact usage", async () => {
    const messages = user("Hello there, how are you?");
    const res = await t.client.chat.completions.create({ model: "tiny", messages, max_tokens: 12, temperature: 0 });
    expect(res.object).toBe("chat.completion");
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.choices).toHaveLength(1);
    expect(res.choices[0]!.message.role).toBe("assistant");
    expect(res.choices[0]!.message.content!.length).toBeGreaterThan(0);
    // The tiny model never emits end-of-generation at temperature 0: it runs to max_tokens.
    expect(res.choices[0]!.finish_reason).toBe("length");
    expect(res.usage!.completion_tokens).toBe(12);

    // Prompt tokens, counted independently: ChatML template + the model's own tokenizer.
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: await tinyModelPath() });
    const { contextText } = new ChatMLChatWrapper().generateContextState({
      chatHistory: [
        { type: "user", text: messages[0]!.content },
        { type: "model", response: [] },
      ],
    });
    expect(res.usage!.prompt_tokens).toBe(contextText.tokenize(model.tokenizer).length);
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + 12);
    await model.dispose();
    await llama.dispose();
  });

  it("is deterministic at temperature 0", async () => {
    const a = await t.client.chat.completions.create({ model: "tiny", messages: user("Tell me about cats"), max_tokens: 16, temperature: 0 });
    const b = await t.client.chat.completions.create({ model: "default", messages: user("Tell me about cats"), max_tokens: 16, temperature: 0 });
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expect(b.model).toBe("default");
  });

  it("streams: role first, same id/created everywhere, usage chunk before [DONE], same text as non-stream", async () => {
    const body = { model: "tiny", messages: user("Stream to me"), max_tokens: 10, temperature: 0 };
    const plain = await t.client.chat.completions.create(body);
    const res = await post("/v1/chat/completions", { ...body, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("x-switchyard-shard")).toBe("tiny#0");
    const events = await readSse(res);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as OpenAI.ChatCompletionChunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toMatchObject({ prompt_tokens: plain.usage!.prompt_tokens, completion_tokens: 10 });
    const finish = chunks.at(-2)!;
    expect(finish.choices[0]!.finish_reason).toBe("length");
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe(plain.choices[0]!.message.content);
  });

  it("streams through the SDK", async () => {
    const stream = await t.client.chat.completions.create({ model: "tiny", messages: user("hi"), max_tokens: 5, temperature: 0, stream: true });
    let text = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe("length");
  });

  it("honours stop sequences (excluded from the output, finish_reason stop)", async () => {
    const base = { model: "tiny", messages: user("Say something long"), max_tokens: 30, temperature: 0 };
    const full = (await t.client.chat.completions.create(base)).choices[0]!.message.content!;
    const words = full.split(" ").filter((w) => w.length > 1);
    const stopWord = words[Math.floor(words.length / 2)]!;
    const cut = await t.client.chat.completions.create({ ...base, stop: [stopWord, "zzzz-never"] });
    expect(cut.choices[0]!.finish_reason).toBe("stop");
    expect(cut.choices[0]!.message.content).toBe(full.slice(0, full.indexOf(stopWord)));
  });

  it("changes output with seed at temperature > 0 and reproduces it with the same seed", async () => {
    const base = { model: "tiny", messages: user("Random please"), max_tokens: 12, temperature: 1 };
    const a = await t.client.chat.completions.create({ ...base, seed: 1 });
    const b = await t.client.chat.completions.create({ ...base, seed: 1 });
    const c = await t.client.chat.completions.create({ ...base, seed: 2 });
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expect(c.choices[0]!.message.content).not.toBe(a.choices[0]!.message.content);
  });

  it("constrains output to a json_schema", async () => {
    const schema = {
      type: "object",
      properties: { color: { enum: ["red", "green", "blue"] }, ok: { type: "boolean" } },
      required: ["color", "ok"],
      additionalProperties: false,
    };
    const res = await t.client.chat.completions.create({
      model: "tiny",
      messages: user("Pick a color"),
      max_tokens: 64,
      temperature: 0,
      response_format: { type: "json_schema", json_schema: { name: "pick", schema } },
    });
    expect(res.choices[0]!.finish_reason).toBe("stop");
    const parsed = JSON.parse(res.choices[0]!.message.content!) as { color: string; ok: boolean };
    expect(["red", "green", "blue"]).toContain(parsed.color);
    expect(typeof parsed.ok).toBe("boolean");
  });

  it("constrains output to JSON with json_object", async () => {
    const res = await t.client.chat.completions.create({
      model: "tiny",
      messages: user("JSON please"),
      max_tokens: 200,
      temperature: 0,
      response_format: { type: "json_object" },
    });
    if (res.choices[0]!.finish_reason === "stop") expect(() => JSON.parse(res.choices[0]!.message.content!)).not.toThrow();
    else expect(res.choices[0]!.message.content!.trimStart().startsWith("{")).toBe(true);
  });
});

describe("completions and embeddings", () => {
  it("completes a prompt, streamed and not, identically", async () => {
    const base = { model: "tiny", prompt: "Once upon a time", max_tokens: 8, temperature: 0 };
    const res = await t.client.completions.create(base);
    expect(res.object).toBe("text_completion");
    expect(res.choices[0]!.finish_reason).toBe("length");
    expect(res.usage!.completion_tokens).toBe(8);
    const stream = await t.client.completions.create({ ...base, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe(res.choices[0]!.text);
  });

  it("embeds strings as floats and base64, identically", async () => {
    const floats = await t.client.embeddings.create({ model: "tiny", input: ["hello world", "goodbye"], encoding_format: "float" });
    expect(floats.data).toHaveLength(2);
    expect(floats.data[1]!.index).toBe(1);
    const dim = floats.data[0]!.embedding.length;
    expect(dim).toBe(64);
    expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
    const raw = await post("/v1/embeddings", { model: "tiny", input: "hello world", encoding_format: "base64" });
    const json = (await raw.json()) as { data: Array<{ embedding: string }> };
    const bytes = Buffer.from(json.data[0]!.embedding, "base64");
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    expect(decoded).toHaveLength(dim);
    decoded.forEach((v, i) => expect(v).toBeCloseTo(floats.data[0]!.embedding[i]!, 5));
  });
});

describe("errors are OpenAI envelopes with the right status", () => {
  const envelope = expect.objectContaining({
    error: expect.objectContaining({ message: expect.any(String), type: expect.any(String) }),
  });

  it("unknown model → NotFoundError", async () => {
    const err = await t.client.chat.completions.create({ model: "nope", messages: user("x") }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
  });

  it("malformed JSON → 400", async () => {
    const res = await post("/v1/chat/completions", "{not json");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(envelope);
  });

  it("empty messages → 400 naming the param", async () => {
    const err = await t.client.chat.completions.create({ model: "tiny", messages: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("messages");
  });

  it.each([
    [{ n: 5 }, "n"],
    [{ bogus: true }, "bogus"],
    [{ temperature: 5 }, "temperature"],
    [{ stop: ["a", "b", "c", "d", "e"] }, "stop"],
    [{ messages: [{ role: "wizard", content: "x" }] }, "messages[0].role"],
    [{ logprobs: true, response_format: { type: "json_object" } }, "logprobs"],
    [{ top_logprobs: 21, logprobs: true }, "top_logprobs"],
    [{ tool_choice: "required" }, "tool_choice"],
    [{ max_tokens: 1_000_000 }, "max_tokens"],
  ])("%j → 400 with param %s", async (patch, param) => {
    const res = await post("/v1/chat/completions", { model: "tiny", messages: user("x"), ...patch });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string } };
    expect(body).toEqual(envelope);
    expect(body.error.param).toBe(param);
  });

  it("2 MB body → 413 envelope", async () => {
    const res = await post("/v1/chat/completions", { model: "tiny", messages: user("x".repeat(2 * 1024 * 1024)) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(envelope);
  });

  it("unknown route → 404 envelope", async () => {
    const res = await fetch(`${t.url}/v2/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual(envelope);
  });

  it("prompt longer than the context → 400 context_length_exceeded, shard unharmed", async () => {
    const err = await t.client.chat.completions
      .create({ model: "tiny", messages: user("word ".repeat(2000)), max_tokens: 4 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("context_length_exceeded");
    const ok = await t.client.chat.completions.create({ model: "tiny", messages: user("still alive?"), max_tokens: 3 });
    expect(ok.choices[0]!.finish_reason).toBe("length");
  });

  it("echoes a valid x-request-id and makes one otherwise", async () => {
    const echoed = await fetch(`${t.url}/healthz`, { headers: { "x-request-id": "abc-123" } });
    expect(echoed.headers.get("x-request-id")).toBe("abc-123");
    const made = await fetch(`${t.url}/healthz`, { headers: { "x-request-id": "bad id with spaces" } });
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("leaks no stack traces or paths in errors", async () => {
    const res = await post("/v1/chat/completions", { model: "tiny", messages: user("x"), response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object", properties: { a: { type: "frobnicate" } } } } } });
    const text = await res.text();
    expect(res.status).toBeLessThan(500);
    expect(text).not.toMatch(/\/work\/|node_modules|at \w+ \(/);
  });
});
