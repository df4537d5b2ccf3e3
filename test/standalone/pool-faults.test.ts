/**
 * Router behaviour that needs timing control, on scripted backends behind the
 * real Backend interface: breaker open/half-open/close, retry before the first
 * token, error after it, queue bounds and priority. Real-shard equivalents are
 * in pool-real.test.ts.
 */
import { describe, expect, it } from "vitest";
import { ModelPool } from "../../src/router/index.js";
import { GatewayError } from "../../src/errors.js";
import { configSchema } from "../../src/config/index.js";
import { ScriptedBackend } from "../helpers/scripted-backend.js";

const defaults = configSchema.parse({ models: [{ name: "m", file: "x" }] });
const params = { maxTokens: 5, temperature: 0, topP: 1, topK: 0, stop: [], presencePenalty: 0, frequencyPenalty: 0 };
const input = { kind: "chat" as const, messages: [{ role: "user" as const, content: "hi" }] };

function pool(backends: ScriptedBackend[], over: { breaker?: Partial<typeof defaults.breaker>; queue?: Partial<typeof defaults.queue>; retry?: Partial<typeof defaults.retry> } = {}) {
  return new ModelPool({
    model: "m",
    backends,
    queue: { ...defaults.queue, ...over.queue },
    breaker: { ...defaults.breaker, ...over.breaker },
    retry: { ...defaults.retry, ...over.retry },
    requestTimeoutMs: 10_000,
  });
}

const run = (p: ModelPool, extra: Record<string, unknown> = {}) => p.generate(input, params, { requestId: "r", ...extra });

describe("retry before the first token", () => {
  it("retries once on another shard, invisibly", async () => {
    const bad = new ScriptedBackend("bad", 1, () => ({ kind: "fail-before-first-token" }));
    const good = new ScriptedBackend("good", 1, () => ({ kind: "ok", tokens: 3 }));
    const p = pool([bad, good]);
    await p.start();
    // Make the bad shard the preferred one: it is first and equally loaded.
    const result = await run(p);
    expect(result.shard).toBe("good");
    expect(result.text).toBe("t0 t1 t2 ");
    expect(bad.calls).toBe(1);
    expect(good.calls).toBe(1);
    await p.dispose();
  });

  it("does not retry after a token was delivered: the error surfaces", async () => {
    const a = new ScriptedBackend("a", 1, () => ({ kind: "fail-at-token", token: 2 }));
    const b = new ScriptedBackend("b", 1, () => ({ kind: "fail-at-token", token: 2 }));
    const p = pool([a, b]);
    await p.start();
    const chunks: string[] = [];
    const err = await run(p, { onChunk: (c: { text: string }) => chunks.push(c.text) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(chunks).toEqual(["t0 ", "t1 "]);
    expect(a.calls + b.calls).toBe(1);
    await p.dispose();
  });

  it("the retry budget stops retries during an outage", async () => {
    const a = new ScriptedBackend("a", 4, () => ({ kind: "fail-before-first-token" }));
    const b = new ScriptedBackend("b", 4, () => ({ kind: "fail-before-first-token" }));
    const p = pool([a, b], { retry: { budgetRatio: 0 }, breaker: { volumeThreshold: 1000 } });
    await p.start();
    for (let i = 0; i < 10; i++) await run(p).catch(() => undefined);
    // 10 requests; a floor of 3 retries in the window, ratio 0 → 13 calls at most.
    expect(a.calls + b.calls).toBe(13);
    await p.dispose();
  });
});

describe("circuit breaker", () => {
  it("opens after the configured failures, answers 503 with Retry-After, and recovers through one probe", async () => {
    let healthy = false;
    const flaky = new ScriptedBackend("flaky", 2, () => (healthy ? { kind: "ok", tokens: 2, delayMs: 50 } : { kind: "fail-before-first-token" }));
    const p = pool([flaky], { breaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 400 } });
    await p.start();
    for (let i = 0; i < 3; i++) await expect(run(p)).rejects.toBeInstanceOf(GatewayError);
    expect(p.snapshot().shards[0]!.breaker).toBe("open");
    const open = (await run(p).catch((e: unknown) => e)) as GatewayError;
    expect(open.status).toBe(503);
    expect(open.code).toBe("server_is_overloaded");
    const retryAfterMs = Number(open.headers["retry-after-ms"]);
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(400);
    expect(flaky.calls).toBe(3);

    healthy = true;
    await new Promise((r) => setTimeout(r, retryAfterMs + 50));
    expect(p.snapshot().shards[0]!.breaker).toBe("half_open");
    // Two requests at once while half-open: exactly one probe goes through; the other waits for it.
    const [probe, second] = await Promise.all([run(p), run(p)]);
    expect(probe.text).toBe("t0 t1 ");
    expect(second.text).toBe("t0 t1 ");
    expect(p.snapshot().shards[0]!.breaker).toBe("closed");
    await p.dispose();
  });

  it("client errors never count against the breaker", async () => {
    const b = new ScriptedBackend("b", 1, () => ({ kind: "ok", tokens: 1 }));
    const p = pool([b], { breaker: { volumeThreshold: 1, errorThresholdPercentage: 1 } });
    await p.start();
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      controller.abort();
      await run(p, { signal: controller.signal }).catch(() => undefined);
    }
    expect(p.snapshot().shards[0]!.breaker).toBe("closed");
    await p.dispose();
  });
});

describe("queue", () => {
  it("is bounded: overflow → 503 server_is_overloaded with Retry-After", async () => {
    const b = new ScriptedBackend("b", 1, () => ({ kind: "ok", tokens: 3, delayMs: 30 }));
    const p = pool([b], { queue: { maxDepth: 2 } });
    await p.start();
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => run(p)));
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as GatewayError);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3); // 1 running + 2 queued
    expect(rejected).toHaveLength(2);
    for (const e of rejected) {
      expect(e.status).toBe(503);
      expect(e.code).toBe("server_is_overloaded");
      expect(Number(e.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    }
    await p.dispose();
  });

  it("a request that waited past max wait gets 503", async () => {
    const b = new ScriptedBackend("b", 1, (n) => (n === 0 ? { kind: "ok", tokens: 10, delayMs: 30 } : { kind: "ok", tokens: 1 }));
    const p = pool([b], { queue: { maxWaitMs: 50 } });
    await p.start();
    const [first, second] = await Promise.allSettled([run(p), run(p)]);
    expect(first.status).toBe("fulfilled");
    expect(second.status).toBe("rejected");
    expect(((second as PromiseRejectedResult).reason as GatewayError).status).toBe(503);
    await p.dispose();
  });

  it("higher priority passes lower priority; FIFO within a priority", async () => {
    const order: string[] = [];
    const b = new ScriptedBackend("b", 1, () => ({ kind: "ok", tokens: 2, delayMs: 20 }));
    const p = pool([b]);
    await p.start();
    const tag = (name: string, priority: number) => run(p, { priority }).then(() => order.push(name));
    await Promise.all([tag("first", 0), tag("batch1", -1), tag("batch2", -1), tag("interactive", 1)]);
    expect(order).toEqual(["first", "interactive", "batch1", "batch2"]);
    await p.dispose();
  });

  it("a per-request deadline aborts generation and frees the slot (504)", async () => {
    const b = new ScriptedBackend("b", 1, (n) => (n === 0 ? { kind: "hang" } : { kind: "ok", tokens: 1 }));
    const p = pool([b]);
    await p.start();
    const err = (await run(p, { timeoutMs: 100 }).catch((e: unknown) => e)) as GatewayError;
    expect(err.status).toBe(504);
    expect(p.snapshot().shards[0]!.slotsBusy).toBe(0);
    expect((await run(p)).text).toBe("t0 ");
    await p.dispose();
  });
});
