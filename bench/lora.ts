/**
 * `npm run bench:lora`: two ways to serve a base model and a LoRA alias side by side,
 * measured on the same machine with the same workload (`requests` greedy completions per
 * variant, `slots` at a time per variant, both variants at once):
 *
 * - dedicated shards: one shard process per adapter set (what Switchyard does), through the
 *   real shard protocol;
 * - contexts: one process holding the model once and one context per adapter set.
 *
 * Reports load time, wall time of the workload, decode tokens/s and resident memory.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ShardProcess } from "../src/engine/shard-process.js";
import type { ShardSpec } from "../src/engine/protocol.js";
import { ensureTinyLora, ensureTinyModel } from "../src/engine/tiny-model/index.js";
import { machineInfo, markdownTable, median, round, writeResult } from "./stats.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SLOTS = 2;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 8);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 64);

interface Sample {
  loadMs: number;
  runMs: number;
  tokens: number;
  rssBytes: number;
}

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;

async function dedicatedShards(modelPath: string, loraPath: string): Promise<Sample> {
  const spec = (name: string, adapters: ShardSpec["adapters"]): ShardSpec => ({
    shardId: `${name}#0`,
    model: name,
    modelPath,
    contextSize: 512,
    slots: SLOTS,
    threads: 1,
    gpuLayers: 0,
    gpu: false,
    chatWrapper: "auto",
    ...(adapters ? { adapters } : {}),
  });
  const started = performance.now();
  const shards = await Promise.all([ShardProcess.start(spec("base", undefined)), ShardProcess.start(spec("ft", [{ name: "tiny-lora", path: loraPath, scale: 1 }]))]);
  const loadMs = performance.now() - started;
  try {
    const runStarted = performance.now();
    let tokens = 0;
    await Promise.all(
      shards.flatMap((shard) =>
        Array.from({ length: SLOTS }, async (_, slot) => {
          for (let r = slot; r < REQUESTS; r += SLOTS) {
            const done = await shard.generate(
              slot,
              { kind: "completion", prompt: `Request ${r}: once upon a time` },
              { maxTokens: TOKENS, temperature: 0, topP: 1, topK: 0, stop: [], presencePenalty: 0, frequencyPenalty: 0 },
              { requestId: `bench-${r}` },
            );
            tokens += done.usage.completionTokens;
          }
        }),
      ),
    );
    const runMs = performance.now() - runStarted;
    return { loadMs, runMs, tokens, rssBytes: shards.reduce((n, s) => n + (s.pid ? rssOf(s.pid) : 0), 0) };
  } finally {
    await Promise.all(shards.map((s) => s.dispose()));
  }
}

function contextsInOneProcess(modelPath: string, loraPath: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", path.resolve("bench/lora-contexts-worker.ts"), modelPath, loraPath, String(SLOTS), String(REQUESTS), String(TOKENS)],
      { encoding: "utf8", timeout: 300_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split("\n").pop()!) as Sample)),
    );
  });
}

const dir = path.join(os.tmpdir(), "switchyard-bench-models");
const modelPath = await ensureTinyModel(dir);
const loraPath = await ensureTinyLora(dir);
const samples: Record<"shards" | "contexts", Sample[]> = { shards: [], contexts: [] };
for (let i = 0; i < RUNS; i++) {
  samples.shards.push(await dedicatedShards(modelPath, loraPath));
  samples.contexts.push(await contextsInOneProcess(modelPath, loraPath));
}
const summary = (s: Sample[]) => ({
  loadMs: round(median(s.map((x) => x.loadMs))),
  runMs: round(median(s.map((x) => x.runMs))),
  tokensPerSecond: round(median(s.map((x) => x.tokens / (x.runMs / 1000)))),
  rssMiB: round(median(s.map((x) => x.rssBytes / 2 ** 20))),
});
const shards = summary(samples.shards);
const contexts = summary(samples.contexts);
const result = { machine: machineInfo(), model: path.basename(modelPath), lora: path.basename(loraPath), slots: SLOTS, requests: REQUESTS, tokens: TOKENS, runs: RUNS, shards, contexts, samples };
console.log(
  markdownTable(
    ["layout", "load ms", "workload ms", "decode tok/s", "RSS MiB", "tok/s vs contexts", "RSS vs contexts"],
    [
      ["one context per adapter set (1 process)", contexts.loadMs, contexts.runMs, contexts.tokensPerSecond, contexts.rssMiB, "1.00", "1.00"],
      ["dedicated shard per alias (2 processes)", shards.loadMs, shards.runMs, shards.tokensPerSecond, shards.rssMiB, round(shards.tokensPerSecond / contexts.tokensPerSecond), round(shards.rssMiB / contexts.rssMiB)],
    ],
  ),
);
console.log(`wrote ${writeResult("lora", result)}`);
