/**
 * One lifecycle vocabulary: dispose() is idempotent (concurrent and repeated
 * calls share one teardown) and `await using` disposes at the end of a block,
 * for the test gateway, the registry, its pools and backends, and the shard
 * process itself. Real shard processes on the tiny model.
 */
import { describe, expect, it } from "vitest";
import { ShardProcess } from "../../src/engine/shard-process.js";
import type { ModelPool } from "../../src/router/index.js";
import { startTestGateway, tinyModelPath } from "../helpers/gateway.js";
import { children } from "../helpers/processes.js";


describe.skipIf(process.platform !== "linux")("lifecycle", () => {
  it("`await using` a test gateway stops its shards at the end of the block; repeated disposal is harmless", async () => {
    const before = children();
    let pool: ModelPool | undefined;
    {
      await using t = await startTestGateway();
      expect(children().length).toBeGreaterThan(before.length);
      const { registry } = t.gateway;
      pool = registry.models[0]!.pool;
      expect(pool.snapshot().shards.map((s) => s.state)).toEqual(["ready"]);
      // Concurrent and repeated: one teardown.
      await Promise.all([registry.dispose(), registry.dispose(), pool.dispose()]);
      await registry[Symbol.asyncDispose]();
    }
    expect(children()).toEqual(before);
    await pool?.dispose();
  });

  it("a shard process disposes once, however often it is asked", async () => {
    const before = children();
    const shard = await ShardProcess.start({
      shardId: "tiny#lifecycle",
      model: "tiny",
      modelPath: await tinyModelPath(),
      slots: 1,
      contextSize: 256,
      threads: 1,
      gpu: false,
      gpuLayers: 0,
      chatWrapper: "auto",
    });
    expect(children().length).toBe(before.length + 1);
    const first = shard.dispose();
    expect(shard.dispose()).toBe(first);
    await first;
    await shard[Symbol.asyncDispose]();
    expect(children()).toEqual(before);
  });
});
