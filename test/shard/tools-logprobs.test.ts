/**
 * Tools, logprobs and parallel sampling (`n`) over a real socket and real shard
 * processes on the generated tiny model, through the official `openai` client
 * and LangChain's `ChatOpenAI`. The tiny model's text is noise; tool schemas use
 * enums and booleans so that grammar-constrained calls end quickly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type OpenAI from "openai";
import { ChatOpenAI } from "@langchain/openai";
import type { AIMessageChunk } from "@langchain/core/messages";
import { getLlama, ChatMLChatWrapper, LlamaLogLevel, type ChatHistoryItem } from "node-llama-cpp";
import { readSse, startTestGateway, tinyModelPath, type TestGateway } from "../helpers/gateway.js";

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({}, { slots: 3, contextSize: 2048 });
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
      properties: { city: { enum: ["Paris", "Tokyo", "Lima"] }, celsius: { type: "boolean" } },
      required: ["city", "celsius"],
      additionalProperties: false,
    },
  },
};
const diceTool = {
  type: "function" as const,
  function: {
    name: "roll_dice",
    description: "Rolls dice",
    parameters: {
      type: "object",
      properties: { sides: { enum: [4, 6, 20] }, count: { enum: [1, 2, 3] } },
      required: ["sides", "count"],
      additionalProperties: false,
    },
  },
};
const tools = [weatherTool, diceTool];

type Call = { id: string; type: string; function: { name: string; arguments: string } };

function expectValidCall(call: Call): void {
  expect(call.id).toMatch(/^call_[A-Za-z0-9]{20,}$/);
  expect(call.type).toBe("function");
  const args = JSON.parse(call.function.arguments) as Record<string, unknown>;
  if (call.function.name === "get_weather") {
    expect(["Paris", "Tokyo", "Lima"]).toContain(args.city);
    expect(typeof args.celsius).toBe("boolean");
  } else {
    expect(call.function.name).toBe("roll_dice");
    expect([4, 6, 20]).toContain(args.sides);
    expect([1, 2, 3]).toContain(args.count);
  }
}

/**
 * Same tokens and alternatives; values equal up to float noise (a reused KV prefix or
 * another slot's batch sums in another order, which moves the last digits).
 */
function expectSameLogprobs(actual: OpenAI.ChatCompletionTokenLogprob[], expected: OpenAI.ChatCompletionTokenLogprob[]): void {
  const shape = (list: OpenAI.ChatCompletionTokenLogprob[]) => list.map((e) => [e.token, e.bytes, e.top_logprobs.map((x) => x.token)]);
  expect(shape(actual)).toEqual(shape(expected));
  actual.forEach((e, i) => {
    expect(e.logprob).toBeCloseTo(expected[i]!.logprob, 1);
    e.top_logprobs.forEach((x, j) => expect(x.logprob).toBeCloseTo(expected[i]!.top_logprobs[j]!.logprob, 1));
  });
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${t.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

async function sseChunks<T>(res: Response): Promise<T[]> {
  const events = await readSse(res);
  expect(events.at(-1)).toBe("[DONE]");
  return events.slice(0, -1).map((e) => JSON.parse(e) as T);
}

describe("tool calls", () => {
  it("required: a valid call of a declared tool, content null, finish_reason tool_calls", async () => {
    const res = await t.client.chat.completions.create({
      model: "tiny",
      messages: user("What's the weather in Paris?"),
      tools,
      tool_choice: "required",
      parallel_tool_calls: false,
      temperature: 0,
      max_tokens: 200,
    });
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    expectValidCall(choice.message.tool_calls![0] as Call);
    expect(res.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it("a named tool is the one called", async () => {
    for (const name of ["roll_dice", "get_weather"]) {
      const res = await t.client.chat.completions.create({
        model: "tiny",
        messages: user("Do something"),
        tools,
        tool_choice: { type: "function", function: { name } },
        temperature: 0,
        max_tokens: 200,
      });
      const calls = res.choices[0]!.message.tool_calls!;
      expect(calls).toHaveLength(1);
      expect((calls[0] as Call).function.name).toBe(name);
      expectValidCall(calls[0] as Call);
    }
  });

  it("none never calls", async () => {
    for (const temperature of [0, 1]) {
      const res = await t.client.chat.completions.create({
        model: "tiny",
        messages: user("Call a tool please"),
        tools,
        tool_choice: "none",
        temperature,
        seed: 3,
        max_tokens: 12,
      });
      expect(res.choices[0]!.message.tool_calls).toBeUndefined();
      expect(res.choices[0]!.finish_reason).not.toBe("tool_calls");
      expect(typeof res.choices[0]!.message.content).toBe("string");
    }
  });

  it("auto answers (the tiny model never uses the call syntax) with the tools documented in the prompt", async () => {
    const plain = await t.client.chat.completions.create({ model: "tiny", messages: user("Weather?"), temperature: 0, max_tokens: 6 });
    const res = await t.client.chat.completions.create({ model: "tiny", messages: user("Weather?"), tools, tool_choice: "auto", temperature: 0, max_tokens: 6 });
    expect(["stop", "length", "tool_calls"]).toContain(res.choices[0]!.finish_reason);
    // The chat wrapper's function documentation is part of the prompt.
    expect(res.usage!.prompt_tokens).toBeGreaterThan(plain.usage!.prompt_tokens + 50);
  });

  it("streams OpenAI-style fragments that reassemble to the non-streamed call", async () => {
    const body = { model: "tiny", messages: user("Roll for me"), tools, tool_choice: "required", parallel_tool_calls: false, temperature: 0, max_tokens: 200 };
    const plain = await t.client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const expected = plain.choices[0]!.message.tool_calls![0] as Call;

    const res = await post("/v1/chat/completions", { ...body, stream: true }, { "cache-control": "no-cache" });
    expect(res.headers.get("x-switchyard-cache")).toBe("bypass");
    const chunks = await sseChunks<OpenAI.ChatCompletionChunk>(res);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    const fragments = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(fragments.length).toBeGreaterThan(1);
    const head = fragments[0]!;
    expect(head).toMatchObject({ index: 0, type: "function", function: { name: expected.function.name, arguments: "" } });
    expect(head.id).toMatch(/^call_/);
    for (const f of fragments.slice(1)) {
      expect(f.id).toBeUndefined();
      expect(f.function?.name).toBeUndefined();
      expect(f.index).toBe(0);
    }
    const args = fragments.map((f) => f.function?.arguments ?? "").join("");
    expect(args).toBe(expected.function.arguments);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("");
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("the SDK's stream helper reassembles the call", async () => {
    const stream = t.client.chat.completions.stream({
      model: "tiny",
      messages: user("Weather in Lima"),
      tools,
      tool_choice: { type: "function", function: { name: "get_weather" } },
      temperature: 0,
      max_tokens: 200,
    });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls![0] as Call;
    expect(call.function.name).toBe("get_weather");
    expectValidCall(call);
  });

  it("round-trips a tool result: the template renders call and result, the answer is normal text", async () => {
    const first = await t.client.chat.completions.create({
      model: "tiny",
      messages: user("Weather in Tokyo?"),
      tools,
      tool_choice: { type: "function", function: { name: "get_weather" } },
      temperature: 0,
      max_tokens: 200,
    });
    const call = first.choices[0]!.message.tool_calls![0] as Call;
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      ...user("Weather in Tokyo?"),
      first.choices[0]!.message,
      { role: "tool", tool_call_id: call.id, content: '{"temperature": 21}' },
    ];
    const res = await t.client.chat.completions.create({ model: "tiny", messages, tools, tool_choice: "none", temperature: 0, max_tokens: 8 });
    expect(res.choices[0]!.message.tool_calls).toBeUndefined();
    expect(res.choices[0]!.message.content!.length).toBeGreaterThan(0);

    // The prompt is the ChatML rendering of a function-call history item with its result.
    const history: ChatHistoryItem[] = [
      { type: "user", text: "Weather in Tokyo?" },
      { type: "model", response: [{ type: "functionCall", name: call.function.name, params: JSON.parse(call.function.arguments), result: { temperature: 21 } }] },
      { type: "model", response: [] },
    ];
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: await tinyModelPath() });
    const { contextText } = new ChatMLChatWrapper().generateContextState({ chatHistory: history });
    expect(contextText.toString()).toContain('||result: {"temperature": 21}');
    expect(res.usage!.prompt_tokens).toBe(contextText.tokenize(model.tokenizer).length);
    await model.dispose();
    await llama.dispose();
  });

  it("LangChain bindTools + tool_choice gets tool_calls parsed on the AIMessage", async () => {
    const llm = new ChatOpenAI({ model: "tiny", configuration: { baseURL: `${t.url}/v1` }, apiKey: "x", temperature: 0, maxTokens: 200 });
    const bound = llm.bindTools([weatherTool, diceTool], { tool_choice: "roll_dice" });
    const msg = await bound.invoke("Roll some dice");
    expect(msg.tool_calls).toHaveLength(1);
    const call = msg.tool_calls![0]!;
    expect(call.name).toBe("roll_dice");
    expect(call.id).toMatch(/^call_/);
    expect([4, 6, 20]).toContain(call.args.sides);
    expect([1, 2, 3]).toContain(call.args.count);

    const anyTool = await llm.bindTools([weatherTool], { tool_choice: "any" }).invoke("Weather?");
    expect(anyTool.tool_calls![0]!.name).toBe("get_weather");

    // Streamed: LangChain merges the `delta.tool_calls` pieces into the same call.
    let merged: AIMessageChunk | undefined;
    for await (const chunk of await bound.stream("Roll some dice")) merged = merged ? merged.concat(chunk) : chunk;
    expect(merged!.tool_calls!.map((c) => [c.name, c.args])).toEqual(msg.tool_calls!.map((c) => [c.name, c.args]));
    expect(merged!.tool_calls![0]!.id).toMatch(/^call_/);
  });

  it("tool calls and logprobs bypass the response cache; tool_choice none answers are cached with the tools in the key", async () => {
    const body = { model: "tiny", messages: user("Cache this call"), tools, tool_choice: "required", temperature: 0, max_tokens: 200 };
    for (let i = 0; i < 2; i++) expect((await post("/v1/chat/completions", body)).headers.get("x-switchyard-cache")).toBe("bypass");
    const lp = { model: "tiny", messages: user("Cache logprobs"), temperature: 0, max_tokens: 3, logprobs: true };
    for (let i = 0; i < 2; i++) expect((await post("/v1/chat/completions", lp)).headers.get("x-switchyard-cache")).toBe("bypass");

    const none = { model: "tiny", messages: user("Cache plain"), tools, tool_choice: "none", temperature: 0, max_tokens: 4 };
    expect((await post("/v1/chat/completions", none)).headers.get("x-switchyard-cache")).toBe("miss");
    expect((await post("/v1/chat/completions", none)).headers.get("x-switchyard-cache")).toBe("hit");
    // The tools are part of the key.
    expect((await post("/v1/chat/completions", { ...none, tools: [diceTool] })).headers.get("x-switchyard-cache")).toBe("miss");
  });

  it.each([
    [{ tool_choice: { type: "function", function: { name: "nope" } } }, "tool_choice"],
    [{ tools: [{ type: "function", function: { name: "bad name!", parameters: { type: "object" } } }] }, "tools[0].function.name"],
    [{ tools: [weatherTool, { type: "function", function: { name: "x", parameters: { type: "object", properties: { s: { type: "strin" } } } } }] }, "tools[1].function.parameters"],
    [{ tools: [{ type: "function", function: { name: "x", parameters: { type: "object", properties: { n: { type: "integer", minimum: 3, maximum: 2 } }, required: ["n"] } } }] }, "tools[0].function.parameters"],
    [{ tools: [{ type: "function", function: { name: "x", parameters: { type: "frobnicate" } } }] }, "tools[0].function.parameters"],
    [{ tools: [{ type: "retrieval" }] }, "tools[0].type"],
    [{ tool_choice: "required", logprobs: true }, "logprobs"],
    [{ tool_choice: "required", response_format: { type: "json_object" } }, "response_format"],
  ])("%j → 400 naming %s", async (patch, param) => {
    const res = await post("/v1/chat/completions", { model: "tiny", messages: user("x"), tools, max_tokens: 4, ...patch });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; type: string } };
    expect(body.error.param).toBe(param);
    expect(body.error.type).toBe("invalid_request_error");
  });
});

describe("logprobs", () => {
  it("chat: finite, top_logprobs sorted descending, greedy picks the top token", async () => {
    const res = await t.client.chat.completions.create({
      model: "tiny",
      messages: user("Tell me a story"),
      temperature: 0,
      max_tokens: 10,
      logprobs: true,
      top_logprobs: 5,
    });
    const choice = res.choices[0]!;
    const content = choice.logprobs!.content!;
    expect(content).toHaveLength(10);
    expect(res.usage!.completion_tokens).toBe(10);
    for (const entry of content) {
      expect(Number.isFinite(entry.logprob)).toBe(true);
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.bytes).toEqual(Array.from(Buffer.from(entry.token, "utf8")));
      expect(entry.top_logprobs).toHaveLength(5);
      const lps = entry.top_logprobs.map((a) => a.logprob);
      expect(lps.every(Number.isFinite)).toBe(true);
      expect([...lps].sort((a, b) => b - a)).toEqual(lps);
      expect(entry.logprob).toBe(lps[0]);
      expect(entry.token).toBe(entry.top_logprobs[0]!.token);
    }
    expect(content.map((e) => e.token).join("")).toBe(choice.message.content);
    expect(choice.logprobs!.refusal).toBeNull();
  });

  it("chat: the logprobs path generates the same text as the plain path at temperature 0", async () => {
    const base = { model: "tiny", messages: user("Same text please"), temperature: 0, max_tokens: 12 };
    const plain = await t.client.chat.completions.create(base);
    const withLp = await t.client.chat.completions.create({ ...base, logprobs: true });
    expect(withLp.choices[0]!.message.content).toBe(plain.choices[0]!.message.content);
    expect(withLp.choices[0]!.logprobs!.content![0]!.top_logprobs).toEqual([]);
    expect(plain.choices[0]!.logprobs).toBeNull();
  });

  it("chat: streamed chunks carry their tokens' entries; they add up to the non-streamed ones", async () => {
    const body = { model: "tiny", messages: user("Stream logprobs"), temperature: 0, max_tokens: 8, logprobs: true, top_logprobs: 2 };
    const plain = await t.client.chat.completions.create(body);
    const res = await post("/v1/chat/completions", { ...body, stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get("x-switchyard-cache")).toBe("bypass");
    const chunks = await sseChunks<OpenAI.ChatCompletionChunk>(res);
    const entries = chunks.flatMap((c) => c.choices[0]?.logprobs?.content ?? []);
    expectSameLogprobs(entries, plain.choices[0]!.logprobs!.content!);
    for (const c of chunks) {
      const lp = c.choices[0]?.logprobs?.content;
      if (lp?.length) expect(lp.map((e) => e.token).join("")).toBe(c.choices[0]!.delta.content);
    }
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(8);
  });

  it("chat: stop strings end the answer without the stop text", async () => {
    const base = { model: "tiny", messages: user("Say something long"), temperature: 0, max_tokens: 30, logprobs: true };
    const full = (await t.client.chat.completions.create(base)).choices[0]!.message.content!;
    const stopWord = full.split(" ").filter((w) => w.length > 1)[3]!;
    const cut = await t.client.chat.completions.create({ ...base, stop: [stopWord] });
    expect(cut.choices[0]!.finish_reason).toBe("stop");
    expect(cut.choices[0]!.message.content).toBe(full.slice(0, full.indexOf(stopWord)));
    const tokens = cut.choices[0]!.logprobs!.content!.map((e) => e.token).join("");
    expect(tokens.startsWith(cut.choices[0]!.message.content!)).toBe(true);
  });

  it("chat: seeded sampling at temperature 1 is reproducible", async () => {
    const body = { model: "tiny", messages: user("Random"), temperature: 1, top_p: 0.9, top_k: 50, seed: 11, max_tokens: 10, logprobs: true };
    const a = await t.client.chat.completions.create(body);
    const b = await t.client.chat.completions.create(body);
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expectSameLogprobs(b.choices[0]!.logprobs!.content!, a.choices[0]!.logprobs!.content!);
  });

  it("completions: OpenAI's legacy shape", async () => {
    const res = await post("/v1/completions", { model: "tiny", prompt: "Once upon a time", max_tokens: 6, temperature: 0, logprobs: 3 });
    const json = (await res.json()) as OpenAI.Completion;
    const lp = json.choices[0]!.logprobs!;
    expect(lp.tokens).toHaveLength(6);
    expect(lp.token_logprobs).toHaveLength(6);
    expect(lp.top_logprobs).toHaveLength(6);
    expect(lp.text_offset).toHaveLength(6);
    expect(lp.tokens!.join("")).toBe(json.choices[0]!.text);
    let offset = 0;
    lp.tokens!.forEach((token, i) => {
      expect(lp.text_offset![i]).toBe(offset);
      offset += token.length;
      const top = lp.top_logprobs![i]!;
      expect(Object.keys(top).length).toBeGreaterThanOrEqual(1);
      expect(Object.keys(top).length).toBeLessThanOrEqual(4);
      expect(top[token]).toBe(lp.token_logprobs![i]);
      expect(Math.max(...Object.values(top))).toBe(lp.token_logprobs![i]);
    });
    const plain = await t.client.completions.create({ model: "tiny", prompt: "Once upon a time", max_tokens: 6, temperature: 0 });
    expect(json.choices[0]!.text).toBe(plain.choices[0]!.text);
    expect(plain.choices[0]!.logprobs).toBeNull();
  });
});

describe("through a remote upstream", () => {
  let front: TestGateway;
  beforeAll(async () => {
    front = await startTestGateway({ cache: { enabled: false } }, { name: "remote-tiny", aliases: [], file: undefined, upstream: `${t.url}/v1`, upstreamModel: "tiny", slots: 2 });
  });
  afterAll(async () => {
    await front?.close();
  });

  it("passes tools, tool results and logprobs through, with the same answers as the upstream", async () => {
    const call = { tools, tool_choice: { type: "function" as const, function: { name: "roll_dice" } }, temperature: 0, max_tokens: 200, messages: user("Dice via the front") };
    const direct = await t.client.chat.completions.create({ model: "tiny", ...call });
    const via = await front.client.chat.completions.create({ model: "remote-tiny", ...call });
    expect(via.choices[0]!.finish_reason).toBe("tool_calls");
    expect((via.choices[0]!.message.tool_calls![0] as Call).function).toEqual((direct.choices[0]!.message.tool_calls![0] as Call).function);

    const followUp: OpenAI.ChatCompletionMessageParam[] = [
      ...call.messages,
      direct.choices[0]!.message,
      { role: "tool", tool_call_id: direct.choices[0]!.message.tool_calls![0]!.id, content: "4" },
    ];
    const a = await t.client.chat.completions.create({ model: "tiny", messages: followUp, temperature: 0, max_tokens: 5, logprobs: true, top_logprobs: 2 });
    const b = await front.client.chat.completions.create({ model: "remote-tiny", messages: followUp, temperature: 0, max_tokens: 5, logprobs: true, top_logprobs: 2 });
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expectSameLogprobs(b.choices[0]!.logprobs!.content!, a.choices[0]!.logprobs!.content!);

    const c = await t.client.completions.create({ model: "tiny", prompt: "Far away", max_tokens: 4, temperature: 0, logprobs: 2 });
    const d = await front.client.completions.create({ model: "remote-tiny", prompt: "Far away", max_tokens: 4, temperature: 0, logprobs: 2 });
    expect(d.choices[0]!.logprobs!.tokens).toEqual(c.choices[0]!.logprobs!.tokens);
    expect(d.choices[0]!.logprobs!.text_offset).toEqual(c.choices[0]!.logprobs!.text_offset);
    expect(d.choices[0]!.logprobs!.top_logprobs!.map((m) => Object.keys(m).sort())).toEqual(c.choices[0]!.logprobs!.top_logprobs!.map((m) => Object.keys(m).sort()));
  });
});

describe("cancellation", () => {
  it("a client leaving mid-stream stops the logprobs loop and frees its slot", async () => {
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      const res = await fetch(`${t.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "tiny", messages: user(`Go on forever ${i}`), temperature: 0, max_tokens: 1500, logprobs: true, top_logprobs: 3, stream: true }),
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      await reader.read();
      await reader.read();
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
    // Every slot still works: three sampled logprobs choices decode side by side, reproducibly.
    const body = { model: "tiny", messages: user("Go on forever 0"), temperature: 1, seed: 21, max_tokens: 5, n: 3, logprobs: true };
    const res = await t.client.chat.completions.create(body);
    expect(res.choices.map((c) => c.logprobs!.content!.length)).toEqual([5, 5, 5]);
    expect(res.choices.map((c) => c.finish_reason)).toEqual(["length", "length", "length"]);
    const again = await t.client.chat.completions.create(body);
    expect(again.choices.map((c) => c.message.content)).toEqual(res.choices.map((c) => c.message.content));
  });
});

describe("n choices", () => {
  it("temperature 0: identical choices, indexes set, usage prompt once and completions summed", async () => {
    const one = await t.client.chat.completions.create({ model: "tiny", messages: user("Three of the same"), temperature: 0, max_tokens: 7 });
    const res = await t.client.chat.completions.create({ model: "tiny", messages: user("Three of the same"), temperature: 0, max_tokens: 7, n: 3 });
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(res.choices.map((c) => c.message.content))).toEqual(new Set([one.choices[0]!.message.content]));
    expect(res.usage).toMatchObject({ prompt_tokens: one.usage!.prompt_tokens, completion_tokens: 21, total_tokens: one.usage!.prompt_tokens + 21 });
  });

  it("temperature 1 with a seed: reproducible choices", async () => {
    const body = { model: "tiny", messages: user("Surprise me"), temperature: 1, seed: 5, max_tokens: 8, n: 3 };
    const a = await t.client.chat.completions.create(body);
    const b = await t.client.chat.completions.create(body);
    expect(a.choices.map((c) => c.message.content)).toEqual(b.choices.map((c) => c.message.content));
    expect(new Set(a.choices.map((c) => c.message.content)).size).toBeGreaterThan(1);
  });

  it("temperature 1 without a seed: the choices differ", async () => {
    for (const logprobs of [false, true]) {
      const res = await t.client.chat.completions.create({ model: "tiny", messages: user("Be different"), temperature: 1, max_tokens: 8, n: 3, logprobs });
      expect(new Set(res.choices.map((c) => c.message.content)).size).toBe(3);
    }
  });

  it("streamed n=2: every chunk carries its choice index; each choice has a role chunk and a finish chunk", async () => {
    // Sampled, so the two choices are two real generations decoding side by side.
    const body = { model: "tiny", messages: user("Two streams"), temperature: 1, seed: 9, max_tokens: 6, n: 2 };
    const plain = await t.client.chat.completions.create(body);
    const res = await post("/v1/chat/completions", { ...body, stream: true, stream_options: { include_usage: true } });
    const chunks = await sseChunks<OpenAI.ChatCompletionChunk>(res);
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ prompt_tokens: plain.usage!.prompt_tokens, completion_tokens: plain.usage!.completion_tokens });
    const byIndex = new Map<number, OpenAI.ChatCompletionChunk.Choice[]>();
    for (const c of chunks.slice(0, -1)) {
      expect(c.choices).toHaveLength(1);
      const choice = c.choices[0]!;
      byIndex.set(choice.index, [...(byIndex.get(choice.index) ?? []), choice]);
    }
    expect([...byIndex.keys()].sort()).toEqual([0, 1]);
    const texts = [0, 1].map((i) => {
      const list = byIndex.get(i)!;
      expect(list[0]!.delta.role).toBe("assistant");
      const finishes = list.filter((c) => c.finish_reason !== null);
      expect(finishes).toHaveLength(1);
      expect(list.at(-1)!.finish_reason).toBe(plain.choices[i]!.finish_reason);
      return list.map((c) => c.delta.content ?? "").join("");
    });
    expect(texts).toEqual(plain.choices.map((c) => c.message.content));
    expect(texts[0]).not.toBe(texts[1]);
  });

  it("temperature 0 streams one decode to every index", async () => {
    const res = await post("/v1/chat/completions", { model: "tiny", messages: user("Twice"), temperature: 0, max_tokens: 5, n: 2, stream: true, stream_options: { include_usage: true } });
    const chunks = await sseChunks<OpenAI.ChatCompletionChunk>(res);
    const text = (i: number) => chunks.map((c) => (c.choices[0]?.index === i ? (c.choices[0].delta.content ?? "") : "")).join("");
    expect(text(0).length).toBeGreaterThan(0);
    expect(text(1)).toBe(text(0));
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(10);
  });

  it("completions honour n with logprobs per choice", async () => {
    const res = await t.client.completions.create({ model: "tiny", prompt: "The sea", max_tokens: 4, temperature: 0, n: 2, logprobs: 1 });
    expect(res.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(res.choices[1]!.text).toBe(res.choices[0]!.text);
    expect(res.choices[1]!.logprobs!.tokens).toHaveLength(4);
    expect(res.usage!.completion_tokens).toBe(8);
  });
});
