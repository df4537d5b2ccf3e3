/**
 * Models loaded on demand, on real shard processes with the generated tiny model: the first request
 * loads the model (and waits in the queue meanwhile), an idle model unloads after `idleUnloadMs`,
 * and `loading.maxLoadedModels: 1` evicts the least recently used idle model, never a busy one.
 */
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { startGateway, type Gateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import type { StatusBody } from "../../src/server/routes/status.js";
import { tinyModelPath } from "../helpers/gateway.js";
import { children } from "../helpers/processes.js";

interface Started {
  gateway: Gateway;
  client: OpenAI;
  logs: Array<{ msg: string; model?: string; reason?: string; for?: string }>;
  close(): Promise<void>;
}

async function start(models: Array<Record<string, unknown>>, loading: Record<string, unknown> = {}): Promise<Started> {
  const file = await tinyModelPath();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-ondemand-"));
  const config = loadConfig({
    env: {},
    raw: {
      server: { port: 0, host: "127.0.0.1" },
      dataDir,
      telemetry: { logLevel: "info" },
      // Every request must reach the model (a cache hit would not load it).
      cache: { enabled: false },
      loading,
      models: models.map((m) => ({ file, shards: 1, slots: 2, contextSize: 512, threads: 1, load: "on-demand", ...m })),
    },
  });
  const logs: Started["logs"] = [];
  const logger = createLogger({ level: "info", destination: { write: (line: string) => void logs.push(JSON.parse(line) as Started["logs"][number]) } });
  const gateway = await startGateway({ config, logger });
  return {
    gateway,
    logs,
    client: new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "test-key", maxRetries: 0 }),
    close: async () => {
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const states = async (s: Started) => Object.fromEntries((await s.client.models.list()).data.map((m) => [m.id, (m as unknown as { state: string }).state]));
const status = async (s: Started) => (await (await fetch(`${s.gateway.url}/v1/status`)).json()) as StatusBody;
const complete = (s: Started, model: string, maxTokens = 8) => s.client.completions.create({ model, prompt: "Once upon a time", max_tokens: maxTokens, temperature: 0 });

async function until(what: string, check: () => Promise<boolean> | boolean, tries = 2400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// Shard processes start slowly on a loaded machine: generous bounds, no timing assertions.
describe("models on demand", { timeout: 240_000 }, () => {
  describe("first request loads; idle unload", () => {
    let s: Started;
    beforeAll(async () => {
      s = await start([{ name: "lazy", idleUnloadMs: 1500 }]);
    }, 120_000);
    afterAll(async () => s?.close());

    it("starts no shard at startup, is ready, and lists the model as unloaded", async () => {
      expect(children()).toHaveLength(0);
      expect((await fetch(`${s.gateway.url}/readyz`)).status).toBe(200);
      expect(await states(s)).toEqual({ lazy: "unloaded" });
      const [pool] = (await status(s)).models;
      expect(pool!.load).toMatchObject({ policy: "on-demand", state: "unloaded", loads: 0, idleUnloadMs: 1500 });
    });

    it("the first request waits while the model loads (progress in /v1/status and logs), then answers", async () => {
      const answer = complete(s, "lazy");
      const seen: string[] = [];
      let progress: unknown = null;
      await until("the model to load", async () => {
        const load = (await status(s)).models[0]!.load!;
        if (seen.at(-1) !== load.state) seen.push(load.state);
        if (load.state === "loading") progress ??= load.progress;
        return load.state === "loaded";
      });
      const res = await answer;
      expect(res.choices[0]!.text.length).toBeGreaterThan(0);
      expect(seen).toContain("loading");
      expect(progress).toMatchObject({ shardsTotal: 1 });
      expect(await states(s)).toEqual({ lazy: "loaded" });
      expect(children()).toHaveLength(1);
      const msgs = s.logs.filter((l) => l.model === "lazy").map((l) => l.msg);
      expect(msgs).toEqual(expect.arrayContaining(["model loading", "model loaded"]));
    });

    it("unloads after idleUnloadMs without requests (shard process stopped), and loads again on the next request", async () => {
      await until("the idle unload", async () => (await states(s)).lazy === "unloaded");
      await until("the shard process to exit", () => children().length === 0);
      await until("the unload log line", () => s.logs.some((l) => l.msg === "model unloaded" && l.reason === "idle"));
      const res = await complete(s, "lazy");
      expect(res.choices[0]!.finish_reason).toBeDefined();
      const [pool] = (await status(s)).models;
      expect(pool!.load).toMatchObject({ state: "loaded", loads: 2, unloads: 1 });
    });

  });

  describe("maxLoadedModels: 1 with two models", () => {
    let s: Started;
    beforeAll(async () => {
      s = await start([{ name: "one" }, { name: "two" }], { maxLoadedModels: 1 });
    }, 120_000);
    afterAll(async () => s?.close());

    it("loading the second evicts the least recently used idle first (one shard process at a time)", async () => {
      await complete(s, "one");
      expect(await states(s)).toEqual({ one: "loaded", two: "unloaded" });
      await complete(s, "two");
      expect(await states(s)).toEqual({ one: "unloaded", two: "loaded" });
      expect(children()).toHaveLength(1);
      expect(s.logs.some((l) => l.msg === "evicting the least recently used idle model" && l.model === "one" && l.for === "two")).toBe(true);
      await complete(s, "one");
      expect(await states(s)).toEqual({ one: "loaded", two: "unloaded" });
      expect(children()).toHaveLength(1);
    });

    it("requests in flight on the loaded model all finish while the other model waits for room; every request answers", async () => {
      // Timing-controlled checks (a busy model is never evicted, never unloaded mid-request) are in
      // test/standalone/model-load-lifecycle.test.ts; here the real path under contention.
      const onOne = Array.from({ length: 4 }, () => complete(s, "one", 48));
      const onTwo = complete(s, "two");
      const results = await Promise.all([...onOne, onTwo]);
      for (const r of results) expect(r.choices[0]!.finish_reason).toMatch(/^(length|stop)$/);
      // Whichever came last holds the one place.
      expect(Object.values(await states(s)).sort()).toEqual(["loaded", "unloaded"]);
      expect(children()).toHaveLength(1);
    });
  });

  it("a config whose startup models exceed maxLoadedModels is refused naming the key", () => {
    expect(() =>
      loadConfig({ env: {}, raw: { loading: { maxLoadedModels: 1 }, models: [{ name: "a", file: "tiny" }, { name: "b", file: "tiny" }] } }),
    ).toThrow(/loading\.maxLoadedModels: 2 models load at startup \(a, b\)/);
  });
});
