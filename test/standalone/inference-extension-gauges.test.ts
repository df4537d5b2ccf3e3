/**
 * The Inference Extension model-server gauges (`vllm:*`) computed from pool snapshots: an adapter alias's
 * pool is counted with its base model, remote pools are left out (their upstream exports its own), KV usage
 * is the cells of running generations over all cells of the reporting shards, and the LoRA info names the
 * loaded and the waiting adapter aliases. The real shard host is tested in test/shard/inference-extension-metrics.
 */
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../src/telemetry/index.js";
import type { PoolSnapshot } from "../../src/router/index.js";

type Shard = PoolSnapshot["shards"][number];
const shard = (id: string, over: Partial<Shard> = {}): Shard => ({
  id,
  kind: "local",
  state: "ready",
  breaker: "closed",
  slotsBusy: 0,
  slotsTotal: 2,
  restarts: 0,
  lastError: undefined,
  ...over,
});

const POOLS: PoolSnapshot[] = [
  { model: "qwen", waiting: 3, running: 2, shards: [shard("qwen#0", { kvCells: { used: 300, total: 1000 } }), shard("qwen#1", { kvCells: { used: 100, total: 1000 } })] },
  { model: "qwen-ft", base: "qwen", waiting: 1, running: 1, shards: [shard("qwen-ft#0", { kvCells: { used: 200, total: 2000 } })] },
  { model: "qwen-legal", base: "qwen", waiting: 2, running: 0, shards: [shard("qwen-legal#0", { state: "starting" })] },
  { model: "small", waiting: 0, running: 0, shards: [shard("small#0")] },
  { model: "remote", waiting: 5, running: 4, shards: [shard("remote@10.0.0.7", { kind: "remote" })] },
];

function series(text: string, name: string): Array<{ labels: string; value: number }> {
  return [...text.matchAll(new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`, "gm"))].map((m) => ({ labels: m[1] ?? "", value: Number(m[2]) }));
}

describe("vllm:* gauges from the pools", () => {
  const metrics = createMetrics({ pools: () => POOLS, defaultMetrics: false });

  it("one series per served local model, adapter aliases folded into their base, remote pools left out", async () => {
    const text = await metrics.metricsText();
    expect(series(text, "vllm:num_requests_waiting")).toEqual([
      { labels: 'model_name="qwen"', value: 6 },
      { labels: 'model_name="small"', value: 0 },
    ]);
    expect(series(text, "vllm:num_requests_running")).toEqual([
      { labels: 'model_name="qwen"', value: 3 },
      { labels: 'model_name="small"', value: 0 },
    ]);
  });

  it("KV usage is a fraction: used over total cells of the reporting shards; the older name carries the same", async () => {
    const text = await metrics.metricsText();
    const expected = [
      { labels: 'model_name="qwen"', value: 600 / 4000 },
      { labels: 'model_name="small"', value: 0 },
    ];
    expect(series(text, "vllm:kv_cache_usage_perc")).toEqual(expected);
    expect(series(text, "vllm:gpu_cache_usage_perc")).toEqual(expected);
    expect(text).toMatch(/^# TYPE vllm:kv_cache_usage_perc gauge$/m);
  });

  it("LoRA info per model with adapter aliases: how many, the loaded ones, the waiting unloaded ones; value = now", async () => {
    const before = Date.now() / 1000;
    const lora = series(await metrics.metricsText(), "vllm:lora_requests_info");
    expect(lora).toHaveLength(1);
    expect(lora[0]!.labels).toBe('max_lora="2",running_lora_adapters="qwen-ft",waiting_lora_adapters="qwen-legal"');
    expect(lora[0]!.value).toBeGreaterThanOrEqual(Math.floor(before));
  });

  it("no LoRA series without adapter aliases", async () => {
    const plain = createMetrics({ pools: () => POOLS.filter((p) => p.base === undefined), defaultMetrics: false });
    expect(series(await plain.metricsText(), "vllm:lora_requests_info")).toEqual([]);
  });
});
