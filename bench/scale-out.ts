/**
 * Scale-out with shared state: aggregate throughput of 2 gateway replicas vs 1
 * in front of the same mock upstream (every replica a process of its own,
 * sharing one redis-server), and the Redis cost per request (p50 latency of a
 * rate-limited key with limits in Redis vs in memory).
 *
 *   tsx bench/scale-out.ts [--seconds 5] [--concurrency 32] [--sequential 300]
 *
 * Needs `redis-server` on PATH. Results: results/scale-out.json and a markdown
 * table on stdout. On a 2-core machine two replicas share the cores with the
 * mock, Redis and the load generator, so the ratio shows the cost of sharing
 * state rather than the gain of another machine.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { serveForParent, spawnRole, startMockGateway, stopRoles, type SpawnedRole } from "./bench-roles.js";
import { startRedisServer } from "../test/helpers/redis-server.js";
import { startMockUpstream } from "./mock-upstream.js";
import { machineInfo, markdownTable, percentile, round, writeResult } from "./stats.js";

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    upstream: { type: "string" },
    redis: { type: "string" },
    seconds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "32" },
    sequential: { type: "string", default: "300" },
  },
});

const KEY = "sk-bench-scale-out-0000";

async function serveRole(role: string): Promise<void> {
  if (role === "mock") return serveForParent(await startMockUpstream({ ttftMs: 5, tokensPerSecond: 0, tokens: 16 }));
  if (!values.upstream) throw new Error("--role gateway needs --upstream URL");
  const { server, cleanup } = await startMockGateway({
    upstream: values.upstream,
    env: values.redis ? { SWITCHYARD_REDIS_URL: values.redis } : {},
    model: { slots: 1024 },
    raw: {
      telemetry: { logLevel: "warn" },
      cache: { enabled: false },
      queue: { maxDepth: 100_000, maxWaitMs: 60_000 },
      // A limited key: every request runs the admission script (and settles its tokens).
      auth: { keys: [{ key: KEY, tenant: "bench", requestsPerMinute: 10_000_000, tokensPerMinute: 1_000_000_000 }] },
    },
  });
  serveForParent(server, cleanup);
}

async function request(url: string, i: number): Promise<{ ok: boolean; ms: number }> {
  const started = performance.now();
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: "mock", temperature: 1, max_tokens: 16, messages: [{ role: "user", content: `request ${i}` }] }),
    });
    await res.arrayBuffer();
    return { ok: res.ok, ms: performance.now() - started };
  } catch {
    return { ok: false, ms: performance.now() - started };
  }
}

/** Closed loop: `concurrency` workers, round robin over `urls`, for `seconds`. */
async function throughput(urls: string[], seconds: number, concurrency: number) {
  const end = performance.now() + seconds * 1000;
  let i = 0;
  let ok = 0;
  let failed = 0;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const n = i++;
        const r = await request(urls[n % urls.length]!, n);
        if (r.ok) ok++;
        else failed++;
        latencies.push(r.ms);
      }
    }),
  );
  return { requestsPerSecond: round(ok / seconds, 1), failed, p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)) };
}

async function sequentialP50(url: string, n: number): Promise<number> {
  const latencies: number[] = [];
  for (let i = 0; i < 20; i++) await request(url, -i); // warm-up
  for (let i = 0; i < n; i++) latencies.push((await request(url, i)).ms);
  return round(percentile(latencies, 50), 3);
}

async function main(): Promise<void> {
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const redis = await startRedisServer();
  const self = fileURLToPath(import.meta.url);
  const children: SpawnedRole[] = [];
  try {
    const mock = await spawnRole(self, "mock");
    children.push(mock);
    const gw = async (withRedis: boolean) => {
      const r = await spawnRole(self, "gateway", ["--upstream", mock.url, ...(withRedis ? ["--redis", redis.url] : [])]);
      children.push(r);
      return r.url;
    };
    const shared1 = await gw(true);
    const shared2 = await gw(true);
    const local = await gw(false);
    await throughput([shared1, shared2, local], 1, 8); // warm-up
    const one = await throughput([shared1], seconds, concurrency);
    const two = await throughput([shared1, shared2], seconds, concurrency);
    const p50Local = await sequentialP50(local, Number(values.sequential));
    const p50Redis = await sequentialP50(shared1, Number(values.sequential));
    const result = {
      machine: machineInfo(),
      seconds,
      concurrency,
      oneReplica: one,
      twoReplicas: two,
      ratioTwoVsOne: round(two.requestsPerSecond / one.requestsPerSecond, 2),
      p50MsInMemoryLimits: p50Local,
      p50MsRedisLimits: p50Redis,
      redisCostP50Ms: round(p50Redis - p50Local, 3),
    };
    const file = writeResult("scale-out", result);
    console.log(
      markdownTable(
        ["setup", "req/s", "p50 ms", "p99 ms", "failed"],
        [
          ["1 replica (Redis limits)", one.requestsPerSecond, one.p50Ms, one.p99Ms, one.failed],
          ["2 replicas (shared Redis)", two.requestsPerSecond, two.p50Ms, two.p99Ms, two.failed],
        ],
      ),
    );
    console.log(`\n2 vs 1: ${result.ratioTwoVsOne}×; sequential p50 ${p50Local} ms in-memory limits vs ${p50Redis} ms Redis limits (+${result.redisCostP50Ms} ms)\nwrote ${file}`);
  } finally {
    stopRoles(children);
    await redis.stop();
  }
}

if (values.role) await serveRole(values.role);
else await main();
