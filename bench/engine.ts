/**
 * `npm run bench:engine`: single-stream decode tokens/s and time to first token
 * through the gateway (HTTP + IPC + SSE, the official client) versus
 * node-llama-cpp driven directly in one process, same model and settings.
 */
import os from "node:os";
import path from "node:path";
import { getLlama, LlamaChat, LlamaLogLevel, resolveChatWrapper } from "node-llama-cpp";
import { loadConfig, threadsPerShard } from "../src/config/index.js";
import { ensureTinyModel } from "../src/engine/tiny-model/index.js";
import { withBenchGateway } from "./bench-gateway.js";
import { machineInfo, markdownTable, median, round, writeResult } from "./stats.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MAX_TOKENS = Number(process.env.BENCH_TOKENS ?? 200);
const CONTEXT = 2048;

interface Sample {
  ttftMs: number;
  tokensPerSecond: number;
  tokens: number;
}

const prompt = (i: number) => `Run ${i}: write a long story about a lighthouse keeper and the sea.`;

async function direct(modelPath: string, threads: number): Promise<Sample[]> {
  const llama = await getLlama({ gpu: "auto", build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: CONTEXT, sequences: 1, threads });
  const chat = new LlamaChat({ contextSequence: context.getSequence(), chatWrapper: resolveChatWrapper(model) });
  const samples: Sample[] = [];
  for (let i = -1; i < RUNS; i++) {
    const started = performance.now();
    let first = 0;
    let tokens = 0;
    await chat.generateResponse(
      [
        { type: "user", text: prompt(i) },
        { type: "model", response: [] },
      ],
      {
        maxTokens: MAX_TOKENS,
        temperature: 0,
        onToken: (t) => {
          if (!first) first = performance.now();
          tokens += t.length;
        },
      },
    );
    const end = performance.now();
    if (i >= 0) samples.push({ ttftMs: first - started, tokensPerSecond: (tokens - 1) / ((end - first) / 1000), tokens });
  }
  await context.dispose();
  await model.dispose();
  await llama.dispose();
  return samples;
}

async function gateway(modelPath: string, threads: number): Promise<Sample[]> {
  return withBenchGateway({ file: modelPath, shards: 1, slots: 1, contextSize: CONTEXT, threads }, async (client) => {
    const samples: Sample[] = [];
    for (let i = -1; i < RUNS; i++) {
      const started = performance.now();
      let first = 0;
      let tokens = 0;
      const stream = await client.chat.completions.create({
        model: "bench",
        messages: [{ role: "user", content: prompt(i) }],
        max_tokens: MAX_TOKENS,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const chunk of stream) {
        if (!first && chunk.choices[0]?.delta.content) first = performance.now();
        if (chunk.usage) tokens = chunk.usage.completion_tokens;
      }
      const end = performance.now();
      if (i >= 0) samples.push({ ttftMs: first - started, tokensPerSecond: (tokens - 1) / ((end - first) / 1000), tokens });
    }
    return samples;
  });
}

function summary(samples: Sample[]) {
  return {
    runs: samples.length,
    tokens: samples[0]?.tokens ?? 0,
    ttftMsMedian: round(median(samples.map((s) => s.ttftMs))),
    tokensPerSecondMedian: round(median(samples.map((s) => s.tokensPerSecond)), 1),
  };
}

async function main(): Promise<void> {
  const layers = Number(process.env.BENCH_LAYERS ?? 8);
  const width = Number(process.env.BENCH_WIDTH ?? 512);
  const modelPath = process.env.BENCH_MODEL ?? (await ensureTinyModel(path.join(os.tmpdir(), "switchyard-bench-models"), { layers, width }));
  const threads = threadsPerShard(loadConfig({ env: {}, raw: { models: [{ name: "x", file: "x" }] } }), "auto");
  console.error(`model ${modelPath}, threads ${threads}, ${RUNS} runs x ${MAX_TOKENS} tokens`);
  const d = summary(await direct(modelPath, threads));
  const g = summary(await gateway(modelPath, threads));
  const result = {
    benchmark: "engine",
    machine: machineInfo(),
    model: path.basename(modelPath),
    threads,
    maxTokens: MAX_TOKENS,
    direct: d,
    gateway: g,
    throughputRatio: round(g.tokensPerSecondMedian / d.tokensPerSecondMedian, 3),
    ttftOverheadMs: round(g.ttftMsMedian - d.ttftMsMedian),
  };
  const file = writeResult("bench-engine", result);
  console.log(
    markdownTable(
      ["path", "decode tok/s (median)", "TTFT ms (median)"],
      [
        ["node-llama-cpp direct (reference)", d.tokensPerSecondMedian, d.ttftMsMedian],
        ["gateway: HTTP + IPC + SSE", g.tokensPerSecondMedian, g.ttftMsMedian],
        ["ratio / overhead", `${result.throughputRatio}x`, `+${result.ttftOverheadMs} ms`],
      ],
    ),
  );
  console.error(`wrote ${file}`);
}

await main();
