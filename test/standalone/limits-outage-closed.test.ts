/**
 * `redis.limitsOnOutage: closed` on a real gateway over a real redis-server (killed mid-run, then restarted):
 * while Redis is down a key with limits is refused at once with an honest 503 in OpenAI's envelope (529
 * `overloaded_error` in Anthropic's on /v1/messages) and a `Retry-After`, never a hang; a key without limits
 * and a stream already running are untouched, `/readyz` stays ready; once Redis is back the limits are
 * decided in Redis again (admitted up to the limit, then 429).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream, type MockUpstream } from "../../bench/mock-upstream.js";
import { loadConfig } from "../../src/config/index.js";
import { startGateway, type Gateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { hasRedisServer, startRedisServer, type RedisServer } from "../helpers/redis-server.js";

const LIMITED = "sk-closed-limited-0001"; // 3 requests/min
const OPEN = "sk-closed-open-000001"; // no limits: not tracked, never refused for Redis
const METRICS_KEY = "closed-metrics-key-0001";

describe.skipIf(!hasRedisServer)("limitsOnOutage: closed", () => {
  let redis: RedisServer;
  let upstream: MockUpstream;
  let gw: Gateway;
  let dataDir: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    upstream = await startMockUpstream({ ttftMs: 50, tokensPerSecond: 200, tokens: 8 });
    dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-closed-"));
    const config = loadConfig({
      env: { SWITCHYARD_REDIS_URL: redis.url },
      raw: {
        server: { host: "127.0.0.1", port: 0, drainTimeoutMs: 2000 },
        dataDir,
        cache: { enabled: false },
        telemetry: { logLevel: "silent", metricsKey: METRICS_KEY },
        models: [{ name: "m", upstream: `${upstream.url}/v1`, upstreamModel: "mock" }],
        auth: {
          keys: [
            { key: LIMITED, tenant: "acme", requestsPerMinute: 3 },
            { key: OPEN, tenant: "acme" },
          ],
        },
        // A deadline that a loaded 2-core CI machine meets (production default: 50 ms).
        redis: { limitsOnOutage: "closed", commandTimeoutMs: 800, reconnectMaxMs: 200 },
      },
    });
    gw = await startGateway({ config, logger: createLogger({ level: "silent" }) });
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await redis?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const post = async (key: string, route = "/v1/chat/completions") => {
    const started = performance.now();
    const res = await fetch(`${gw.url}${route}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hello" }] }),
    });
    return { status: res.status, ms: performance.now() - started, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as Record<string, unknown> };
  };
  const redisUp = async () => /^switchyard_redis_up 1$/m.test(await (await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_KEY}` } })).text());

  it("refuses limited keys with a prompt 503 + Retry-After while Redis is down, and shares limits again once it is back", { timeout: 60_000 }, async () => {
    // Redis decides: 3 admitted, the 4th refused.
    const before = [];
    for (let i = 0; i < 4; i++) before.push((await post(LIMITED)).status);
    expect(before).toEqual([200, 200, 200, 429]);

    // Killed mid-run: a stream is running when Redis dies.
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: OPEN, maxRetries: 0, timeout: 10_000 });
    const stream = await client.chat.completions.create({ model: "m", max_tokens: 8, stream: true, messages: [{ role: "user", content: "streaming through the outage" }] });
    await redis.kill();
    let streamed = "";
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? "";
    expect(streamed.length).toBeGreaterThan(0);

    for (let i = 0; i < 5; i++) {
      const r = await post(LIMITED);
      expect(r.status, JSON.stringify(r.body)).toBe(503);
      expect(r.ms).toBeLessThan(1000);
      expect(r.retryAfter).toBe("1");
      expect(r.body).toEqual({ error: { message: expect.stringMatching(/rate limits cannot be checked/i), type: "server_error", param: null, code: "service_unavailable" } });
    }
    // The official client sees an APIError with the status and the header (its retry loop would honour it).
    const err = await new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: LIMITED, maxRetries: 0, timeout: 10_000 }).chat.completions
      .create({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(503);
    expect((err as APIError).headers?.get("retry-after")).toBe("1");
    // Anthropic's envelope on /v1/messages: our 503 is its 529 overloaded_error, with the same Retry-After.
    const messages = await post(LIMITED, "/v1/messages");
    expect(messages.status).toBe(529);
    expect(messages.retryAfter).toBe("1");
    expect(messages.body).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
    expect(messages.ms).toBeLessThan(1000);
    // A key without limits does not depend on Redis; the replica stays ready.
    const open = await post(OPEN);
    expect(open.status).toBe(200);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    expect(await redisUp()).toBe(false);

    await redis.restart();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !(await redisUp())) await new Promise((r) => setTimeout(r, 100));
    expect(await redisUp()).toBe(true);
    // The restarted Redis is empty: the key's window is full again, and enforced in Redis again.
    const after = [];
    for (let i = 0; i < 4; i++) after.push(await post(LIMITED));
    expect(after.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(after[3]!.body).toMatchObject({ error: { type: "rate_limit_error", code: "rate_limit_exceeded" } });
  });
});
