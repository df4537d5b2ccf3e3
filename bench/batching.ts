/**
 * `npm run bench:batching`: aggregate decode tokens/s and TTFT p50/p95 at
 * concurrency 1, 2, 4, 8 on one shard with 8 slots and on 2 shards x 4 slots,
 * against node-llama-cpp driven directly with the same number of parallel
 * sequences; plus TTFT of turn 5 of a conversation with and without prefix reuse.
 */
import os from "node:os";
import path from "node:path";
import type OpenAI from "openai";
import { getLlama, LlamaChat, LlamaLogLevel, resolveChatWrapper } from "node-llama-cpp";
import { ensureTinyModel } from "../src/engine/tiny-model/index.js";
import { withBenchGateway } from "./bench-gateway.js";
import { machineInfo, markdownTable, percentile, round, writeResult } from "./stats.js";

const TOKENS = Number(process.env.BENCH_TOKENS ?? 64);
const LEVELS = [1, 2, 4, 8];
const CONTEXT = 2048;

interface LevelResult {
  concurrency: number;
  aggregateTokensPerSecond: number;
  ttftP50Ms: number;
  ttftP95Ms: number;
}

const prompt = (level: number, i: number) => `Level ${level} request ${i}: tell a long story about ships, storms and lighthouses.`;

async function directLevels(modelPath: string, threads: number): Promise<LevelResult[]> {
  const llama = await getLlama({ gpu: "auto", build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  const wrapper = resolveChatWrapper(model);
  const out: LevelResult[] = [];
  for (const level of LEVELS) {
    const context = await model.createContext({ contextSize: CONTEXT, sequences: level, threads });
    const chats = Array.from({ length: level }, () => new LlamaChat({ contextSequence: context.getSequence(), chatWrapper: wrapper }));
    const started = performance.now();
    const ttfts: number[] = [];
    let tokens = 0;
    await Promise.all(
      chats.map(async (chat, i) => {
        let first = 0;
        await chat.generateResponse(
          [
            { type: "user", text: prompt(level, i) },
            { type: "model", response: [] },
          ],
          {
            maxTokens: TOKENS,
            temperature: 0,
            onToken: (t) => {
              if (!first) {
                first = performance.now();
                ttfts.push(first - started);
              }
              tokens += t.length;
            },
          },
        );
      }),
    );
    const wall = (performance.now() - started) / 1000;
    out.push({ concurrency: level, aggregateTokensPerSecond: round(tokens / wall, 1), ttftP50Ms: round(percentile(ttfts, 50)), ttftP95Ms: round(percentile(ttfts, 95)) });
    await context.dispose();
  }
  await model.dispose();
  await llama.dispose();
  return out;
}

async function gatewayLevels(client: OpenAI): Promise<LevelResult[]> {
  const out: LevelResult[] = [];
  // Warm-up: first request pays one-off costs (grammar-free, but page faults, JIT).
  await client.chat.completions.create({ model: "bench", messages: [{ role: "user", content: "warm up" }], max_tokens: 8, temperature: 0 });
  for (const level of LEVELS) {
    const started = performance.now();
    const ttfts: number[] = [];
    let tokens = 0;
    await Promise.all(
      Array.from({ length: level }, async (_, i) => {
        const stream = await client.chat.completions.create({
          model: "bench",
          messages: [{ role: "user", content: prompt(level, i) }],
          max_tokens: TOKENS,
          temperature: 0,
          stream: true,
          stream_options: { include_usage: true },
        });
        let first = 0;
        for await (const chunk of stream) {
          if (!first && chunk.choices[0]?.delta.content) {
            first = performance.now();
            ttfts.push(first - started);
          }
          if (chunk.usage) tokens += chunk.usage.completion_tokens;
        }
      }),
    );
    const wall = (performance.now() - started) / 1000;
    out.push({ concurrency: level, aggregateTokensPerSecond: round(tokens / wall, 1), ttftP50Ms: round(percentile(ttfts, 50)), ttftP95Ms: round(percentile(ttfts, 95)) });
  }
  return out;
}

/** TTFT of turn 5: continuing on the slot that holds the history, versus the same history with nothing reusable. */
async function prefixReuse(client: OpenAI) {
  const filler = "The harbour was busy with fishing boats, gulls and merchants selling salt and rope. ".repeat(2);
  const messages: Array<{ role: "system" | "user" | "assistant"; content: string }> = [{ role: "system", content: "You are a storyteller." }];
  let reused = { ttftMs: 0, cachedTokens: 0, promptTokens: 0 };
  for (let turn = 1; turn <= 5; turn++) {
    messages.push({ role: "user", content: `Turn ${turn}. ${filler}` });
    const t0 = performance.now();
    const stream = await client.chat.completions.create({ model: "bench", messages, max_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true }, user: "conversation-1" });
    let first = 0;
    let text = "";
    for await (const chunk of stream) {
      if (!first && chunk.choices[0]?.delta.content) first = performance.now();
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) reused = { ttftMs: first - t0, cachedTokens: chunk.usage.prompt_tokens_details?.cached_tokens ?? 0, promptTokens: chunk.usage.prompt_tokens };
    }
    messages.push({ role: "assistant", content: text });
  }
  // Same length, nothing reusable: change the first message.
  const cold = [{ role: "system" as const, content: "You are a storyteller!" }, ...messages.slice(1, -1)];
  const t0 = performance.now();
  const stream = await client.chat.completions.create({ model: "bench", messages: cold, max_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true }, user: "conversation-2" });
  let first = 0;
  let coldUsage = { cachedTokens: 0, promptTokens: 0 };
  for await (const chunk of stream) {
    if (!first && chunk.choices[0]?.delta.content) first = performance.now();
    if (chunk.usage) coldUsage = { cachedTokens: chunk.usage.prompt_tokens_details?.cached_tokens ?? 0, promptTokens: chunk.usage.prompt_tokens };
  }
  return { withReuse: { ...reused, ttftMs: round(reused.ttftMs) }, withoutReuse: { ttftMs: round(first - t0), ...coldUsage } };
}

async function main(): Promise<void> {
  const modelPath = process.env.BENCH_MODEL ?? (await ensureTinyModel(path.join(os.tmpdir(), "switchyard-bench-models"), { layers: 8, width: 512 }));
  const threadsOneShard = Math.max(1, os.availableParallelism() - 1);
  console.error(`model ${path.basename(modelPath)}, ${TOKENS} tokens per request`);
  const direct = await directLevels(modelPath, threadsOneShard);
  const oneShard = await withBenchGateway({ file: modelPath, shards: 1, slots: 8, contextSize: CONTEXT }, async (client) => ({ levels: await gatewayLevels(client), prefix: await prefixReuse(client) }));
  const twoShards = await withBenchGateway({ file: modelPath, shards: 2, slots: 4, contextSize: CONTEXT }, gatewayLevels);
  const ratio = (g: LevelResult[]) => g.map((r, i) => round(r.aggregateTokensPerSecond / direct[i]!.aggregateTokensPerSecond, 3));
  const result = {
    benchmark: "batching",
    machine: machineInfo(),
    model: path.basename(modelPath),
    tokensPerRequest: TOKENS,
    direct,
    oneShard8Slots: oneShard.levels,
    twoShards4Slots: twoShards,
    ratioOneShard: ratio(oneShard.levels),
    ratioTwoShards: ratio(twoShards),
    prefixReuse: oneShard.prefix,
  };
  const file = writeResult("bench-batching", result);
  console.log(
    markdownTable(
      ["concurrency", "direct tok/s", "1x8 tok/s", "1x8 ratio", "2x4 tok/s", "2x4 ratio", "direct TTFT p50/p95 ms", "1x8 TTFT p50/p95 ms", "2x4 TTFT p50/p95 ms"],
      LEVELS.map((level, i) => [
        level,
        direct[i]!.aggregateTokensPerSecond,
        oneShard.levels[i]!.aggregateTokensPerSecond,
        result.ratioOneShard[i]!,
        twoShards[i]!.aggregateTokensPerSecond,
        result.ratioTwoShards[i]!,
        `${direct[i]!.ttftP50Ms} / ${direct[i]!.ttftP95Ms}`,
        `${oneShard.levels[i]!.ttftP50Ms} / ${oneShard.levels[i]!.ttftP95Ms}`,
        `${twoShards[i]!.ttftP50Ms} / ${twoShards[i]!.ttftP95Ms}`,
      ]),
    ),
  );
  console.log(`\nturn-5 TTFT: with prefix reuse ${oneShard.prefix.withReuse.ttftMs} ms (${oneShard.prefix.withReuse.cachedTokens}/${oneShard.prefix.withReuse.promptTokens} prompt tokens cached); without ${oneShard.prefix.withoutReuse.ttftMs} ms`);
  console.error(`wrote ${file}`);
}

await main();
