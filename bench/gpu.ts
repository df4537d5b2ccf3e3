/**
 * `npm run bench:gpu`: the shard's GPU path against its CPU path, and each against node-llama-cpp driven
 * directly in one process on the same backend (the reference). Runs a real shard process (`ShardProcess`,
 * the same child the gateway forks) with `gpu: "cuda"` (or `--backends vulkan,cpu`, …) and `gpuLayers: "max"`,
 * then with `gpu: false`, and reports what the shard says it loaded on, single-stream decode tokens/s, time to
 * first token, and aggregate tokens/s with every slot busy.
 *
 * Without `--model` it generates a random-weight llama model of the given shape (`--layers 12 --width 2048
 * --heads 16 --ffn 5632`, about 0.6 B parameters in Q8_0), so the check needs no download: its text is noise,
 * its compute is a real model's. A backend that cannot load (no GPU, no CUDA runtime) is reported, not fatal.
 *
 * ```sh
 * npm run bench:gpu -- --backends cuda,cpu --tokens 128 --slots 8
 * ```
 */
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { getLlama, LlamaCompletion, LlamaLogLevel } from "node-llama-cpp";
import { ShardProcess } from "../src/engine/shard-process.js";
import type { ShardSpec } from "../src/engine/protocol.js";
import { ensureTinyModel } from "../src/engine/tiny-model/index.js";
import type { SamplingParams } from "../src/types.js";
import { machineInfo, markdownTable, median, round, writeResult } from "./stats.js";

type Backend = Exclude<ShardSpec["gpu"], "auto">;

const { values: args } = parseArgs({
  options: {
    model: { type: "string" },
    layers: { type: "string", default: "12" },
    width: { type: "string", default: "2048" },
    heads: { type: "string", default: "16" },
    ffn: { type: "string", default: "5632" },
    backends: { type: "string", default: "cuda,cpu" },
    tokens: { type: "string", default: "128" },
    runs: { type: "string", default: "3" },
    slots: { type: "string", default: "8" },
    context: { type: "string", default: "1024" },
  },
});

const TOKENS = Number(args.tokens);
const RUNS = Number(args.runs);
const SLOTS = Number(args.slots);
const CONTEXT = Number(args.context);
const prompt = (i: number) => `Run ${i}: once upon a time a lighthouse keeper looked at the sea and said`;
const params = (seed: number): SamplingParams => ({ maxTokens: TOKENS, temperature: 1, topP: 1, topK: 0, stop: [], seed, presencePenalty: 0, frequencyPenalty: 0 });

function backendOf(name: string): Backend {
  if (name === "cpu") return false;
  if (name === "cuda" || name === "vulkan" || name === "metal") return name;
  throw new Error(`--backends: unknown backend '${name}' (cuda, vulkan, metal, cpu)`);
}

interface StreamSample {
  ttftMs: number;
  tokens: number;
  tokensPerSecond: number;
}

interface ShardFigures {
  loadedOn: string | false;
  loadMs: number;
  single: StreamSample[];
  concurrent: { streams: number; tokens: number; wallMs: number; tokensPerSecond: number };
}

async function viaShard(modelPath: string, backend: Backend, threads: number): Promise<ShardFigures> {
  const started = performance.now();
  const shard = await ShardProcess.start(
    {
      shardId: `gpu-bench#${backend || "cpu"}`,
      model: "gpu-bench",
      modelPath,
      contextSize: CONTEXT,
      slots: SLOTS,
      threads,
      gpuLayers: backend ? "max" : 0,
      gpu: backend,
      chatWrapper: "general",
    },
    { loadTimeoutMs: 300_000 },
  );
  const loadMs = performance.now() - started;
  try {
    const one = async (slot: number, i: number): Promise<StreamSample> => {
      const done = await shard.generate(slot, { kind: "completion", prompt: prompt(i) }, params(i + 1), { requestId: `gpu-${slot}-${i}` });
      const tokens = done.usage.completionTokens;
      return { ttftMs: done.ttftMs, tokens, tokensPerSecond: tokens > 1 ? (tokens - 1) / (done.decodeMs / 1000) : 0 };
    };
    await one(0, -1); // warm-up: first CUDA kernels, graph capture
    const single: StreamSample[] = [];
    for (let i = 0; i < RUNS; i++) single.push(await one(0, i));
    const t0 = performance.now();
    const all = await Promise.all(Array.from({ length: SLOTS }, (_, slot) => one(slot, 100 + slot)));
    const wallMs = performance.now() - t0;
    const tokens = all.reduce((a, s) => a + s.tokens, 0);
    return { loadedOn: shard.info.gpu, loadMs, single, concurrent: { streams: SLOTS, tokens, wallMs, tokensPerSecond: tokens / (wallMs / 1000) } };
  } finally {
    await shard.dispose();
  }
}

async function direct(modelPath: string, backend: Backend, threads: number): Promise<StreamSample[]> {
  const llama = await getLlama({ gpu: backend, build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath, gpuLayers: backend ? "max" : 0 });
  const context = await model.createContext({ contextSize: CONTEXT, sequences: 1, threads });
  const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
  const samples: StreamSample[] = [];
  try {
    for (let i = -1; i < RUNS; i++) {
      const started = performance.now();
      let first = 0;
      let tokens = 0;
      await completion.generateCompletion(prompt(i), {
        maxTokens: TOKENS,
        temperature: 1,
        seed: i + 1,
        onToken: (t) => {
          if (!first) first = performance.now();
          tokens += t.length;
        },
      });
      const end = performance.now();
      if (i >= 0) samples.push({ ttftMs: first - started, tokens, tokensPerSecond: tokens > 1 ? (tokens - 1) / ((end - first) / 1000) : 0 });
    }
  } finally {
    completion.dispose();
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }
  return samples;
}

const med = (samples: StreamSample[], key: keyof StreamSample) => round(median(samples.map((s) => s[key])), 1);

async function main(): Promise<void> {
  const modelPath =
    args.model ??
    (await ensureTinyModel(path.join(os.tmpdir(), "switchyard-bench-models"), {
      layers: Number(args.layers),
      width: Number(args.width),
      heads: Number(args.heads),
      ffn: Number(args.ffn),
    }));
  const threads = Math.max(1, os.availableParallelism());
  console.error(`model ${modelPath}, ${threads} threads, ${RUNS} runs x ${TOKENS} tokens, ${SLOTS} slots`);
  const results: Record<string, unknown> = {};
  const rows: Array<Array<string | number>> = [];
  for (const name of (args.backends ?? "").split(",").filter(Boolean)) {
    const backend = backendOf(name);
    try {
      const shard = await viaShard(modelPath, backend, threads);
      const reference = await direct(modelPath, backend, threads);
      const ratio = round(med(shard.single, "tokensPerSecond") / med(reference, "tokensPerSecond"), 3);
      results[name] = { shard, direct: reference, shardOverDirect: ratio };
      rows.push([
        name,
        String(shard.loadedOn),
        round(shard.loadMs, 0),
        med(reference, "tokensPerSecond"),
        med(shard.single, "tokensPerSecond"),
        `${ratio}x`,
        med(shard.single, "ttftMs"),
        `${round(shard.concurrent.tokensPerSecond, 1)} (${shard.concurrent.streams} streams)`,
      ]);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      results[name] = { error: message };
      rows.push([name, `failed: ${message.slice(0, 120)}`, "", "", "", "", "", ""]);
    }
  }
  const file = writeResult("bench-gpu", { benchmark: "gpu", machine: machineInfo(), model: path.basename(modelPath), threads, tokens: TOKENS, slots: SLOTS, results });
  console.log(
    markdownTable(
      ["backend", "shard loaded on", "load ms", "direct decode tok/s (reference)", "shard decode tok/s", "shard ÷ direct", "shard TTFT ms", "shard aggregate tok/s"],
      rows,
    ),
  );
  console.error(`wrote ${file}`);
}

await main();
