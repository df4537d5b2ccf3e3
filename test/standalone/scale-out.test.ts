/**
 * Two real gateways (real sockets, the official OpenAI client) sharing one
 * real redis-server, in front of one mock upstream: limits hold across them,
 * a cached answer from one is a hit on the other, identical concurrent misses
 * generate once, and killing Redis mid-run costs no 5xx and no slow request.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream, type MockUpstream } from "../../bench/mock-upstream.js";
import { loadConfig } from "../../src/config/index.js";
import { startGateway, type Gateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { hasRedisServer, startRedisServer, type RedisServer } from "../helpers/redis-server.js";

const KEYS = {
  rpm: "sk-scale-rpm-000000", // 6 requests/min, shared
  outage: "sk-scale-outage-000", // 4 requests/min: 2 per replica while Redis is down
  open: "sk-scale-open-00000", // unlimited
};

let redis: RedisServer;
let upstream: MockUpstream;
const gateways: Gateway[] = [];
const dirs: string[] = [];

async function gateway(): Promise<Gateway> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-scale-"));
  dirs.push(dataDir);
  const config = loadConfig({
    env: { SWITCHYARD_REDIS_URL: redis.url },
    raw: {
      server: { host: "127.0.0.1", port: 0, drainTimeoutMs: 2000 },
      dataDir,
      telemetry: { logLevel: "silent", metricsKey: METRICS_KEY },
      models: [{ name: "m", upstream: `${upstream.url}/v1`, upstreamModel: "mock" }],
      auth: {
        keys: [
          { key: KEYS.rpm, tenant: "acme", requestsPerMinute: 6 },
          { key: KEYS.outage, tenant: "acme", requestsPerMinute: 4 },
          { key: KEYS.open, tenant: "acme" },
        ],
      },
      // A deadline that a loaded 2-core CI machine meets (production default: 50 ms).
      redis: { replicas: 2, commandTimeoutMs: 800, reconnectMaxMs: 200 },
    },
  });
  const gw = await startGateway({ config, logger: createLogger({ level: "silent" }) });
  gateways.push(gw);
  return gw;
}

/** With API keys configured, /metrics needs an admin key or the metrics key. */
const METRICS_KEY = "scale-metrics-key-0001";
const METRICS_AUTH = { headers: { authorization: `Bearer ${METRICS_KEY}` } };

const client = (gw: Gateway, key: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0, timeout: 10_000 });

async function post(gw: Gateway, key: string, body: object): Promise<{ status: number; ms: number; cache: string | null; text: string }> {
  const started = performance.now();
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "m", max_tokens: 8, ...body }),
  });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - started, cache: res.headers.get("x-switchyard-cache"), text };
}

describe.skipIf(!hasRedisServer)("two gateway replicas sharing one Redis", () => {
  let a: Gateway;
  let b: Gateway;

  beforeAll(async () => {
    redis = await startRedisServer();
    upstream = await startMockUpstream({ ttftMs: 150, tokensPerSecond: 400, tokens: 8 });
    a = await gateway();
    b = await gateway();
  });

  afterAll(async () => {
    for (const gw of gateways.reverse()) await gw.close();
    await upstream?.close();
    await redis?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("holds a key's requests/min across replicas: at most N of 3N admitted", async () => {
    const results = await Promise.all(
      Array.from({ length: 18 }, (_, i) => post(i % 2 ? b : a, KEYS.rpm, { temperature: 1, messages: [{ role: "user", content: `limit ${i}` }] })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(6);
    expect(statuses.filter((s) => s === 429)).toHaveLength(12);
    // Decided in Redis, not by the outage fallback.
    expect(await (await fetch(`${a.url}/metrics`, METRICS_AUTH)).text()).not.toMatch(/switchyard_redis_fallbacks_total\{piece="limits"\}/);
    const refused = results.find((r) => r.status === 429)!;
    expect(JSON.parse(refused.text)).toMatchObject({ error: { type: "rate_limit_error", code: "rate_limit_exceeded" } });
  });

  it("a cached answer from one replica is a hit on the other", async () => {
    const body = { temperature: 0, messages: [{ role: "user" as const, content: "cache me across replicas" }] };
    const before = upstream.generations();
    const first = await client(a, KEYS.open).chat.completions.create({ model: "m", max_tokens: 8, ...body }).withResponse();
    expect(first.response.headers.get("x-switchyard-cache")).toBe("miss");
    const second = await client(b, KEYS.open).chat.completions.create({ model: "m", max_tokens: 8, ...body }).withResponse();
    expect(second.response.headers.get("x-switchyard-cache")).toBe("hit");
    expect(second.data.choices[0]!.message.content).toBe(first.data.choices[0]!.message.content);
    expect(upstream.generations() - before).toBe(1);
  });

  it("identical concurrent misses on two replicas generate once", async () => {
    const body = { temperature: 0, messages: [{ role: "user" as const, content: "one generation for both replicas" }] };
    const before = upstream.generations();
    const streamed = async (gw: Gateway) => {
      const stream = await client(gw, KEYS.open).chat.completions.create({ model: "m", max_tokens: 8, stream: true, ...body });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
      return text;
    };
    const [fromA, fromB] = await Promise.all([streamed(a), streamed(b)]);
    expect(fromA.length).toBeGreaterThan(0);
    expect(fromB).toBe(fromA);
    expect(upstream.generations() - before).toBe(1);
  });

  it("Redis killed mid-run: no 5xx, no request over 1 s, limits fall back to 1/replicas; shared again once Redis is back", async () => {
    await redis.kill();
    const during = [];
    for (let i = 0; i < 8; i++) {
      during.push(await post(i % 2 ? b : a, KEYS.outage, { temperature: 0, messages: [{ role: "user", content: `outage ${i}` }] }));
    }
    for (const r of during) {
      expect(r.status, r.text).toBeLessThan(500);
      expect(r.ms).toBeLessThan(1000);
    }
    // 4/min shared by 2 replicas: each admits 2 on its own.
    expect(during.filter((r) => r.status === 200)).toHaveLength(4);
    expect(during.filter((r) => r.status === 429)).toHaveLength(4);
    const ready = await fetch(`${a.url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${a.url}/metrics`, METRICS_AUTH)).text();
    expect(metrics).toMatch(/^switchyard_redis_up 0$/m);
    expect(metrics).toMatch(/^switchyard_redis_fallbacks_total\{piece="limits"\} [1-9]/m);

    await redis.restart();
    const deadline = Date.now() + 10_000;
    const up = async (gw: Gateway) => /^switchyard_redis_up 1$/m.test(await (await fetch(`${gw.url}/metrics`, METRICS_AUTH)).text());
    while (Date.now() < deadline && !((await up(a)) && (await up(b)))) {
      await new Promise((r) => setTimeout(r, 100));
    }
    // The restarted Redis is empty: the shared bucket is full again, and shared: 4 of 8 across both.
    const after = [];
    for (let i = 0; i < 8; i++) after.push(await post(i % 2 ? b : a, KEYS.outage, { temperature: 1, messages: [{ role: "user", content: `after ${i}` }] }));
    expect(after.filter((r) => r.status === 200)).toHaveLength(4);
  });
});
