/** The mock upstream speaks OpenAI well enough for the official client, at the speed it was told. */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mockText, startMockUpstream, type MockUpstream } from "../../bench/mock-upstream.js";

const TTFT_MS = 60;
const TOKENS = 12;
const TPS = 50; // 20 ms per token after the first: a busy machine still cannot lump them all together

let mock: MockUpstream;
let client: OpenAI;
beforeAll(async () => {
  mock = await startMockUpstream({ ttftMs: TTFT_MS, tokensPerSecond: TPS, tokens: TOKENS, models: ["mock", "other"] });
  client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await mock?.close();
});

const messages = [{ role: "user" as const, content: "Where is my order?" }];

describe("mock upstream", () => {
  it("lists its models", async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(["mock", "other"]);
  });

  it("streams chat deterministically, with usage last, at the configured speed", async () => {
    const started = performance.now();
    const stream = await client.chat.completions.create({ model: "mock", messages, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let firstAt = 0;
    let textChunks = 0;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      const piece = chunk.choices[0]?.delta.content;
      if (piece) {
        firstAt ||= performance.now();
        text += piece;
        textChunks++;
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) {
        expect(chunk.choices).toEqual([]);
        usage = chunk.usage;
      }
    }
    const ended = performance.now();
    expect(text).toBe(mockText(TOKENS));
    expect(text.startsWith("The quick brown fox")).toBe(true);
    expect(finish).toBe("stop");
    expect(usage).toEqual({ prompt_tokens: 4, completion_tokens: TOKENS, total_tokens: 4 + TOKENS });
    // Tokens arrive over time, not in one lump (tokens due together share a chunk, so a busy machine sends fewer).
    expect(textChunks).toBeGreaterThan(1);
    // Never early (a busy machine can only make it late): first token after TTFT, last after TTFT + decode.
    expect(firstAt - started).toBeGreaterThanOrEqual(TTFT_MS - 2);
    expect(ended - started).toBeGreaterThanOrEqual(TTFT_MS + ((TOKENS - 1) * 1000) / TPS - 2);
  });

  it("answers non-streamed after the whole generation, and honours max_tokens", async () => {
    const started = performance.now();
    const res = await client.chat.completions.create({ model: "mock", messages, max_tokens: 5 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(TTFT_MS + (4 * 1000) / TPS - 5);
    expect(res.object).toBe("chat.completion");
    expect(res.choices[0]!.message.content).toBe(mockText(5));
    expect(res.choices[0]!.finish_reason).toBe("length");
    expect(res.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 5, total_tokens: 9 });
    expect(res.model).toBe("mock");
  });

  it("serves legacy completions, streamed and not", async () => {
    const plain = await client.completions.create({ model: "other", prompt: "Once upon a time", max_tokens: 3 });
    expect(plain.choices[0]!.text).toBe(mockText(3));
    expect(plain.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 3 });
    const stream = await client.completions.create({ model: "other", prompt: "Once upon a time", stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe(mockText(TOKENS));
  });

  it("answers a bad request with OpenAI's error envelope", async () => {
    await expect(client.chat.completions.create({ model: "mock", messages: [] })).rejects.toMatchObject({ status: 400, error: { param: "messages", type: "invalid_request_error" } });
  });
});
