/**
 * Configuration without restarts, on real shard processes with the tiny model: a reload that changes
 * the model's settings starts new shards first and drains the old ones under a bounded load loop with
 * zero failed requests; keys changed take effect at once; an invalid config is refused naming the key
 * and the running config keeps serving; /v1/status shows the config version.
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

const ADMIN = "admin-key-0001";
const USER = "user-key-0001";
const LATE = "late-key-0001";

describe("config reload", { timeout: 300_000 }, () => {
  let gateway: Gateway;
  let raw: Record<string, unknown> & { models: Array<Record<string, unknown>>; auth: { keys: Array<Record<string, unknown>> } };
  let dataDir: string;
  beforeAll(async () => {
    const file = await tinyModelPath();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-reload-"));
    raw = {
      server: { port: 0, host: "127.0.0.1" },
      dataDir,
      telemetry: { logLevel: "silent" },
      cache: { enabled: false },
      auth: {
        keys: [
          { key: ADMIN, tenant: "ops", admin: true },
          { key: USER, tenant: "a" },
        ],
      },
      models: [{ name: "tiny", file, shards: 1, slots: 2, contextSize: 512, threads: 1, fallback: "none" }],
    };
    gateway = await startGateway({
      config: loadConfig({ env: {}, raw }),
      logger: createLogger({ level: "silent" }),
      reloadConfig: () => loadConfig({ env: {}, raw: structuredClone(raw) }),
    });
  }, 180_000);
  afterAll(async () => {
    await gateway?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const client = (key: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
  const reload = () => fetch(`${gateway.url}/v1/admin/reload`, { method: "POST", headers: { authorization: `Bearer ${ADMIN}` } });
  const status = async () => (await (await fetch(`${gateway.url}/v1/status`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as StatusBody;

  it("starts at config version 1", async () => {
    expect((await status()).config).toMatchObject({ version: 1 });
  });

  it("a model whose settings changed gets new shards while a load loop runs: zero failed requests; a new key works at once", async () => {
    const user = client(USER);
    const failures: unknown[] = [];
    let ok = 0;
    let reloaded = false;
    let afterReload = 0;
    // Bounded: four workers, until the reload is done and each has finished 3 more requests (at most 5,000 each).
    const worker = async () => {
      let mine = 0;
      for (let i = 0; i < 5000 && mine < 3; i++) {
        try {
          await user.completions.create({ model: "tiny", prompt: `load ${i}`, max_tokens: 4, temperature: 0 });
          ok++;
          if (reloaded) {
            mine++;
            afterReload++;
          }
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const loop = Promise.all([worker(), worker(), worker(), worker()]);
    while (ok < 4) await new Promise((r) => setTimeout(r, 20));
    const before = children();
    expect(before).toHaveLength(1);
    raw.models[0]!.slots = 3;
    raw.auth.keys.push({ key: LATE, tenant: "b" });
    raw.limits = { maxTokensCap: 2048 };
    const res = await reload();
    reloaded = true;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ changed: true, config: { version: 2 }, models: { started: ["tiny"], retired: ["tiny"] } });
    await loop;
    expect(failures).toEqual([]);
    expect(afterReload).toBeGreaterThan(0);
    // The old shard process is stopped once its requests drained; the new one serves.
    for (let i = 0; i < 600 && children().some((pid) => before.includes(pid)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(children().filter((pid) => before.includes(pid))).toEqual([]);
    expect(children()).toHaveLength(1);
    const s = await status();
    expect(s.config).toMatchObject({ version: 2 });
    expect(s.models[0]!.shards[0]!.slotsTotal).toBe(3);
    const late = await client(LATE).completions.create({ model: "tiny", prompt: "hi", max_tokens: 2 });
    expect(late.choices).toHaveLength(1);
  });

  it("an invalid config is refused naming the key; the running config keeps serving", async () => {
    const pids = children();
    raw.models[0]!.shards = 0;
    const res = await reload();
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("invalid_config");
    expect(body.error.message).toMatch(/models\[0\]\.shards/);
    raw.models[0]!.shards = 1;
    expect((await status()).config).toMatchObject({ version: 2 });
    expect(children()).toEqual(pids);
    const answer = await client(USER).completions.create({ model: "tiny", prompt: "still here", max_tokens: 2 });
    expect(answer.choices).toHaveLength(1);
  });

  it("a restart-only key is refused naming it", async () => {
    (raw.server as Record<string, unknown>).port = 1;
    const res = await reload();
    (raw.server as Record<string, unknown>).port = 0;
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/server\.port: changing it needs a restart/);
  });

  it("keys removed stop working at once, models unchanged keep their shards; tenants cannot reload", async () => {
    const pids = children();
    expect((await fetch(`${gateway.url}/v1/admin/reload`, { method: "POST", headers: { authorization: `Bearer ${USER}` } })).status).toBe(403);
    raw.auth.keys = raw.auth.keys.filter((k) => k.key !== USER);
    const res = await reload();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ config: { version: 3 }, models: { started: [], kept: ["tiny"], retired: [] } });
    const err = (await client(USER)
      .completions.create({ model: "tiny", prompt: "x", max_tokens: 1 })
      .catch((e: unknown) => e)) as { status: number };
    expect(err.status).toBe(401);
    expect(children()).toEqual(pids);
    // Same config again: nothing changes.
    expect(await (await reload()).json()).toMatchObject({ changed: false, config: { version: 3 } });
  });

  it("close while a replaced generation still drains a stream: the shards of both generations end before close resolves", async () => {
    const stream = await client(LATE).completions.create({ model: "tiny", prompt: "hold the old generation", max_tokens: 300, temperature: 0, stream: true });
    const reader = stream[Symbol.asyncIterator]();
    expect((await reader.next()).done).toBe(false);
    const before = children();
    raw.models[0]!.slots = 2;
    const res = await reload();
    expect(await res.json()).toMatchObject({ changed: true, models: { started: ["tiny"], retired: ["tiny"] } });
    // The old shard still serves the stream; the new one is up.
    expect(children()).toEqual(expect.arrayContaining(before));
    expect(children().length).toBeGreaterThan(before.length);
    const closed = gateway.close();
    for (let r = await reader.next(); !r.done; r = await reader.next());
    await closed;
    expect(children()).toEqual([]);
  });
});
