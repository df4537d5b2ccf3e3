/**
 * DNS discovery of remote shard hosts: a gateway model `dns+http://name:port/v1`
 * in front of real mock upstreams on three loopback addresses (same port), with
 * a resolver whose answer the test changes: every address is a backend, a new
 * one joins, a gone one drains (its running stream finishes, nothing new goes
 * to it) and leaves, a failed lookup keeps the current set.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mockText, startMockUpstream, type MockUpstream } from "../../bench/mock-upstream.js";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import type { PoolSnapshot } from "../../src/router/index.js";
import { startGateway, type Gateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";

const HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];
let answer: string[] | Error = HOSTS.slice(0, 2);
let lookups = 0;
const resolver = async (host: string): Promise<string[]> => {
  lookups++;
  expect(host).toBe("shards.switchyard.test");
  if (answer instanceof Error) throw answer;
  return [...answer];
};

const upstreams = new Map<string, MockUpstream>();
let port = 0;
let gw: Gateway;
let dataDir: string;

function bindable(host: string, p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(p, host, () => s.close(() => resolve(true)));
  });
}

async function shards(): Promise<PoolSnapshot["shards"]> {
  const status = (await (await fetch(`${gw.url}/v1/status`)).json()) as { models: PoolSnapshot[] };
  return status.models.find((m) => m.model === "m")!.shards;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function chat(body: object = {}, headers: Record<string, string> = {}): Promise<{ status: number; shard: string | null; text: string }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "m", max_tokens: 2, messages: [{ role: "user", content: "hello" }], ...body }),
  });
  return { status: res.status, shard: res.headers.get("x-switchyard-shard"), text: await res.text() };
}

const id = (host: string) => `m@${host}:${port}`;
const generations = () => Object.fromEntries(HOSTS.map((h) => [h, upstreams.get(h)!.generations()]));

beforeAll(async () => {
  for (let attempt = 0; attempt < 10 && upstreams.size < HOSTS.length; attempt++) {
    const first = await startMockUpstream({ host: HOSTS[0]!, ttftMs: 60, tokensPerSecond: 40, tokens: 16 });
    port = Number(new URL(first.url).port);
    if ((await bindable(HOSTS[1]!, port)) && (await bindable(HOSTS[2]!, port))) {
      upstreams.set(HOSTS[0]!, first);
      for (const h of HOSTS.slice(1)) upstreams.set(h, await startMockUpstream({ host: h, port, ttftMs: 60, tokensPerSecond: 40, tokens: 16 }));
    } else await first.close();
  }
  dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-dns-"));
  const config = loadConfig({
    env: {},
    raw: {
      server: { host: "127.0.0.1", port: 0 },
      dataDir,
      telemetry: { logLevel: "silent" },
      cache: { enabled: false },
      models: [{ name: "m", upstream: `dns+http://shards.switchyard.test:${port}/v1`, upstreamModel: "mock", discoveryRefreshMs: 100, maxConcurrency: 4 }],
    },
  });
  gw = await startGateway({ config, logger: createLogger({ level: "silent" }), resolver });
});

afterAll(async () => {
  await gw?.close();
  for (const u of upstreams.values()) await u.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("dns+http upstream: one remote backend per resolved address", () => {
  it("every address of the name is a backend, and least-load spreads concurrent requests over them", async () => {
    expect((await shards()).map((s) => [s.id, s.kind, s.state])).toEqual([
      [id(HOSTS[0]!), "remote", "ready"],
      [id(HOSTS[1]!), "remote", "ready"],
    ]);
    const before = generations();
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => chat({ messages: [{ role: "user", content: `spread ${i}` }] })));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(new Set(results.map((r) => r.shard))).toEqual(new Set([id(HOSTS[0]!), id(HOSTS[1]!)]));
    const after = generations();
    expect(after[HOSTS[0]!]! - before[HOSTS[0]!]!).toBeGreaterThan(0);
    expect(after[HOSTS[1]!]! - before[HOSTS[1]!]!).toBeGreaterThan(0);
    expect(after[HOSTS[2]!]).toBe(before[HOSTS[2]!]);
  });

  it("a session keeps to the backend holding its conversation", async () => {
    const first = await chat({ messages: [{ role: "user", content: "session turn one" }] }, { "x-session-id": "conv-1" });
    for (let i = 0; i < 3; i++) {
      const next = await chat({ messages: [{ role: "user", content: `session turn ${i + 2}` }] }, { "x-session-id": "conv-1" });
      expect(next.shard).toBe(first.shard);
    }
  });

  it("a new address joins on the next refresh and takes requests", async () => {
    answer = [...HOSTS];
    await until("the third backend", async () => (await shards()).some((s) => s.id === id(HOSTS[2]!) && s.state === "ready"));
    const before = upstreams.get(HOSTS[2]!)!.generations();
    await Promise.all(Array.from({ length: 9 }, (_, i) => chat({ messages: [{ role: "user", content: `joined ${i}` }] })));
    expect(upstreams.get(HOSTS[2]!)!.generations()).toBeGreaterThan(before);
  });

  it("a failed lookup keeps the current backends", async () => {
    const seen = lookups;
    answer = Object.assign(new Error("getaddrinfo EAI_AGAIN shards.switchyard.test"), { code: "EAI_AGAIN" });
    await until("two more lookups", async () => lookups >= seen + 2);
    expect((await shards()).map((s) => s.id)).toEqual(HOSTS.map(id));
    expect((await chat()).status).toBe(200);
  });

  it("a gone address drains: its running stream finishes, no new request goes to it, then it leaves the pool", async () => {
    answer = [...HOSTS];
    // A long stream; its headers name the backend it runs on.
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", max_tokens: 16, stream: true, messages: [{ role: "user", content: "a long answer please" }] }),
    });
    expect(res.status).toBe(200);
    const gone = res.headers.get("x-switchyard-shard")!;
    const goneHost = HOSTS.find((h) => id(h) === gone)!;
    answer = HOSTS.filter((h) => h !== goneHost);
    await until("the backend to drain", async () => (await shards()).some((s) => s.id === gone && s.draining === true));
    const before = upstreams.get(goneHost)!.generations();
    const meanwhile = await Promise.all(Array.from({ length: 6 }, (_, i) => chat({ messages: [{ role: "user", content: `while draining ${i}` }] })));
    expect(meanwhile.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(meanwhile.map((r) => r.shard)).not.toContain(gone);
    expect(upstreams.get(goneHost)!.generations()).toBe(before);
    // The stream that was running there ends whole.
    const body = await res.text();
    expect(body.trim().endsWith("data: [DONE]")).toBe(true);
    const chunks = body
      .split("\n")
      .filter((l) => l.startsWith("data: {"))
      .map((l) => JSON.parse(l.slice(6)) as { choices: Array<{ delta?: { content?: string }; finish_reason?: string | null }> });
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe(mockText(16));
    expect(chunks.some((c) => c.choices[0]?.finish_reason === "stop")).toBe(true);
    await until("the drained backend to leave", async () => !(await shards()).some((s) => s.id === gone));
    expect((await shards()).map((s) => s.id).sort()).toEqual(answer.map(id).sort());
  });

  it("refuses an upstream scheme it cannot serve", () => {
    expect(() => loadConfig({ env: {}, raw: { models: [{ name: "x", upstream: "dns+ftp://a:1/v1" }] } })).toThrow(ConfigError);
  });
});
