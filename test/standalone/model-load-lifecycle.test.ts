/**
 * The load lifecycle of a pool where timing must be controlled: an idle unload never stops shards
 * under a running request, an eviction never takes a busy model, a request arriving while the model
 * unloads loads it again. Scripted backends behind the real Backend interface; the real path (shard
 * processes, tiny model) is test/shard/models-on-demand.test.ts.
 */
import { describe, expect, it } from "vitest";
import { HostBudget, ModelPool } from "../../src/router/index.js";
import { configSchema } from "../../src/config/index.js";
import { ScriptedBackend, type Script } from "../helpers/scripted-backend.js";

const defaults = configSchema.parse({ models: [{ name: "m", file: "x" }] });
const params = { maxTokens: 5, temperature: 0, topP: 1, topK: 0, stop: [], presencePenalty: 0, frequencyPenalty: 0 };
const input = { kind: "chat" as const, messages: [{ role: "user" as const, content: "hi" }] };

/** Records starts and stops, and whether a stop ever happened while a generation ran. */
class RecordingBackend extends ScriptedBackend {
  events: string[] = [];
  running = 0;
  stoppedWhileRunning = false;
  override async start(): Promise<void> {
    this.events.push("start");
    await super.start();
  }
  override async dispose(): Promise<void> {
    if (this.running > 0) this.stoppedWhileRunning = true;
    this.events.push("stop");
    await super.dispose();
  }
  override async generate(...args: Parameters<ScriptedBackend["generate"]>): ReturnType<ScriptedBackend["generate"]> {
    if (this.state !== "ready") throw new Error(`${this.id} generate while ${this.state}`);
    this.running++;
    try {
      return await super.generate(...args);
    } finally {
      this.running--;
    }
  }
}

/** An on-demand pool over one recording backend (2 slots unless `slots` says otherwise); `loadedBytes` is what it counts against a budget. */
function lazyPool(
  name: string,
  script: (call: number) => Script,
  load: { idleUnloadMs?: number; budget?: HostBudget; loadedBytes?: number; slots?: number } = {},
) {
  const backend = new RecordingBackend(`${name}#0`, load.slots ?? 2, script);
  const pool = new ModelPool({
    model: name,
    backends: [backend],
    queue: defaults.queue,
    breaker: defaults.breaker,
    retry: defaults.retry,
    requestTimeoutMs: 10_000,
    load: {
      onDemand: true,
      idleUnloadMs: load.idleUnloadMs ?? 0,
      ...(load.budget ? { budget: load.budget } : {}),
      ...(load.loadedBytes !== undefined ? { loadedBytes: load.loadedBytes } : {}),
    },
  });
  return { pool, backend };
}

const run = (p: ModelPool) => p.generate(input, params, { requestId: "r" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("model load lifecycle (scripted backends)", () => {
  it("loads on the first request and not before", async () => {
    const { pool, backend } = lazyPool("m", () => ({ kind: "ok", tokens: 2 }));
    expect(pool.loadState).toBe("unloaded");
    expect(pool.ready).toBe(true);
    expect(backend.events).toEqual([]);
    expect((await run(pool)).text).toBe("t0 t1 ");
    expect(pool.loadState).toBe("loaded");
    expect(backend.events).toEqual(["start"]);
    await pool.dispose();
  });

  it("an idle unload waits for the running request: a generation longer than idleUnloadMs finishes, then the shard stops", async () => {
    const { pool, backend } = lazyPool("m", () => ({ kind: "ok", tokens: 10, delayMs: 30 }), { idleUnloadMs: 50 });
    const result = await run(pool); // ~300 ms, six times the idle limit
    expect(result.text.split(" ").filter(Boolean)).toHaveLength(10);
    expect(backend.stoppedWhileRunning).toBe(false);
    for (let i = 0; i < 100 && pool.loadState !== "unloaded"; i++) await sleep(20);
    expect(pool.loadState).toBe("unloaded");
    expect(backend.events).toEqual(["start", "stop"]);
    expect(pool.snapshot().load).toMatchObject({ loads: 1, unloads: 1, state: "unloaded" });
    await pool.dispose();
  });

  it("eviction never takes a busy model: the other model's load waits until the first is idle", async () => {
    const budget = new HostBudget({ maxLoadedModels: 1, maxLoadedBytes: 0 });
    const a = lazyPool("a", () => ({ kind: "ok", tokens: 10, delayMs: 30 }), { budget });
    const b = lazyPool("b", () => ({ kind: "ok", tokens: 1 }), { budget });
    const order: string[] = [];
    const onA = run(a.pool).then((r) => (order.push("a done"), r));
    while (a.backend.running === 0) await sleep(5);
    const onB = run(b.pool).then((r) => (order.push("b done"), r));
    await sleep(50);
    expect(b.pool.loadState).toBe("loading");
    expect(b.pool.snapshot().load?.progress).toMatchObject({ phase: "waiting for room" });
    const [ra] = await Promise.all([onA, onB]);
    expect(ra.text.split(" ").filter(Boolean)).toHaveLength(10);
    expect(order).toEqual(["a done", "b done"]);
    expect(a.backend.stoppedWhileRunning).toBe(false);
    expect(a.pool.loadState).toBe("unloaded");
    expect(b.pool.loadState).toBe("loaded");
    expect(budget.loaded).toEqual(["b"]);
    await Promise.all([a.pool.dispose(), b.pool.dispose()]);
  });

  it("evicts the least recently used idle model", async () => {
    const budget = new HostBudget({ maxLoadedModels: 2, maxLoadedBytes: 0 });
    const pools = ["a", "b", "c"].map((n) => lazyPool(n, () => ({ kind: "ok", tokens: 1 }), { budget }));
    const [a, b, c] = pools as [ReturnType<typeof lazyPool>, ReturnType<typeof lazyPool>, ReturnType<typeof lazyPool>];
    await run(a.pool);
    await run(b.pool);
    await run(a.pool); // b is now the least recently used
    await run(c.pool);
    expect([a.pool.loadState, b.pool.loadState, c.pool.loadState]).toEqual(["loaded", "unloaded", "loaded"]);
    await Promise.all(pools.map((p) => p.pool.dispose()));
  });

  it("the memory budget counts estimated bytes; a model larger than the budget alone still loads", async () => {
    const budget = new HostBudget({ maxLoadedModels: 0, maxLoadedBytes: 100 });
    const mk = (name: string, bytes: number) => lazyPool(name, () => ({ kind: "ok", tokens: 1 }), { budget, loadedBytes: bytes, slots: 1 }).pool;
    const small1 = mk("s1", 40);
    const small2 = mk("s2", 40);
    const big = mk("big", 150);
    await run(small1);
    await run(small2);
    expect(budget.loaded.sort()).toEqual(["s1", "s2"]);
    await run(big);
    expect(budget.loaded).toEqual(["big"]);
    await Promise.all([small1, small2, big].map((p) => p.dispose()));
  });

  it("a request arriving while the model unloads waits and loads it again", async () => {
    const { pool, backend } = lazyPool("m", () => ({ kind: "ok", tokens: 1 }));
    await run(pool);
    const unloading = pool.unload("idle");
    expect(pool.loadState).toBe("unloading");
    const again = run(pool);
    await unloading;
    expect((await again).text).toBe("t0 ");
    expect(pool.loadState).toBe("loaded");
    expect(backend.events).toEqual(["start", "stop", "start"]);
    await pool.dispose();
  });
});
