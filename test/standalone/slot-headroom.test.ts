/**
 * Slot headroom between tenants (src/router/slot-headroom.ts): the rule on its own, then in the pool
 * on scripted backends whose requests hang until aborted, so that "B ran while A's requests still
 * ran" is a fact of the slot state, not of timing. The real-shard test is test/shard/fairness.test.ts.
 */
import { describe, expect, it } from "vitest";
import { ModelPool } from "../../src/router/index.js";
import { GatewayError } from "../../src/errors.js";
import { configSchema } from "../../src/config/index.js";
import { SlotHeadroom, type SlotUsage } from "../../src/router/slot-headroom.js";
import { ScriptedBackend, type Script } from "../helpers/scripted-backend.js";

const defaults = configSchema.parse({ models: [{ name: "m", file: "x" }] });
const params = { maxTokens: 5, temperature: 0, topP: 1, topK: 0, stop: [], presencePenalty: 0, frequencyPenalty: 0 };
const input = { kind: "chat" as const, messages: [{ role: "user" as const, content: "hi" }] };

describe("SlotHeadroom (the rule)", () => {
  const usage = (over: Partial<SlotUsage>): SlotUsage => ({ total: 2, free: 1, running: new Map([["a", 1]]), queued: new Set(), ...over });

  it("keeps the last free slot from a tenant that runs one while another tenant with none is active", () => {
    const h = new SlotHeadroom({ reserveSlots: 1, activeWindowMs: 1000 });
    h.seen("a", 0);
    h.seen("b", 100);
    expect(h.admits("a", usage({}), 200)).toBe(false);
    expect(h.admits("b", usage({}), 200)).toBe(true); // B holds no slot
    expect(h.othersWaitingUntil("a", usage({}), 200)).toBe(1100);
    expect(h.admits("a", usage({}), 1100)).toBe(true); // B's window ended
  });

  it("a tenant alone, a one-slot pool, reserveSlots 0 and spare free slots all admit", () => {
    const h = new SlotHeadroom({ reserveSlots: 1, activeWindowMs: 1000 });
    h.seen("a", 0);
    expect(h.admits("a", usage({}), 10)).toBe(true);
    h.seen("b", 0);
    expect(h.admits("a", usage({ total: 1 }), 10)).toBe(true);
    expect(h.admits("a", usage({ total: 4, free: 2 }), 10)).toBe(true);
    expect(h.admits("a", usage({ total: 4, free: 1 }), 10)).toBe(false);
    expect(new SlotHeadroom({ reserveSlots: 0, activeWindowMs: 1000 }).admits("a", usage({ queued: new Set(["b"]) }), 10)).toBe(true);
  });

  it("reserves for tenants holding no slot only; a queued one holds the slot until its grant", () => {
    const h = new SlotHeadroom({ reserveSlots: 2, activeWindowMs: 1000 });
    const both = new Map([
      ["a", 1],
      ["b", 1],
    ]);
    h.seen("b", 0);
    expect(h.admits("a", usage({ total: 3, running: both }), 10)).toBe(true); // B already runs one
    const queued = usage({ total: 3, queued: new Set(["c"]) });
    expect(h.admits("a", queued, 5000)).toBe(false);
    expect(h.othersWaitingUntil("a", queued, 5000)).toBe(Infinity);
  });
});

function pool(backends: ScriptedBackend[], queue: Partial<typeof defaults.queue> = {}) {
  return new ModelPool({ model: "m", backends, queue: { ...defaults.queue, ...queue }, breaker: defaults.breaker, retry: defaults.retry, requestTimeoutMs: 30_000 });
}

/** A's requests hang until aborted; B's answer at once. */
function twoTenants(p: ModelPool) {
  const a = new AbortController();
  const ask = (tenant: string, extra: Record<string, unknown> = {}) =>
    p.generate(input, params, { requestId: tenant, tenant, ...(tenant === "a" ? { signal: a.signal } : {}), ...extra });
  const flood = (n: number, extra: Record<string, unknown> = {}) => Array.from({ length: n }, () => ask("a", extra).catch((e: unknown) => e));
  return { ask, flood, stop: () => a.abort() };
}

const byTenant = (answers: Record<string, Script>) => {
  const order: string[] = [];
  // The wrapper from tenantOf records the request id just before the backend picks its script.
  return { order, script: (): Script => answers[order.at(-1) ?? ""] ?? { kind: "hang" } };
};

/** Polls until `probe` holds (bounded), so the test waits on state, never on a fixed delay. */
async function until(probe: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !probe(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(probe()).toBe(true);
}

describe("headroom in the pool (scripted backends)", () => {
  const tenantOf = (order: string[]) => (b: ScriptedBackend) => {
    const generate = b.generate.bind(b);
    b.generate = (slot, i, params_, opts) => {
      order.push(opts.requestId);
      return generate(slot, i, params_, opts);
    };
  };

  it("while A floods a 2-slot pool, B gets the slot A may not take, while A's requests still run", async () => {
    const { order, script } = byTenant({ b: { kind: "ok", tokens: 2 } });
    const backend = new ScriptedBackend("s", 2, script);
    tenantOf(order)(backend);
    const p = pool([backend], { activeWindowMs: 60_000 });
    await p.start();
    const t = twoTenants(p);
    await t.ask("b"); // B is active
    const flood = t.flood(4);
    await until(() => p.snapshot().waiting === 3);
    expect(p.snapshot().shards[0]!.slotsBusy).toBe(1); // A runs one, the other is kept for B
    const answer = await t.ask("b");
    expect(answer.text).toBe("t0 t1 ");
    expect(order).toEqual(["b", "a", "b"]); // no A request ended (they hang): B did not wait for one
    t.stop();
    await Promise.all(flood);
    await p.dispose();
  });

  it("a tenant alone keeps every slot", async () => {
    const backend = new ScriptedBackend("s", 2, () => ({ kind: "hang" }));
    const p = pool([backend], { activeWindowMs: 60_000 });
    await p.start();
    const t = twoTenants(p);
    const flood = t.flood(3);
    await until(() => p.snapshot().waiting === 1);
    expect(p.snapshot().shards[0]!.slotsBusy).toBe(2);
    t.stop();
    await Promise.all(flood);
    await p.dispose();
  });

  it("the held-back slot goes to A once B's activity window ends", async () => {
    const { order, script } = byTenant({ b: { kind: "ok", tokens: 1 } });
    const backend = new ScriptedBackend("s", 2, script);
    tenantOf(order)(backend);
    const p = pool([backend], { activeWindowMs: 150 });
    await p.start();
    const t = twoTenants(p);
    await t.ask("b");
    const flood = t.flood(2);
    await until(() => p.snapshot().shards[0]!.slotsBusy === 2); // the window's timer dispatched A's second request
    expect(p.snapshot().waiting).toBe(0);
    t.stop();
    await Promise.all(flood);
    await p.dispose();
  });

  it("a request the headroom holds back still times out with the queue's 503", async () => {
    const { order, script } = byTenant({ b: { kind: "ok", tokens: 1 } });
    const backend = new ScriptedBackend("s", 2, script);
    tenantOf(order)(backend);
    const p = pool([backend], { activeWindowMs: 60_000, maxWaitMs: 100 });
    await p.start();
    const t = twoTenants(p);
    await t.ask("b");
    const [first, second] = t.flood(2);
    const err = (await second) as GatewayError;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.status).toBe(503);
    expect(err.code).toBe("server_is_overloaded");
    t.stop();
    await first;
    await p.dispose();
  });

  it("a held-back waiter does not block another tenant's waiter behind it, even of a lower priority", async () => {
    const { order, script } = byTenant({ b: { kind: "ok", tokens: 1 } });
    const backend = new ScriptedBackend("s", 2, script);
    tenantOf(order)(backend);
    const p = pool([backend], { activeWindowMs: 60_000 });
    await p.start();
    const t = twoTenants(p);
    await t.ask("b");
    const flood = t.flood(3, { priority: 1 });
    await until(() => p.snapshot().waiting === 2);
    await t.ask("b", { priority: -1 });
    expect(order).toEqual(["b", "a", "b"]);
    t.stop();
    await Promise.all(flood);
    await p.dispose();
  });

  it("counts slots across shards: with two 1-slot shards, A takes one and B the other", async () => {
    const { order, script } = byTenant({ b: { kind: "ok", tokens: 1 } });
    const shards = [new ScriptedBackend("s0", 1, script), new ScriptedBackend("s1", 1, script)];
    for (const s of shards) tenantOf(order)(s);
    const p = pool(shards, { activeWindowMs: 60_000 });
    await p.start();
    const t = twoTenants(p);
    await t.ask("b");
    const flood = t.flood(3);
    await until(() => p.snapshot().waiting === 2);
    expect(p.snapshot().shards.reduce((n, s) => n + s.slotsBusy, 0)).toBe(1);
    expect((await t.ask("b")).text).toBe("t0 ");
    t.stop();
    await Promise.all(flood);
    await p.dispose();
  });
});
