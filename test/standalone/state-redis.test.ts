/**
 * The shared-state pieces against a real redis-server: two connections stand
 * for two gateway replicas sharing one Redis.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { ResponseCache, type CachedResponse, type GeneratedResponse } from "../../src/cache/index.js";
import {
  AffinityStore,
  RedisCacheStore,
  RedisConnection,
  RedisFlight,
  RedisLimitStore,
  RedisResponseStore,
  RedisSemanticStore,
  Revocations,
  SharedBreakers,
} from "../../src/state/index.js";
import type { GeneratedChunk } from "../../src/types.js";
import { MemoryResponseStore, type StoredResponse } from "../../src/server/responses/index.js";
import { createMetrics, instrumentSharedState } from "../../src/telemetry/index.js";
import { SharedRateLimiter } from "../../src/server/http/shared-rate-limiter.js";
import { hasRedisServer, startRedisServer, type RedisServer } from "../helpers/redis-server.js";

let server: RedisServer;
const open: Array<{ dispose(): unknown }> = [];
let prefixSeq = 0;

/** A connection with its own key prefix per test, so tests never see each other's keys. */
async function replicas(n = 2, options: { commandTimeoutMs?: number } = {}): Promise<RedisConnection[]> {
  const prefix = `t${++prefixSeq}:`;
  const out: RedisConnection[] = [];
  for (let i = 0; i < n; i++) {
    const c = new RedisConnection({ url: server.url, keyPrefix: prefix, commandTimeoutMs: options.commandTimeoutMs ?? 200, reconnectMaxMs: 100 });
    await c.connect();
    open.push(c);
    out.push(c);
  }
  return out;
}

function track<T extends { dispose(): unknown }>(x: T): T {
  open.push(x);
  return x;
}

const entry = (text: string, createdAt = Date.now()): CachedResponse => ({
  chunks: [...text].map((ch) => ({ text: ch, tokens: 1 })),
  text,
  finishReason: "stop",
  usage: { promptTokens: 3, completionTokens: text.length },
  createdAt,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasRedisServer)("shared state on a real redis-server", () => {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.dispose();
  });
  afterAll(async () => {
    await server.stop();
  });

  describe("limits", () => {
    it("holds requests/min across replicas: 8 of 24 concurrent admissions", async () => {
      const [a, b, c] = await replicas(3);
      const stores = [a, b, c].map((redis) => track(new RedisLimitStore({ redis: redis! })));
      const decisions = await Promise.all(
        Array.from({ length: 24 }, (_, i) => stores[i % 3]!.admit("key1", { requestsPerMinute: 8 })),
      );
      const admitted = decisions.filter((d) => d.admitted);
      expect(admitted).toHaveLength(8);
      const refused = decisions.find((d) => !d.admitted);
      expect(refused).toMatchObject({ admitted: false, reason: "requests" });
      // One request refills in 60 000 / 8 ms.
      if (refused && !refused.admitted) expect(refused.retryAfterMs).toBeGreaterThan(6000);
    });

    it("reserves tokens at admission and settles with real usage", async () => {
      const [a, b] = await replicas(2);
      const sa = track(new RedisLimitStore({ redis: a! }));
      const sb = track(new RedisLimitStore({ redis: b! }));
      const limits = { tokensPerMinute: 1000 };
      const first = await sa.admit("k", limits, { tokens: 700 });
      expect(first).toMatchObject({ admitted: true, tokens: { limit: 1000, remaining: 300 } });
      expect(await sb.admit("k", limits, { tokens: 400 })).toMatchObject({ admitted: false, reason: "tokens" });
      // The first request used only 100: 600 come back, visible to the other replica.
      if (!first.admitted) throw new Error("refused");
      expect(await sa.adjustTokens("k", first.admission, 100 - 700)).toBe(100);
      const second = await sb.admit("k", limits, { tokens: 400 });
      expect(second).toMatchObject({ admitted: true, tokens: { remaining: 500 } });
      // Real usage above the reservation is charged to the same window.
      if (!second.admitted) throw new Error("refused");
      expect(await sb.adjustTokens("k", second.admission, 2000)).toBe(2500);
      const refused = await sa.admit("k", limits, { tokens: 1 });
      expect(refused).toMatchObject({ admitted: false, reason: "tokens" });
      // It waits for both admissions to leave the window (the later one, ~60 s).
      if (!refused.admitted) expect(refused.retryAfterMs).toBeGreaterThan(55_000);
    });

    it("sliding window: at most the limit in any window, a burst up to it, Retry-After exact (same semantics as in memory)", async () => {
      const [a, b] = await replicas(2);
      const WINDOW = 600;
      const sa = track(new RedisLimitStore({ redis: a!, windowMs: WINDOW }));
      const sb = track(new RedisLimitStore({ redis: b!, windowMs: WINDOW }));
      const limits = { requestsPerMinute: 5 };
      const admittedAt: number[] = [];
      let lastRetry = 0;
      const started = performance.now();
      // ~3 windows of requests from two replicas, as fast as they go, then honouring Retry-After.
      while (performance.now() - started < 3 * WINDOW) {
        const store = admittedAt.length % 2 === 0 ? sa : sb;
        const d = await store.admit("k", limits);
        if (d.admitted) admittedAt.push(performance.now());
        else {
          expect(d.reason).toBe("requests");
          expect(d.retryAfterMs).toBeGreaterThan(0);
          expect(d.retryAfterMs).toBeLessThanOrEqual(WINDOW);
          lastRetry = d.retryAfterMs;
          await sleep(d.retryAfterMs);
        }
      }
      expect(lastRetry).toBeGreaterThan(0);
      expect(admittedAt.length).toBeGreaterThanOrEqual(10);
      // Times here are the client's (each taken after Redis answered), so allow for a call's own latency (50 ms on a loaded machine);
      // a token bucket of 5 would have admitted 10 within the first window.
      for (let i = 0; i + 5 < admittedAt.length; i++) expect(admittedAt[i + 5]! - admittedAt[i]!).toBeGreaterThan(WINDOW - 50);
    });

    it("a request larger than tokens/min is refused by the shared limiter before Redis, never admitted clamped", async () => {
      const [a] = await replicas(1);
      const store = track(new RedisLimitStore({ redis: a! }));
      const limiter = new SharedRateLimiter({ store, redis: a!, keys: [{ keyId: "k", tokensPerMinute: 1000 }] });
      const err = await Promise.resolve(limiter.admit("k", { tokens: 4022 })).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
      expect((err as Error).message).toMatch(/Request too large for tokens per minute \(TPM\): limit 1000, requested 4022/);
      expect((err as { headers: Record<string, string> }).headers["retry-after"]).toBeUndefined();
      const ok = await limiter.admit("k", { tokens: 1000 });
      expect(ok.tokens?.reserved).toBe(1000);
    });

    it("shares concurrent-stream leases; a released lease frees its slot at once", async () => {
      const [a, b] = await replicas(2);
      const sa = track(new RedisLimitStore({ redis: a! }));
      const sb = track(new RedisLimitStore({ redis: b! }));
      const limits = { concurrentStreams: 2 };
      const d1 = await sa.admit("k", limits, { stream: true });
      const d2 = await sb.admit("k", limits, { stream: true });
      expect(d1.admitted && d2.admitted).toBe(true);
      expect(await sa.admit("k", limits, { stream: true })).toMatchObject({ admitted: false, reason: "streams" });
      // A non-streamed request needs no lease.
      expect(await sa.admit("k", limits, { stream: false })).toMatchObject({ admitted: true });
      if (d2.admitted && d2.lease) await sb.release(d2.lease);
      expect(await sa.admit("k", limits, { stream: true })).toMatchObject({ admitted: true });
    });

    it("a killed replica's leases expire after the TTL; a live replica's are renewed", async () => {
      const [live, doomed, other] = await replicas(3);
      const ttl = 600;
      const sLive = track(new RedisLimitStore({ redis: live!, leaseTtlMs: ttl }));
      const sDoomed = new RedisLimitStore({ redis: doomed!, leaseTtlMs: ttl });
      const sOther = track(new RedisLimitStore({ redis: other!, leaseTtlMs: ttl }));
      const limits = { concurrentStreams: 2 };
      expect(await sLive.admit("k", limits, { stream: true })).toMatchObject({ admitted: true });
      expect(await sDoomed.admit("k", limits, { stream: true })).toMatchObject({ admitted: true });
      // The doomed replica dies: no release, no more renewals.
      sDoomed.dispose();
      doomed!.client.disconnect();
      expect(await sOther.admit("k", limits, { stream: true })).toMatchObject({ admitted: false, reason: "streams" });
      await sleep(ttl * 2);
      // The dead one's slot is free again; the live one's lease was renewed and still counts.
      expect(await sOther.admit("k", limits, { stream: true })).toMatchObject({ admitted: true });
      expect(await sOther.admit("k", limits, { stream: true })).toMatchObject({ admitted: false, reason: "streams" });
      expect(sLive.heldLeases).toBe(1);
    });
  });

  describe("response cache", () => {
    it("an entry stored by one replica is a hit on the other", async () => {
      const [a, b] = await replicas(2);
      const sa = new RedisCacheStore({ redis: a!, maxBytes: 1 << 20, ttlMs: 60_000 });
      const sb = new RedisCacheStore({ redis: b!, maxBytes: 1 << 20, ttlMs: 60_000 });
      const value = { ...entry("héllo"), citations: [{ index: 1, document_id: "d", title: "t", source: "s", score: 0.5 }] };
      await sa.set("k1", value);
      expect(await sb.get("k1")).toEqual(value);
      expect(await sb.get("nope")).toBeUndefined();
      await sb.delete("k1");
      expect(await sa.get("k1")).toBeUndefined();
      expect((await sa.refresh()).bytes).toBe(0);
    });

    it("keeps one byte budget for all replicas, evicting the oldest first", async () => {
      const [a, b] = await replicas(2);
      const one = entry("x".repeat(100));
      const size = 256 + 100 + 100 * (48 + 1);
      const sa = new RedisCacheStore({ redis: a!, maxBytes: size * 3, ttlMs: 60_000 });
      const sb = new RedisCacheStore({ redis: b!, maxBytes: size * 3, ttlMs: 60_000 });
      await sa.set("e1", one);
      await sb.set("e2", one);
      await sa.set("e3", one);
      await sb.set("e4", one); // over budget: e1 goes
      expect(await sa.get("e1")).toBeUndefined();
      for (const k of ["e2", "e3", "e4"]) expect(await sa.get(k)).toBeDefined();
      const stats = await sb.refresh();
      expect(stats).toMatchObject({ entries: 3, bytes: size * 3, maxBytes: size * 3, evictions: 1 });
      // An entry larger than the whole budget is declined, nothing evicted for it.
      await sa.set("huge", entry("y".repeat(size * 4)));
      expect(await sb.get("huge")).toBeUndefined();
      expect(await sb.get("e2")).toBeDefined();
    });

    it("expires entries after the TTL", async () => {
      const [a] = await replicas(1);
      const s = new RedisCacheStore({ redis: a!, maxBytes: 1 << 20, ttlMs: 150 });
      await s.set("k", entry("soon gone"));
      expect(await s.get("k")).toBeDefined();
      await sleep(300);
      expect(await s.get("k")).toBeUndefined();
    });
  });

  describe("single-flight across replicas", () => {
    function replicaCache(redis: RedisConnection) {
      const store = new RedisCacheStore({ redis, maxBytes: 1 << 20, ttlMs: 60_000 });
      return new ResponseCache<GeneratedResponse>({ store, crossReplica: new RedisFlight({ redis, store, waitMs: 5_000 }) });
    }
    const directive = { lookup: true, store: true };

    it("identical concurrent misses on two replicas generate once; the waiter streams the replay", async () => {
      const [a, b] = await replicas(2);
      const ca = replicaCache(a!);
      const cb = replicaCache(b!);
      let generations = 0;
      const generate = async ({ onChunk }: { signal: AbortSignal; onChunk: (c: GeneratedChunk) => void }): Promise<GeneratedResponse> => {
        generations++;
        await sleep(150);
        for (const ch of ["a", "b", "c"]) onChunk({ text: ch, tokens: 1 });
        return { text: "abc", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 3 } };
      };
      const streamedB: string[] = [];
      const [ra, rb] = await Promise.all([
        ca.generate("same", directive, { generate }),
        sleep(20).then(() => cb.generate("same", directive, { generate, onChunk: (c) => streamedB.push(c.text) })),
      ]);
      expect(generations).toBe(1);
      expect(ra.response.text).toBe("abc");
      expect(rb.response.text).toBe("abc");
      expect(rb.shared).toBe(true);
      expect(streamedB.join("")).toBe("abc");
      expect(cb.counters().coalesced).toBe(1);
      // And now it is a plain hit on either.
      expect((await cb.lookup("same", directive)).result).toBe("hit");
    });

    it("a failed generation is not shared: the waiting replica generates itself", async () => {
      const [a, b] = await replicas(2);
      const ca = replicaCache(a!);
      const cb = replicaCache(b!);
      let calls = 0;
      const failing = async (): Promise<GeneratedResponse> => {
        calls++;
        await sleep(100);
        throw new Error("shard died");
      };
      const working = async ({ onChunk }: { onChunk: (c: GeneratedChunk) => void }): Promise<GeneratedResponse> => {
        calls++;
        onChunk({ text: "ok", tokens: 1 });
        return { text: "ok", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } };
      };
      const [ra, rb] = await Promise.allSettled([
        ca.generate("k", directive, { generate: failing }),
        sleep(20).then(() => cb.generate("k", directive, { generate: working })),
      ]);
      expect(ra.status).toBe("rejected");
      expect(rb).toMatchObject({ status: "fulfilled", value: { response: { text: "ok" }, shared: false } });
      expect(calls).toBe(2);
    });
  });

  it("shares breaker state: an upstream one replica found dead is open on all until the period ends", async () => {
    const [a, b] = await replicas(2);
    const ba = track(new SharedBreakers({ redis: a!, refreshMs: 50 }));
    const bb = track(new SharedBreakers({ redis: b!, refreshMs: 50 }));
    const up = "http://10.0.0.7:8080/v1";
    bb.watch([up]);
    expect(bb.isOpen(up)).toBe(false);
    await ba.markOpen(up, 400);
    expect(ba.isOpen(up)).toBe(true);
    await bb.refresh();
    expect(bb.isOpen(up)).toBe(true);
    expect(bb.msUntilClosed(up)).toBeGreaterThan(0);
    await sleep(500);
    expect(bb.isOpen(up)).toBe(false);
    await ba.markOpen(up, 10_000);
    await ba.markClosed(up);
    await bb.refresh();
    expect(bb.isOpen(up)).toBe(false);
  });

  it("shares semantic-cache entries per scope: nearest by cosine with equal anchors, capped, expired ones skipped", async () => {
    const [a, b] = await replicas(2);
    const writer = new RedisSemanticStore({ redis: a!, maxEntriesPerScope: 2 });
    const reader = new RedisSemanticStore({ redis: b!, maxEntriesPerScope: 2 });
    const unit = (x: number, y: number) => [x / Math.hypot(x, y), y / Math.hypot(x, y)];
    const at = (question: string, vector: number[], anchors: string[] = [], ttlMs = 60_000) => ({ question, vector, anchors, response: entry(question), expiresAt: Date.now() + ttlMs });
    await writer.add("scope-1", at("oldest", unit(0, 1)));
    await writer.add("scope-1", at("reset password", unit(1, 0.1)));
    await writer.add("scope-1", at("order 12", unit(1, 0.2), ["12"]));
    // The oldest went past the cap; the other replica finds the nearest with the same anchors.
    expect(await reader.nearest("scope-1", unit(0, 1), [], 0.99)).toBeUndefined();
    const hit = await reader.nearest("scope-1", unit(1, 0), [], 0.9);
    expect(hit?.entry.question).toBe("reset password");
    expect(hit?.entry.response.text).toBe("reset password");
    expect(hit?.similarity).toBeCloseTo(unit(1, 0.1)[0]!, 5);
    expect((await reader.nearest("scope-1", unit(1, 0), ["12"], 0.9))?.entry.question).toBe("order 12");
    expect(await reader.nearest("scope-1", unit(1, 0), ["13"], 0.5)).toBeUndefined();
    expect(await reader.nearest("scope-2", unit(1, 0), [], 0.1)).toBeUndefined();
    await writer.add("scope-3", at("short-lived", unit(1, 0), [], 30));
    await sleep(60);
    expect(await reader.nearest("scope-3", unit(1, 0), [], 0.5)).toBeUndefined();
  });

  it("shares session affinity", async () => {
    const [a, b] = await replicas(2);
    const fa = new AffinityStore({ redis: a! });
    const fb = new AffinityStore({ redis: b! });
    expect(await fb.get("m", "s1")).toBeUndefined();
    await fa.set("m", "s1", "http://10.0.0.8:8080/v1");
    expect(await fb.get("m", "s1")).toBe("http://10.0.0.8:8080/v1");
    expect(await fb.get("other-model", "s1")).toBeUndefined();
  });

  it("shares API-key revocations", async () => {
    const [a, b] = await replicas(2);
    const ra = track(new Revocations({ redis: a!, refreshMs: 50 }));
    const rb = track(new Revocations({ redis: b!, refreshMs: 50 }));
    await ra.revoke("abc123");
    expect(ra.isRevoked("abc123")).toBe(true);
    await rb.refresh();
    expect(rb.isRevoked("abc123")).toBe(true);
    expect(rb.isRevoked("other")).toBe(false);
    await rb.restore("abc123");
    await ra.refresh();
    expect(ra.isRevoked("abc123")).toBe(false);
  });

  it("shares stored Responses per tenant, bounded by count, with a local copy for outages", async () => {
    const [a, b] = await replicas(2);
    const sa = track(new RedisResponseStore({ redis: a!, local: new MemoryResponseStore(), maxPerTenant: 2 }));
    const sb = track(new RedisResponseStore({ redis: b!, local: new MemoryResponseStore(), maxPerTenant: 2 }));
    const stored = (id: string): StoredResponse => ({
      response: { id, status: "completed", output: [], object: "response" },
      input: [],
      conversation: [],
    });
    await sa.put("acme", stored("resp_1"));
    expect(await sb.get("acme", "resp_1")).toEqual(stored("resp_1"));
    expect(await sb.get("other-tenant", "resp_1")).toBeUndefined();
    await sb.put("acme", stored("resp_2"));
    await sa.put("acme", stored("resp_3")); // over the count: resp_1 goes
    expect(await sb.get("acme", "resp_1")).toBeUndefined();
    expect(await sb.get("acme", "resp_3")).toBeDefined();
    expect(await sa.delete("acme", "resp_2")).toBe(true);
    expect(await sb.delete("acme", "resp_2")).toBe(false);
    expect(await sb.get("acme", "resp_2")).toBeUndefined();
  });

  it("Redis dies: every piece answers within its deadline by its outage policy, and recovers when Redis is back", async () => {
    const [a, b] = await replicas(2, { commandTimeoutMs: 250 }); // generous: the setup writes below must not time out on a loaded machine
    const limits = track(new RedisLimitStore({ redis: a! }));
    const store = new RedisCacheStore({ redis: a!, maxBytes: 1 << 20, ttlMs: 60_000 });
    const cache = new ResponseCache<GeneratedResponse>({ store, crossReplica: new RedisFlight({ redis: a!, store }) });
    const affinity = new AffinityStore({ redis: a! });
    const revocations = track(new Revocations({ redis: a!, refreshMs: 50 }));
    const breakers = track(new SharedBreakers({ redis: a!, refreshMs: 50 }));
    const responses = track(new RedisResponseStore({ redis: a!, local: new MemoryResponseStore() }));
    const response = { response: { id: "resp_x", status: "completed" as const, output: [] }, input: [], conversation: [] };
    await responses.put("t", response);
    await revocations.revoke("gone-key");
    await store.set("cached", entry("before"));
    const metrics = createMetrics({ defaultMetrics: false });
    instrumentSharedState(metrics, a!);
    expect(await metrics.metricsText()).toMatch(/^switchyard_redis_up 1$/m);

    await server.kill();
    await sleep(50);
    expect(a!.up).toBe(false);
    const timed = async <T>(p: Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> => {
      const t = performance.now();
      const [result] = await Promise.allSettled([p]);
      return { ms: performance.now() - t, result: result };
    };
    // Limits: the call fails fast (the limiter then applies its fallback).
    const admit = await timed(limits.admit("k", { requestsPerMinute: 5 }));
    expect(admit.result.status).toBe("rejected");
    expect(admit.ms).toBeLessThan(1000);
    // Cache: a miss, generated locally.
    const generated = await timed(
      cache.getOrGenerate("cached", { lookup: true, store: true }, {
        generate: async ({ onChunk }) => {
          onChunk({ text: "local", tokens: 1 });
          return { text: "local", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } };
        },
      }),
    );
    expect(generated.result).toMatchObject({ status: "fulfilled", value: { cache: "miss", response: { text: "local" } } });
    expect(generated.ms).toBeLessThan(1000);
    expect(cache.counters().errors).toBeGreaterThan(0);
    // Affinity: unknown; breakers: local only; revocations: last known list.
    expect(await affinity.get("m", "s")).toBeUndefined();
    // Stored Responses: this replica still reads back what it stored itself.
    expect(await responses.get("t", "resp_x")).toEqual(response);
    await breakers.markOpen("u", 1000);
    expect(breakers.isOpen("u")).toBe(true);
    await revocations.refresh();
    expect(revocations.isRevoked("gone-key")).toBe(true);
    await expect(revocations.revoke("during-outage")).rejects.toThrow();
    expect(revocations.isRevoked("during-outage")).toBe(true);
    const health = a!.stats();
    expect(health.up).toBe(false);
    expect(health.errors.limits).toBeGreaterThan(0);
    expect(health.fallbacks.flight).toBeGreaterThan(0);
    expect(health.fallbacks.affinity).toBeGreaterThan(0);
    const text = await metrics.metricsText();
    expect(text).toMatch(/^switchyard_redis_up 0$/m);
    expect(text).toMatch(/^switchyard_redis_fallbacks_total\{piece="flight"\} [1-9]/m);
    expect(text).toMatch(/^switchyard_redis_errors_total\{piece="limits"\} [1-9]/m);
    expect(text).toMatch(/^switchyard_redis_disconnects_total 1$/m);

    // Back (empty, as after a crash without persistence): both replicas reconnect and share again.
    await server.restart();
    for (let i = 0; i < 100 && !(a!.up && b!.up); i++) await sleep(50);
    expect(a!.up && b!.up).toBe(true);
    const other = track(new RedisLimitStore({ redis: b! }));
    expect(await limits.admit("k", { requestsPerMinute: 1 })).toMatchObject({ admitted: true });
    expect(await other.admit("k", { requestsPerMinute: 1 })).toMatchObject({ admitted: false });
    // The revocation taken during the outage reached Redis on the next refresh.
    await revocations.refresh();
    const rb = track(new Revocations({ redis: b! }));
    await rb.start();
    expect(rb.isRevoked("during-outage")).toBe(true);
  });
});

describe("redis config", () => {
  const models = [{ name: "m", file: "tiny" }];
  it("is off by default and switched on by SWITCHYARD_REDIS_URL", () => {
    expect(loadConfig({ env: {}, raw: { models } }).redis.url).toBeUndefined();
    const config = loadConfig({ env: { SWITCHYARD_REDIS_URL: "redis://redis:6379", SWITCHYARD_REDIS_PASSWORD: "pw" }, raw: { models } });
    expect(config.redis).toMatchObject({ url: "redis://redis:6379", password: "pw", commandTimeoutMs: 50, limitsOnOutage: "local", replicas: 2 });
  });
  it("names the bad key", () => {
    expect(() => loadConfig({ env: {}, raw: { models, redis: { url: "http://x" } } })).toThrow(/redis\.url/);
    expect(() => loadConfig({ env: {}, raw: { models, redis: { limitsOnOutage: "maybe" } } })).toThrow(/redis\.limitsOnOutage/);
  });
});
