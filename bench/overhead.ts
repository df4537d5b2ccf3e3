/**
 * Gateway overhead, side by side in one run (issue #12's table): closed loop,
 * `--connections` (default 50) autocannon connections per phase.
 *
 * Proxied requests, non-streamed and streamed (unique content each, so nothing
 * may answer from a cache):
 *   - the mock upstream alone (reference),
 *   - a minimal Hono + undici Pool proxy in front of it (the ceiling),
 *   - Switchyard with its default config and one remote model on the mock.
 * Fixed answers (same request every time):
 *   - a bare Hono app that parses the body and returns a fixed chat completion
 *     (reference) vs a Switchyard JSON cache hit and an SSE replay of a hit,
 *   - the bare app's GET /healthz vs Switchyard's.
 * CPU per request of each server comes from /proc/<pid>/stat over the phase.
 * Every phase runs once per round, the rounds one after the other, and each
 * ratio is the median of its per-round ratios: on a shared machine the load
 * changes within seconds, so a reference and its subject are measured close
 * together in time.
 *
 *   tsx bench/overhead.ts [--seconds 3] [--rounds 3] [--warmup 1] [--connections 50]
 *                         [--ttft-ms 20] [--tokens 16] [--tps 400]
 *
 * Every server runs in a process of its own; on a small machine they still
 * share the cores with the load generator and with each other, so the load
 * average is recorded with the figures. Results: results/overhead.json (+ a
 * timestamped copy) and a markdown table on stdout.
 */
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import autocannon from "autocannon";
import { Hono } from "hono";
import { Pool } from "undici";
import { FIXED_COMPLETION, serveForParent, spawnRole, startMockGateway, stopRoles, type RoleServer, type SpawnedRole } from "./bench-roles.js";
import { startMockUpstream } from "./mock-upstream.js";
import { overheadTables, type OverheadFigures } from "./report-overhead.js";
import { machineInfo, median, round, writeResult } from "./stats.js";

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    upstream: { type: "string" },
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    connections: { type: "string", default: "50" },
    "ttft-ms": { type: "string", default: "20" },
    tokens: { type: "string", default: "16" },
    tps: { type: "string", default: "400" },
  },
});

const num = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
  return n;
};

function listen(app: Hono): Promise<RoleServer> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      }),
    );
  });
}

/** The ceiling: what any Node proxy on Hono + undici costs, with nothing else. */
async function minimalProxy(upstream: string): Promise<RoleServer> {
  const pool = new Pool(upstream, { connections: 64, pipelining: 1 });
  const app = new Hono();
  app.post("/v1/chat/completions", async (c) => {
    const body = await c.req.text();
    const res = await pool.request({ path: "/v1/chat/completions", method: "POST", headers: { "content-type": "application/json" }, body });
    const type = String(res.headers["content-type"] ?? "application/json");
    if (!type.startsWith("text/event-stream")) return c.body(await res.body.text(), res.statusCode as 200, { "content-type": type });
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        for await (const chunk of res.body) controller.enqueue(chunk as Uint8Array);
        controller.close();
      },
    });
    return c.body(stream, 200, { "content-type": type, "cache-control": "no-cache" });
  });
  const server = await listen(app);
  return { url: server.url, close: async () => (await server.close(), await pool.close()) };
}

/** The reference for fixed answers: same body parse, a fixed completion, and a health route. */
function bareApp(): Promise<RoleServer> {
  const app = new Hono();
  app.post("/v1/chat/completions", async (c) => {
    await c.req.json();
    return c.json(FIXED_COMPLETION);
  });
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  return listen(app);
}

async function serveRole(role: string): Promise<void> {
  if (role === "mock") return serveForParent(await startMockUpstream({ ttftMs: num("ttft-ms"), tokensPerSecond: num("tps"), tokens: num("tokens") }));
  if (role === "bare") return serveForParent(await bareApp());
  if (!values.upstream) throw new Error(`--role ${role} needs --upstream URL`);
  if (role === "proxy") return serveForParent(await minimalProxy(values.upstream));
  if (role === "gateway") {
    // The default config: cache on (the proxied requests are sampled, so they bypass it), access log at info.
    const { server, cleanup } = await startMockGateway({ upstream: values.upstream });
    return serveForParent(server, cleanup);
  }
  throw new Error(`unknown role '${role}'`);
}

// ---- load ----

interface Phase {
  name: string;
  server: "mock" | "proxy" | "gateway" | "bare";
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  errors: number;
  non2xx: number;
  /** CPU ms per completed request of the server under test (and of the mock behind it, when proxied). */
  cpuMsPerRequest: number;
  mockCpuMsPerRequest?: number;
}

interface Load {
  path: string;
  method?: "GET" | "POST";
  /** `[<id>]` is replaced by a unique id per request. */
  body?: string;
}

const connections = num("connections");

async function run(url: string, load: Load, seconds: number) {
  return autocannon({
    url: `${url}${load.path}`,
    method: load.method ?? "POST",
    headers: { "content-type": "application/json" },
    ...(load.body ? { body: load.body, idReplacement: load.body.includes("[<id>]") } : {}),
    connections,
    duration: seconds,
  });
}

async function phase(name: string, server: Phase["server"], target: SpawnedRole, load: Load, mock?: SpawnedRole): Promise<Phase> {
  const warmup = num("warmup");
  if (warmup > 0) await run(target.url, load, warmup);
  const c0 = target.cpuMs();
  const m0 = mock?.cpuMs() ?? 0;
  const r = await run(target.url, load, num("seconds"));
  const ok = r["2xx"];
  const per = (ms: number) => round(ms / Math.max(1, ok), 3);
  const p: Phase = {
    name,
    server,
    requestsPerSecond: round(ok / r.duration, 1),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    ok,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    cpuMsPerRequest: per(target.cpuMs() - c0),
    ...(mock && mock !== target ? { mockCpuMsPerRequest: per(mock.cpuMs() - m0) } : {}),
  };
  console.error(`  ${name}: ${p.requestsPerSecond} req/s, p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms, CPU ${p.cpuMsPerRequest} ms/request, errors ${p.errors}, non-2xx ${p.non2xx}`);
  return p;
}

const proxied = (stream: boolean): Load => ({
  path: "/v1/chat/completions",
  // Unique content; default temperature (sampled): nothing along the way may answer from a cache.
  body: JSON.stringify({ model: "mock", messages: [{ role: "user", content: "Where is my order [<id>]?" }], max_tokens: 64, ...(stream ? { stream: true } : {}) }),
});
const fixedRequest = { model: "mock", messages: [{ role: "user", content: "How do I reset my password?" }], max_tokens: 32, temperature: 0 };
const fixed = (stream: boolean): Load => ({ path: "/v1/chat/completions", body: JSON.stringify({ ...fixedRequest, ...(stream ? { stream: true } : {}) }) });

async function primeCache(url: string): Promise<void> {
  for (const stream of [false, true, false]) {
    const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: fixed(stream).body! });
    await res.text();
    if (!res.ok) throw new Error(`priming the cache failed: ${res.status}`);
    if (!stream && res.headers.get("x-switchyard-cache") === "hit") return;
  }
  throw new Error("the gateway did not answer the fixed request from its cache: the cache phases would be meaningless");
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const passthrough = ["--ttft-ms", String(values["ttft-ms"]), "--tokens", String(values.tokens), "--tps", String(values.tps)];
  const roles: SpawnedRole[] = [];
  const loadBefore = os.loadavg();
  try {
    const mock = await spawnRole(self, "mock", passthrough);
    roles.push(mock);
    const proxy = await spawnRole(self, "proxy", ["--upstream", mock.url]);
    roles.push(proxy);
    const gateway = await spawnRole(self, "gateway", ["--upstream", mock.url]);
    roles.push(gateway);
    const bare = await spawnRole(self, "bare");
    roles.push(bare);
    console.error(`mock ${mock.url}, proxy ${proxy.url}, gateway ${gateway.url}, bare ${bare.url}; ${connections} connections, ${values.seconds} s per phase (+${values.warmup} s warm-up)`);

    await primeCache(gateway.url);
    const rounds: Phase[][] = [];
    for (let round = 0; round < num("rounds"); round++) {
      console.error(`round ${round + 1}:`);
      const phases: Phase[] = [];
      for (const stream of [false, true]) {
        const s = stream ? " stream" : "";
        phases.push(await phase(`mock${s}`, "mock", mock, proxied(stream)));
        phases.push(await phase(`proxy${s}`, "proxy", proxy, proxied(stream), mock));
        phases.push(await phase(`gateway${s}`, "gateway", gateway, proxied(stream), mock));
      }
      phases.push(await phase("bare JSON", "bare", bare, fixed(false)));
      phases.push(await phase("cache hit JSON", "gateway", gateway, fixed(false)));
      phases.push(await phase("cache hit SSE replay", "gateway", gateway, fixed(true)));
      phases.push(await phase("bare /healthz", "bare", bare, { path: "/healthz", method: "GET" }));
      phases.push(await phase("gateway /healthz", "gateway", gateway, { path: "/healthz", method: "GET" }));
      rounds.push(phases);
    }
    const loadAfter = os.loadavg();

    // Per phase: the median of each figure over the rounds.
    const phases: Phase[] = rounds[0]!.map((first) => {
      const all = rounds.map((r) => r.find((p) => p.name === first.name)!);
      const med = (f: (p: Phase) => number) => median(all.map(f));
      return { ...first, requestsPerSecond: med((p) => p.requestsPerSecond), p50Ms: med((p) => p.p50Ms), p99Ms: med((p) => p.p99Ms), ok: med((p) => p.ok), errors: all.reduce((n, p) => n + p.errors, 0), non2xx: all.reduce((n, p) => n + p.non2xx, 0), cpuMsPerRequest: med((p) => p.cpuMsPerRequest) };
    });
    const by = (name: string) => phases.find((p) => p.name === name)!;
    /** The median over the rounds of a's req/s ÷ b's in the same round. */
    const ratio = (a: string, b: string) => round(median(rounds.map((r) => r.find((p) => p.name === a)!.requestsPerSecond / Math.max(1e-9, r.find((p) => p.name === b)!.requestsPerSecond))), 3);
    const figures: OverheadFigures = {
      nonStreamVsMock: ratio("gateway", "mock"),
      nonStreamVsProxy: ratio("gateway", "proxy"),
      proxyVsMock: ratio("proxy", "mock"),
      streamVsMock: ratio("gateway stream", "mock stream"),
      streamVsProxy: ratio("gateway stream", "proxy stream"),
      proxyStreamVsMock: ratio("proxy stream", "mock stream"),
      addedP50Ms: round(by("gateway").p50Ms - by("mock").p50Ms),
      addedP50StreamMs: round(by("gateway stream").p50Ms - by("mock stream").p50Ms),
      cacheHitVsBare: ratio("cache hit JSON", "bare JSON"),
      sseReplayVsBare: ratio("cache hit SSE replay", "bare JSON"),
      healthzVsBare: ratio("gateway /healthz", "bare /healthz"),
      gatewayCpuMsPerProxied: by("gateway").cpuMsPerRequest,
      gatewayCpuMsPerProxiedStream: by("gateway stream").cpuMsPerRequest,
      proxyCpuMsPerProxied: by("proxy").cpuMsPerRequest,
    };
    const file = writeResult("overhead", {
      machine: { ...machineInfo(), loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
      settings: { connections, rounds: num("rounds"), seconds: num("seconds"), warmup: num("warmup"), mock: { ttftMs: num("ttft-ms"), tokens: num("tokens"), tokensPerSecond: num("tps") } },
      phases,
      perRound: rounds,
      figures,
    });
    console.log(overheadTables(phases, figures));
    console.log(
      `\n${os.availableParallelism()} cores shared by autocannon and every server; load average ${loadBefore.map((l) => l.toFixed(1)).join(" ")} before, ${loadAfter.map((l) => l.toFixed(1)).join(" ")} after. Results: ${file}`,
    );
  } finally {
    stopRoles(roles);
  }
}

const main_ = values.role ? serveRole(values.role) : main();
main_.catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
