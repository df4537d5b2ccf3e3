/**
 * ShardAutoscaler over scripted backends (timing under the test's control):
 * a sustained queue adds a shard, a host without room refuses it, an idle added
 * shard is drained (its running request finishes) and removed, never below min.
 */
import { describe, expect, it } from "vitest";
import { ModelPool } from "../../src/router/index.js";
import { ShardAutoscaler, type ScalingDecision } from "../../src/router/shard-autoscaler.js";
import { configSchema } from "../../src/config/index.js";
import { ScriptedBackend } from "../helpers/scripted-backend.js";

const defaults = configSchema.parse({ models: [{ name: "m", file: "x" }] });
const params = { maxTokens: 5, temperature: 0, topP: 1, topK: 0, stop: [], presencePenalty: 0, frequencyPenalty: 0 };
const input = { kind: "chat" as const, messages: [{ role: "user" as const, content: "hi" }] };

function setup(over: { canAdd?: () => string | undefined; tokens?: number } = {}) {
  const shard = (i: number) => new ScriptedBackend(`m#${i}`, 1, () => ({ kind: "ok", tokens: over.tokens ?? 20, delayMs: 10 }));
  const pool = new ModelPool({ model: "m", backends: [shard(0)], queue: defaults.queue, breaker: defaults.breaker, retry: defaults.retry, requestTimeoutMs: 30_000 });
  let now = 0;
  const decisions: ScalingDecision[] = [];
  const refused: string[] = [];
  const scaler = new ShardAutoscaler({
    pool,
    newShard: shard,
    minShards: 1,
    maxShards: 2,
    queueDepth: 1,
    upAfterMs: 1_000,
    idleMs: 5_000,
    intervalMs: 1e9, // ticks are driven by the test
    ...(over.canAdd ? { canAdd: over.canAdd } : {}),
    onDecision: (d) => decisions.push(d),
    onRefused: (_m, reason) => refused.push(reason),
    now: () => now,
  });
  const advance = (ms: number) => (now += ms);
  const run = () => pool.generate(input, params, { requestId: "r" });
  return { pool, scaler, decisions, refused, advance, run };
}

describe("ShardAutoscaler", () => {
  it("adds a shard only after the queue stayed deep for upAfterMs, and the queue drains across both", async () => {
    const t = setup();
    await t.pool.start();
    const runs = Array.from({ length: 5 }, () => t.run());
    await new Promise((r) => setTimeout(r, 20));
    expect(t.pool.snapshot().waiting).toBe(4);
    expect(t.scaler.tick()).toBeUndefined(); // pressure starts now
    t.advance(500);
    expect(t.scaler.tick()).toBeUndefined(); // not for long enough yet
    t.advance(600);
    await t.scaler.tick();
    expect(t.decisions).toEqual([expect.objectContaining({ model: "m", direction: "up", shard: "m#1", shards: 2 })]);
    const results = await Promise.all(runs);
    expect(new Set(results.map((r) => r.shard))).toEqual(new Set(["m#0", "m#1"]));
    await t.scaler.dispose();
    await t.pool.dispose();
  });

  it("never exceeds maxShards, and says once when the host has no room", async () => {
    const t = setup({ canAdd: () => "no free memory for another shard" });
    await t.pool.start();
    const runs = Array.from({ length: 4 }, () => t.run());
    await new Promise((r) => setTimeout(r, 20));
    await t.scaler.tick();
    for (let i = 0; i < 3; i++) {
      t.advance(2_000);
      await t.scaler.tick();
    }
    expect(t.decisions).toEqual([]);
    expect(t.refused).toEqual(["no free memory for another shard"]);
    expect(t.pool.snapshot().shards).toHaveLength(1);
    await Promise.all(runs);
    await t.pool.dispose();
  });

  it("drains the added shard after idleMs (its request finishes) and keeps minShards", async () => {
    const t = setup({ tokens: 30 });
    await t.pool.start();
    const first = Array.from({ length: 4 }, () => t.run());
    await new Promise((r) => setTimeout(r, 20));
    await t.scaler.tick();
    t.advance(1_500);
    await t.scaler.tick();
    expect(t.pool.snapshot().shards.map((s) => s.id)).toEqual(["m#0", "m#1"]);
    await Promise.all(first);
    // Idle now; a request lands on the pool just before the scale-down and must finish.
    await t.scaler.tick();
    t.advance(6_000);
    const late = [t.run(), t.run()];
    await new Promise((r) => setTimeout(r, 20));
    expect(t.scaler.tick()).toBeUndefined(); // busy again: not idle
    await Promise.all(late);
    await t.scaler.tick(); // marks the end of the busy period
    t.advance(6_000);
    const removal = t.scaler.tick();
    expect(removal).toBeDefined();
    await removal;
    expect(t.decisions.map((d) => `${d.direction} ${d.shard} → ${d.shards}`)).toEqual(["up m#1 → 2", "down m#1 → 1"]);
    expect(t.pool.snapshot().shards.map((s) => s.id)).toEqual(["m#0"]);
    // At minShards: nothing more to remove.
    t.advance(60_000);
    expect(t.scaler.tick()).toBeUndefined();
    expect((await t.run()).shard).toBe("m#0");
    await t.scaler.dispose();
    await t.pool.dispose();
  });
});
