import { describe, expect, it, vi } from "vitest";
import {
  AbortError,
  BYPASS_DIRECTIVE,
  cacheDirective,
  cacheDirectiveFor,
  cacheKey,
  canonicalJson,
  isAbortError,
  isDeterministic,
  LruCacheStore,
  ResponseCache,
  responseSize,
  SingleFlight,
  type CachedResponse,
  type CacheKeyParts,
  type GeneratedResponse,
} from "../../src/cache/index.js";
import type { GeneratedChunk } from "../../src/types.js";

const baseParts: CacheKeyParts = {
  tenant: "acme",
  endpoint: "chat",
  model: "qwen",
  modelIdentity: "/models/qwen.gguf:12345:1700000000",
  input: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi" },
  ],
  params: {
    maxTokens: 16,
    temperature: 0,
    topP: 1,
    topK: 40,
    stop: ["\n"],
    seed: 7,
    presencePenalty: 0,
    frequencyPenalty: 0,
    responseFormat: { type: "text" },
    tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
    toolChoice: "auto",
    logprobs: false,
    n: 1,
  },
};

function entry(text: string, createdAt = 0): CachedResponse {
  return {
    chunks: Array.from(text, (ch) => ({ text: ch, tokens: 1 })),
    text,
    finishReason: "stop",
    usage: { promptTokens: 3, completionTokens: text.length },
    createdAt,
  };
}

const deferred = <T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** Lets pending promise callbacks run. */
const tick = (): Promise<void> =>
  new Promise((r) => {
    setImmediate(r);
  });

describe("canonicalJson / cacheKey", () => {
  it("ignores key order and undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, "x"], c: null }, e: undefined })).toBe('{"a":{"c":null,"d":[1,"x"]},"b":1}');
    expect(canonicalJson({ z: -0, y: 1e21, x: 0.1 })).toBe('{"x":0.1,"y":1e+21,"z":0}');
  });

  it("rejects values without a faithful JSON form", () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson(new Map())).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
    const shared = { a: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"a":1},{"a":1}]');
  });

  it("gives equal keys for equal requests regardless of key order", () => {
    const reordered: CacheKeyParts = {
      params: Object.fromEntries(Object.entries(baseParts.params).reverse()),
      input: [
        { content: "Be brief.", role: "system" },
        { content: "Hi", role: "user", name: undefined },
      ],
      modelIdentity: baseParts.modelIdentity,
      model: baseParts.model,
      endpoint: "chat",
      tenant: "acme",
    };
    expect(cacheKey(reordered)).toBe(cacheKey(baseParts));
    expect(cacheKey(baseParts)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("changes the key when any output-affecting parameter changes", () => {
    const changed: Record<string, unknown> = {
      maxTokens: 17,
      temperature: 0.5,
      topP: 0.9,
      topK: 41,
      stop: ["\n", "END"],
      seed: 8,
      presencePenalty: 0.1,
      frequencyPenalty: 0.1,
      responseFormat: { type: "json_object" },
      tools: [],
      toolChoice: "none",
      logprobs: true,
      n: 2,
    };
    const base = cacheKey(baseParts);
    const seen = new Set([base]);
    for (const [name, value] of Object.entries(changed)) {
      expect(baseParts.params).toHaveProperty(name);
      const key = cacheKey({ ...baseParts, params: { ...baseParts.params, [name]: value } });
      expect(key, name).not.toBe(base);
      seen.add(key);
    }
    expect(seen.size).toBe(Object.keys(changed).length + 1);
    // Dropping a parameter (e.g. no seed) is a change too.
    const noSeed: Record<string, unknown> = { ...baseParts.params };
    delete noSeed.seed;
    expect(cacheKey({ ...baseParts, params: noSeed })).not.toBe(base);
  });

  it("separates tenants, endpoints, models, model files, inputs and RAG versions", () => {
    const base = cacheKey(baseParts);
    const variants: CacheKeyParts[] = [
      { ...baseParts, tenant: "other" },
      { ...baseParts, endpoint: "completion" },
      { ...baseParts, model: "llama" },
      { ...baseParts, modelIdentity: "/models/qwen.gguf:12345:1800000000" },
      { ...baseParts, input: [{ role: "user", content: "Hi" }] },
      { ...baseParts, ragVersion: "docs@3" },
    ];
    for (const v of variants) expect(cacheKey(v)).not.toBe(base);
    expect(cacheKey({ ...baseParts, ragVersion: "docs@3" })).not.toBe(cacheKey({ ...baseParts, ragVersion: "docs@4" }));
  });
});

describe("policy", () => {
  it("caches only deterministic requests", () => {
    expect(isDeterministic({ temperature: 0 })).toBe(true);
    expect(isDeterministic({ temperature: 0.7 })).toBe(false);
    expect(isDeterministic({ temperature: 0.7, seed: undefined })).toBe(false);
    expect(isDeterministic({ temperature: 0.7, seed: 42 })).toBe(true);
    expect(cacheDirectiveFor(undefined, { temperature: 0.7 })).toEqual(BYPASS_DIRECTIVE);
    expect(cacheDirectiveFor("no-cache", { temperature: 0 })).toEqual({ lookup: false, store: true });
  });

  it("parses Cache-Control", () => {
    expect(cacheDirective(undefined)).toEqual({ lookup: true, store: true });
    expect(cacheDirective("")).toEqual({ lookup: true, store: true });
    expect(cacheDirective("no-cache")).toEqual({ lookup: false, store: true });
    expect(cacheDirective("No-Store")).toEqual({ lookup: false, store: false });
    expect(cacheDirective("no-cache, no-store")).toEqual({ lookup: false, store: false });
    expect(cacheDirective("max-age=60")).toEqual({ lookup: true, store: true, maxAgeMs: 60_000 });
    expect(cacheDirective("max-age=60, max-age=5")).toEqual({ lookup: true, store: true, maxAgeMs: 5_000 });
    expect(cacheDirective("max-age=0")).toEqual({ lookup: false, store: true });
    expect(cacheDirective("max-age=soon")).toEqual({ lookup: false, store: true });
    expect(cacheDirective('private="no-store, x", max-stale')).toEqual({ lookup: true, store: true });
    expect(cacheDirective(' foo="a\\"b" ,no-cache')).toEqual({ lookup: false, store: true });
  });
});

describe("LruCacheStore", () => {
  it("never holds more than maxBytes and counts evictions", async () => {
    const maxBytes = 8_000;
    const store = new LruCacheStore({ maxBytes, ttlMs: 60_000 });
    for (let i = 0; i < 200; i++) {
      await store.set(`k${String(i)}`, entry(`answer number ${String(i)} `.repeat(3)));
      expect(store.stats().bytes).toBeLessThanOrEqual(maxBytes);
    }
    const stats = store.stats();
    expect(stats.maxBytes).toBe(maxBytes);
    expect(stats.entries).toBeGreaterThan(0);
    expect(stats.entries).toBeLessThan(200);
    expect(stats.evictions).toBe(200 - stats.entries);
    // Most recent survive, oldest are gone.
    expect(await store.get("k199")).toBeDefined();
    expect(await store.get("k0")).toBeUndefined();
  });

  it("does not store an entry larger than the budget", async () => {
    const big = entry("x".repeat(2_000));
    const store = new LruCacheStore({ maxBytes: responseSize(big) - 1, ttlMs: 60_000 });
    await store.set("big", big);
    expect(await store.get("big")).toBeUndefined();
    expect(store.stats()).toMatchObject({ entries: 0, bytes: 0, evictions: 0 });
  });

  it("expires entries after the TTL", async () => {
    let now = 1_000;
    const store = new LruCacheStore({ maxBytes: 100_000, ttlMs: 500, now: () => now });
    await store.set("a", entry("hello"));
    now += 499;
    expect((await store.get("a"))?.text).toBe("hello");
    now += 2;
    expect(await store.get("a")).toBeUndefined();
    await store.set("b", entry("bye"));
    now += 501;
    expect(store.stats()).toMatchObject({ entries: 0, bytes: 0, evictions: 0 });
  });

  it("stores a frozen copy", async () => {
    const store = new LruCacheStore({ maxBytes: 100_000, ttlMs: 60_000 });
    const value = entry("hi");
    await store.set("k", value);
    value.chunks.push({ text: "!", tokens: 1 });
    const got = await store.get("k");
    expect(got?.chunks).toHaveLength(2);
    expect(Object.isFrozen(got)).toBe(true);
    expect(Object.isFrozen(value)).toBe(false);
  });
});

describe("SingleFlight", () => {
  it("runs identical concurrent work once and shares the value", async () => {
    const flights = new SingleFlight<string>();
    const gate = deferred<string>();
    const work = vi.fn(() => gate.promise);
    const runs = Array.from({ length: 10 }, () => flights.run("k", undefined, work));
    expect(flights.size).toBe(1);
    gate.resolve("v");
    const results = await Promise.all(runs);
    expect(work).toHaveBeenCalledTimes(1);
    expect(results.map((r) => r.value)).toEqual(Array(10).fill("v"));
    expect(results.filter((r) => !r.shared)).toHaveLength(1);
    expect(flights.size).toBe(0);
  });

  it("rejects only the waiter that aborts", async () => {
    const flights = new SingleFlight<string>();
    const gate = deferred<string>();
    let workSignal: AbortSignal | undefined;
    const work = (signal: AbortSignal): Promise<string> => {
      workSignal = signal;
      return gate.promise;
    };
    const leaving = new AbortController();
    const first = flights.run("k", leaving.signal, work);
    const second = flights.run("k", new AbortController().signal, work);
    const third = flights.run("k", undefined, work);
    leaving.abort(new Error("client went away"));
    await expect(first).rejects.toSatisfy((e: unknown) => isAbortError(e) && (e as Error).cause instanceof Error);
    expect(workSignal?.aborted).toBe(false);
    gate.resolve("v");
    await expect(second).resolves.toEqual({ value: "v", shared: true });
    await expect(third).resolves.toEqual({ value: "v", shared: true });
  });

  it("aborts the work only when every waiter has gone, and starts fresh afterwards", async () => {
    const flights = new SingleFlight<string>();
    let workSignal: AbortSignal | undefined;
    const work = vi.fn((signal: AbortSignal) => {
      workSignal = signal;
      return new Promise<string>((_resolve, reject) => {
        signal.addEventListener("abort", () => {
          reject(new AbortError(signal.reason));
        });
      });
    });
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const runs = controllers.map((c) => flights.run("k", c.signal, work));
    controllers[0]?.abort();
    controllers[1]?.abort();
    expect(workSignal?.aborted).toBe(false);
    controllers[2]?.abort();
    expect(workSignal?.aborted).toBe(true);
    for (const run of runs) await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(flights.size).toBe(0);
    await expect(flights.run("k", undefined, () => Promise.resolve("again"))).resolves.toEqual({ value: "again", shared: false });
  });

  it("shares errors, does not remember them, and refuses an already aborted signal", async () => {
    const flights = new SingleFlight<string>();
    const gate = deferred<string>();
    const a = flights.run("k", undefined, () => gate.promise);
    const b = flights.run("k", undefined, () => gate.promise);
    gate.reject(new Error("boom"));
    await expect(a).rejects.toThrow("boom");
    await expect(b).rejects.toThrow("boom");
    await expect(flights.run("k", undefined, () => Promise.resolve("ok"))).resolves.toEqual({ value: "ok", shared: false });
    const work = vi.fn(() => Promise.resolve("never"));
    await expect(flights.run("k", AbortSignal.abort(), work)).rejects.toBeInstanceOf(AbortError);
    expect(work).not.toHaveBeenCalled();
  });
});

describe("ResponseCache", () => {
  const make = (enabled = true): { cache: ResponseCache; store: LruCacheStore } => {
    const store = new LruCacheStore({ maxBytes: 1_000_000, ttlMs: 60_000 });
    return { cache: new ResponseCache({ store, enabled, now: () => 5_000 }), store };
  };
  const on = { lookup: true, store: true } as const;

  /** A fake generator streaming `text` char by char once `gate` opens. */
  const generator = (text: string, gate: Promise<unknown> = Promise.resolve()) =>
    vi.fn(async ({ onChunk }: { signal: AbortSignal; onChunk: (c: GeneratedChunk) => void }): Promise<GeneratedResponse> => {
      await gate;
      for (const ch of text) onChunk({ text: ch, tokens: 1 });
      return { text, finishReason: "stop", usage: { promptTokens: 2, completionTokens: text.length } };
    });

  it("misses, stores, then replays the chunk list on a hit", async () => {
    const { cache } = make();
    const generate = generator("abc");
    const live: string[] = [];
    const first = await cache.getOrGenerate("k", on, { generate, onChunk: (c) => live.push(c.text) });
    expect(first).toMatchObject({ cache: "miss", shared: false, response: { text: "abc", createdAt: 5_000 } });
    expect(live).toEqual(["a", "b", "c"]);

    const replayed: string[] = [];
    const second = await cache.getOrGenerate("k", on, { generate, onChunk: (c) => replayed.push(c.text) });
    expect(second.cache).toBe("hit");
    expect(second.result).toBeUndefined();
    expect(replayed).toEqual(["a", "b", "c"]);
    expect(generate).toHaveBeenCalledTimes(1);
    expect(cache.counters()).toMatchObject({ hit: 1, miss: 1, bypass: 0, stored: 1 });
    expect(cache.stats().entries).toBe(1);
  });

  it("coalesces concurrent identical misses and replays to joiners", async () => {
    const { cache } = make();
    const gate = deferred<undefined>();
    const generate = generator("xy", gate.promise);
    const streams = Array.from({ length: 5 }, () => [] as string[]);
    const runs = streams.map((s) => cache.getOrGenerate("k", on, { generate, onChunk: (c) => s.push(c.text) }));
    await tick();
    gate.resolve(undefined);
    const outcomes = await Promise.all(runs);
    expect(generate).toHaveBeenCalledTimes(1);
    expect(outcomes.filter((o) => o.shared)).toHaveLength(4);
    for (const s of streams) expect(s).toEqual(["x", "y"]);
    expect(cache.counters()).toMatchObject({ miss: 5, coalesced: 4, stored: 1 });
  });

  it("keeps generating for joiners when the starter aborts, and still stores", async () => {
    const { cache, store } = make();
    const gate = deferred<undefined>();
    const generate = generator("ok", gate.promise);
    const starter = new AbortController();
    const starterChunks: string[] = [];
    const a = cache.getOrGenerate("k", on, { generate, signal: starter.signal, onChunk: (c) => starterChunks.push(c.text) });
    await tick();
    const b = cache.getOrGenerate("k", on, { generate });
    await tick();
    starter.abort();
    await expect(a).rejects.toBeInstanceOf(AbortError);
    gate.resolve(undefined);
    await expect(b).resolves.toMatchObject({ cache: "miss", shared: true, response: { text: "ok" } });
    expect(starterChunks).toEqual([]);
    expect(await store.get("k")).toBeDefined();
  });

  it("never stores errors, aborted or incomplete results", async () => {
    const { cache, store } = make();
    await expect(
      cache.getOrGenerate("err", on, { generate: () => Promise.reject(new Error("engine died")) }),
    ).rejects.toThrow("engine died");
    expect(await store.get("err")).toBeUndefined();

    // A generator that returns normally after its signal fired (partial output).
    const controller = new AbortController();
    const partial = cache.getOrGenerate("partial", on, {
      signal: controller.signal,
      generate: ({ signal, onChunk }) =>
        new Promise((resolve) => {
          signal.addEventListener("abort", () => {
            onChunk({ text: "par", tokens: 1 });
            resolve({ text: "par", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } });
          });
        }),
    });
    await tick();
    controller.abort();
    await expect(partial).rejects.toBeInstanceOf(AbortError);
    await tick();
    expect(await store.get("partial")).toBeUndefined();

    // Text without chunks would replay as an empty stream.
    const noChunks = await cache.getOrGenerate("nochunks", on, {
      generate: () => Promise.resolve({ text: "hi", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } }),
    });
    expect(noChunks.response.text).toBe("hi");
    expect(await store.get("nochunks")).toBeUndefined();
    const bad = { ...entry("hi"), finishReason: "abort" } as unknown as CachedResponse;
    expect(await cache.store("bad", bad, on)).toBe(false);
    expect(cache.counters().stored).toBe(0);
  });

  it("honours bypass, no-cache, no-store, max-age and the enabled switch", async () => {
    const { cache, store } = make();
    await store.set("k", entry("old", 1_000));
    const generate = generator("new");

    const bypass = await cache.getOrGenerate("k", BYPASS_DIRECTIVE, { generate });
    expect(bypass).toMatchObject({ cache: "bypass", response: { text: "new" } });
    expect((await store.get("k"))?.text).toBe("old");

    expect((await cache.getOrGenerate("k", cacheDirective("max-age=10"), { generate })).response.text).toBe("old");
    const stale = await cache.getOrGenerate("k", cacheDirective("max-age=1"), { generate });
    expect(stale).toMatchObject({ cache: "miss", response: { text: "new" } });

    await store.set("k", entry("old", 1_000));
    const noCache = await cache.getOrGenerate("k", cacheDirective("no-cache"), { generate });
    expect(noCache).toMatchObject({ cache: "bypass", response: { text: "new" } });
    expect((await store.get("k"))?.text).toBe("new");

    await store.delete("k");
    await cache.getOrGenerate("k", cacheDirective("no-store"), { generate });
    expect(await store.get("k")).toBeUndefined();

    const off = make(false);
    await off.cache.getOrGenerate("k", on, { generate });
    await off.cache.getOrGenerate("k", on, { generate });
    expect(off.cache.counters()).toMatchObject({ hit: 0, bypass: 2, stored: 0 });
    expect(off.cache.stats().entries).toBe(0);
  });

  it("treats a failing store as a miss and still answers", async () => {
    const broken = {
      get: () => Promise.reject(new Error("redis down")),
      set: () => Promise.reject(new Error("redis down")),
      delete: () => Promise.resolve(),
      stats: () => ({ entries: 0, bytes: 0, maxBytes: 0, evictions: 0 }),
    };
    const cache = new ResponseCache({ store: broken });
    const out = await cache.getOrGenerate("k", on, { generate: generator("fine") });
    expect(out).toMatchObject({ cache: "miss", response: { text: "fine" } });
    expect(cache.counters()).toMatchObject({ miss: 1, errors: 2, stored: 0 });
  });
});
