/**
 * Shard autoscaling on the real path: one tiny-model shard with one slot,
 * a burst of requests keeps its queue deep, the gateway starts a second shard
 * process, every request succeeds, and once idle the added shard is drained
 * and removed; `/metrics` shows the shard count and both decisions.
 */
import os from "node:os";
import { describe, expect, it } from "vitest";
import { startTestGateway } from "../helpers/gateway.js";

const user = (content: string) => [{ role: "user" as const, content }];

async function until(what: string, done: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Two shards of one thread each need two cores (the host-room check refuses the second otherwise).
describe.skipIf(os.availableParallelism() < 2)("shard autoscaling", () => {
  it("adds a shard under a sustained queue, and drains it away when idle", async () => {
    await using t = await startTestGateway(
      { cache: { enabled: false } },
      { slots: 1, threads: 1, autoscale: { maxShards: 2, queueDepth: 1, upAfterMs: 300, idleMs: 1_500, intervalMs: 100 } },
    );
    const pool = t.gateway.registry.models[0]!.pool;
    const shardIds = () => pool.snapshot().shards.filter((s) => s.draining !== true).map((s) => s.id);
    expect(shardIds()).toEqual(["tiny#0"]);

    const burst = Array.from({ length: 8 }, (_, i) =>
      t.client.chat.completions.create({ model: "tiny", messages: user(`story ${i}`), max_tokens: 150, temperature: 0 }),
    );
    await until("a second shard", () => shardIds().length === 2);
    await until("the second shard to be ready", () => pool.snapshot().shards.every((s) => s.state === "ready"));
    const answers = await Promise.all(burst);
    expect(answers.every((a) => a.choices[0]!.finish_reason === "length")).toBe(true);

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_shard_scaling_total\{model="tiny",direction="up"\} 1/);

    await until("the added shard to be removed", () => pool.snapshot().shards.length === 1, 30_000);
    expect(shardIds()).toEqual(["tiny#0"]);
    const after = await (await fetch(`${t.url}/metrics`)).text();
    expect(after).toMatch(/switchyard_shard_scaling_total\{model="tiny",direction="down"\} 1/);
    expect(after).toMatch(/switchyard_model_shards\{model="tiny"\} 1/);
    // Still serving on the shard it kept.
    const last = await t.client.chat.completions.create({ model: "tiny", messages: user("still there?"), max_tokens: 3 });
    expect(last.choices[0]!.finish_reason).toBe("length");
  });
});
