/**
 * Two real gateway processes sharing one real redis-server, in front of real
 * mock upstreams on loopback: what one replica learns about a remote upstream
 * (it is dead), a session (which backend holds its prefix) or a stored
 * Responses-API response, the other replica knows too.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream, type MockUpstream } from "../../bench/mock-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { hasRedisServer, startRedisServer, type RedisServer } from "../helpers/redis-server.js";

const KEY = "sk-replicas-routing-0000";

let redis: RedisServer | undefined;
let upstream: MockUpstream | undefined;
let dead: MockUpstream | undefined;
let deadPort = 0;
const replicas: GatewayProcess[] = [];

function config(): Record<string, unknown> {
  return {
    telemetry: { logLevel: "warn" },
    auth: { keys: [{ key: KEY, tenant: "acme", admin: true }] },
    cache: { enabled: false },
    // One slot per remote backend: which backend answers is decided by affinity, then by least recent use.
    models: [
      { name: "m", upstream: `${upstream!.url}/v1`, upstreamModel: "mock", shards: 2, maxConcurrency: 1 },
      { name: "dead", upstream: `http://127.0.0.1:${deadPort}/v1`, upstreamModel: "mock" },
    ],
    retry: { attempts: 0 },
    breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000, rollingCountTimeoutMs: 60_000 },
    // A deadline a loaded CI machine meets (production default: 50 ms); refresh fast so the test is short.
    redis: { commandTimeoutMs: 800, refreshMs: 200 },
  };
}

const clientOf = (gw: GatewayProcess) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0, timeout: 10_000 });

async function chat(gw: GatewayProcess, model: string, content: string, session?: string): Promise<{ status: number; shard: string | null; body: string }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}`, ...(session ? { "x-session-id": session } : {}) },
    body: JSON.stringify({ model, max_tokens: 4, messages: [{ role: "user", content }] }),
  });
  return { status: res.status, shard: res.headers.get("x-switchyard-shard"), body: await res.text() };
}

describe.skipIf(!hasRedisServer)("two gateway processes share breakers, affinity and stored responses through Redis", () => {
  let a: GatewayProcess;
  let b: GatewayProcess;

  beforeAll(async () => {
    redis = await startRedisServer();
    upstream = await startMockUpstream({ ttftMs: 5, tokensPerSecond: 0, tokens: 4 });
    dead = await startMockUpstream({ ttftMs: 5, tokensPerSecond: 0, tokens: 4 });
    deadPort = Number(new URL(dead.url).port);
    const env = { SWITCHYARD_REDIS_URL: redis.url };
    [a, b] = await Promise.all([startGatewayProcess({ config: config(), env }), startGatewayProcess({ config: config(), env })]);
    replicas.push(a, b);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await upstream?.close();
    await dead?.close();
    await redis?.stop();
  });

  it("a response stored on replica A is found on replica B: GET, input_items and previous_response_id", async () => {
    const first = await clientOf(a).responses.create({ model: "m", input: "one two three four five six seven eight", max_output_tokens: 16 });
    expect(first.status).toBe("completed");
    const fetched = await clientOf(b).responses.retrieve(first.id);
    expect(fetched.id).toBe(first.id);
    expect(fetched.output_text).toBe(first.output_text);
    const items = await clientOf(b).responses.inputItems.list(first.id);
    expect(JSON.stringify(items.data)).toContain("one two three");
    // The follow-up on B carries A's turn: the mock counts prompt words, so its input grew by A's input and answer.
    const alone = await clientOf(b).responses.create({ model: "m", input: "and nine", max_output_tokens: 16 });
    const next = await clientOf(b).responses.create({ model: "m", input: "and nine", previous_response_id: first.id, max_output_tokens: 16 });
    expect(next.usage!.input_tokens).toBeGreaterThanOrEqual(alone.usage!.input_tokens + 8);
    // Deleted on B: gone on A too.
    await clientOf(b).responses.delete(first.id);
    await expect(clientOf(a).responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
  });

  it("session affinity holds across replicas: B sends each session to the backend A chose", async () => {
    const sessions = ["s1", "s2", "s3", "s4"];
    const onA = new Map<string, string>();
    for (const s of sessions) {
      const r = await chat(a, "m", `affinity turn one of ${s}`, s);
      expect(r.status, r.body).toBe(200);
      onA.set(s, r.shard!);
    }
    // A spread them over both backends (least recently used first).
    expect(new Set(onA.values()).size).toBe(2);
    // B, in another order (its own least-recently-used choice would put s2 on the first backend).
    for (const s of ["s2", "s4", "s1", "s3"]) {
      const r = await chat(b, "m", `affinity turn two of ${s}`, s);
      expect(r.status, r.body).toBe(200);
      expect(r.shard, s).toBe(onA.get(s));
    }
  });

  it("an upstream replica A found dead is skipped by replica B without a request to it", async () => {
    await dead!.close();
    let tripped = false;
    for (let i = 0; i < 10 && !tripped; i++) {
      const r = await chat(a, "dead", `dead ${i}`);
      expect(r.status).toBeGreaterThanOrEqual(500);
      tripped = r.body.includes("out of rotation");
    }
    expect(tripped).toBe(true);
    // The upstream is back, but B has it as open through A's report: nothing reaches it.
    dead = await startMockUpstream({ port: deadPort, ttftMs: 5, tokensPerSecond: 0, tokens: 4 });
    await new Promise((r) => setTimeout(r, 600)); // > refreshMs: B re-read the shared state
    const onB = await chat(b, "dead", "is it dead?");
    expect(onB.status, onB.body).toBe(503);
    expect(JSON.parse(onB.body)).toMatchObject({ error: { code: "server_is_overloaded" } });
    expect(onB.body).toContain("out of rotation");
    expect(dead.generations()).toBe(0);
    // The status page of B shows the breaker open though B itself saw no failure.
    const status = (await (await fetch(`${b.url}/v1/status`, { headers: { authorization: `Bearer ${KEY}` } })).json());
    expect(JSON.stringify(status)).toMatch(/"breaker":"open"/);
  });
});
