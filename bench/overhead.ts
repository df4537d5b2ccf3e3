/**
 * Gateway overhead, measured apart from the model: the same non-streamed chat
 * request sent straight to a mock upstream with fixed latency, and through the
 * gateway (one remote model on that mock), at fixed open-model arrival rates.
 * Overhead = client latency through the gateway − client latency direct.
 *
 *   tsx bench/overhead.ts [--rates 100,500,1000] [--seconds 5] [--warmup 1]
 *                             [--ttft-ms 20] [--tokens 16] [--tps 400]
 *
 * The mock and the gateway each run in their own process (this file, with
 * --role), so the load generator does not share their event loop; on a small
 * machine they still share the CPU, so the table reports the rate actually
 * achieved and how late the generator started requests. The gateway asks its
 * upstream for `stream: false` when the client does (this bench's requests are
 * non-streamed), over keep-alive undici connections. Results: results/overhead.json (+ a timestamped copy) and a markdown
 * table on stdout.
 */
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { setImmediate as yieldToIo, setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config/index.js";
import { startGateway } from "../src/server/index.js";
import { createLogger } from "../src/telemetry/logger.js";
import { startMockUpstream } from "./mock-upstream.js";
import { machineInfo, markdownTable, percentile, round, writeResult } from "./stats.js";

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    upstream: { type: "string" },
    rates: { type: "string", default: "100,500,1000" },
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    "ttft-ms": { type: "string", default: "20" },
    tokens: { type: "string", default: "16" },
    tps: { type: "string", default: "400" },
    "max-in-flight": { type: "string", default: "2000" },
  },
});

const num = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
  return n;
};

// ---- child roles: print {"url"} on stdout, exit when the parent's pipe closes ----

async function serveRole(role: string): Promise<void> {
  let close: () => Promise<void>;
  let url: string;
  let cleanup = async () => undefined as void;
  if (role === "mock") {
    const mock = await startMockUpstream({ ttftMs: num("ttft-ms"), tokensPerSecond: num("tps"), tokens: num("tokens") });
    ({ url, close } = mock);
  } else if (role === "gateway") {
    if (!values.upstream) throw new Error("--role gateway needs --upstream URL");
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "switchyard-overhead-"));
    cleanup = () => rm(dataDir, { recursive: true, force: true });
    const config = loadConfig({
      env: {},
      raw: {
        server: { port: 0, host: "127.0.0.1" },
        dataDir,
        // Warn, not info: per-request log lines would be measured as gateway overhead.
        telemetry: { logLevel: "warn" },
        // Every request is unique anyway; no cache lookups in the measurement.
        cache: { enabled: false },
        queue: { maxDepth: 100_000, maxWaitMs: 60_000 },
        // The default config: a remote shard's capacity is its `maxConcurrency` (default 256), not `slots`.
        models: [{ name: "mock", upstream: `${values.upstream}/v1`, shards: 1 }],
      },
    });
    const gw = await startGateway({ config, logger: createLogger({ level: "warn" }) });
    ({ url, close } = gw);
  } else throw new Error(`unknown role '${role}'`);
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  const stop = () =>
    void close()
      .then(cleanup)
      .finally(() => process.exit(0));
  // "cpu" on stdin → this process's CPU time so far; the parent turns it into CPU per request,
  // which a shared machine distorts far less than latency.
  const input = createInterface({ input: process.stdin });
  input.on("line", (line) => {
    if (line.trim() !== "cpu") return;
    const { user, system } = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuMs: (user + system) / 1000 })}\n`);
  });
  input.on("close", stop);
  process.once("SIGTERM", stop);
}

interface Role {
  url: string;
  child: ChildProcess;
  /** CPU time the child has used so far, ms. */
  cpuMs(): Promise<number>;
}

/** Starts this file with `--role` in a child process and waits for its URL. */
async function spawnRole(role: string, extra: string[] = []): Promise<Role> {
  const self = fileURLToPath(import.meta.url);
  const passthrough = ["--ttft-ms", String(values["ttft-ms"]), "--tokens", String(values.tokens), "--tps", String(values.tps)];
  const child = spawn(process.execPath, [...process.execArgv, self, "--role", role, ...passthrough, ...extra], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const cpuWaiters: Array<(ms: number) => void> = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} did not start within 60 s`)), 60_000);
    child.once("exit", (code) => reject(new Error(`${role} exited with ${code}`)));
    lines.on("line", (line) => {
      try {
        const msg = JSON.parse(line) as { url?: string; cpuMs?: number };
        if (msg.url) {
          clearTimeout(timer);
          resolve(msg.url);
        }
        if (msg.cpuMs !== undefined) cpuWaiters.shift()?.(msg.cpuMs);
      } catch {
        // Not our line.
      }
    });
  });
  const cpuMs = () =>
    new Promise<number>((resolve) => {
      cpuWaiters.push(resolve);
      child.stdin.write("cpu\n");
    });
  return { url, child, cpuMs };
}

// ---- load generator ----

interface Sample {
  status: number;
  ms: number;
  /** ms the request started after its scheduled time. */
  lagMs: number;
  /** x-switchyard-overhead-ms, when the gateway sent it. */
  selfReportedMs?: number;
}

function post(agent: http.Agent, target: URL, body: string): Promise<Omit<Sample, "lagMs">> {
  return new Promise((resolve) => {
    const start = performance.now();
    const req = http.request(
      { agent, host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on("end", () => {
          const header = res.headers["x-switchyard-overhead-ms"];
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - start, ...(typeof header === "string" ? { selfReportedMs: Number(header) } : {}) });
        });
        res.on("error", () => resolve({ status: 0, ms: performance.now() - start }));
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 0, ms: performance.now() - start }));
    req.end(body);
  });
}

/** Open model: request k starts at k / rate seconds whatever the earlier ones are doing. */
async function phase(baseUrl: string, rate: number, seconds: number, maxInFlight: number, tag: string): Promise<{ samples: Sample[]; dropped: number; wallS: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
  const target = new URL(`${baseUrl}/v1/chat/completions`);
  const total = Math.round(rate * seconds);
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  let dropped = 0;
  const t0 = performance.now();
  for (let k = 0; k < total; k++) {
    const at = (k * 1000) / rate;
    const wait = at - (performance.now() - t0);
    // Behind schedule, still let responses be read between starts, or they would all queue behind the burst.
    if (wait > 1) await sleep(wait);
    else await yieldToIo();
    if (pending.size >= maxInFlight) {
      dropped++;
      continue;
    }
    const lagMs = Math.max(0, performance.now() - t0 - at);
    // Unique content: nothing along the way may answer from a cache.
    const body = JSON.stringify({ model: "mock", messages: [{ role: "user", content: `Where is my order ${tag}-${k}?` }], max_tokens: 64 });
    const p: Promise<void> = post(agent, target, body).then((s) => {
      samples.push({ ...s, lagMs });
      pending.delete(p);
    });
    pending.add(p);
  }
  await Promise.race([Promise.allSettled([...pending]), sleep(35_000)]);
  const wallS = (performance.now() - t0) / 1000;
  agent.destroy();
  return { samples, dropped, wallS };
}

interface Row {
  offeredRps: number;
  target: "direct" | "gateway";
  requests: number;
  achievedRps: number;
  ok: number;
  errors: number;
  dropped: number;
  p50Ms: number;
  p99Ms: number;
  startLagP99Ms: number;
  selfReportedP50Ms?: number;
  selfReportedP99Ms?: number;
  /** CPU ms per request of the gateway and of the mock during the phase. */
  gatewayCpuMsPerRequest: number;
  mockCpuMsPerRequest: number;
}

function rowOf(offeredRps: number, target: Row["target"], r: { samples: Sample[]; dropped: number; wallS: number }, cpu: { gatewayMs: number; mockMs: number }): Row {
  const ok = r.samples.filter((s) => s.status === 200);
  const lat = ok.map((s) => s.ms);
  const self = ok.flatMap((s) => (s.selfReportedMs === undefined ? [] : [s.selfReportedMs]));
  return {
    offeredRps,
    target,
    requests: r.samples.length,
    // Successes per second from the first scheduled start to the last response: what was actually carried.
    achievedRps: round(ok.length / r.wallS, 1),
    ok: ok.length,
    errors: r.samples.length - ok.length,
    dropped: r.dropped,
    p50Ms: round(percentile(lat, 50)),
    p99Ms: round(percentile(lat, 99)),
    startLagP99Ms: round(percentile(r.samples.map((s) => s.lagMs), 99)),
    ...(self.length ? { selfReportedP50Ms: round(percentile(self, 50)), selfReportedP99Ms: round(percentile(self, 99)) } : {}),
    gatewayCpuMsPerRequest: round(cpu.gatewayMs / Math.max(1, r.samples.length), 3),
    mockCpuMsPerRequest: round(cpu.mockMs / Math.max(1, r.samples.length), 3),
  };
}

async function main(): Promise<void> {
  if (values.role) return serveRole(values.role);
  const rates = String(values.rates)
    .split(",")
    .map(Number)
    .filter((r) => r > 0);
  const seconds = num("seconds");
  const warmup = num("warmup");
  const maxInFlight = num("max-in-flight");
  const children: ChildProcess[] = [];
  // Other work on the machine shows up as latency: record how busy it was.
  const loadBefore = os.loadavg();
  try {
    const mock = await spawnRole("mock");
    children.push(mock.child);
    const gateway = await spawnRole("gateway", ["--upstream", mock.url]);
    children.push(gateway.child);
    console.error(`mock ${mock.url}, gateway ${gateway.url}; ${rates.join(", ")} req/s, ${seconds} s each (+${warmup} s warm-up)`);

    const rows: Row[] = [];
    for (const rate of rates) {
      for (const [target, url] of [
        ["direct", mock.url],
        ["gateway", gateway.url],
      ] as const) {
        if (warmup > 0) await phase(url, rate, warmup, maxInFlight, `warm-${target}-${rate}`);
        const [g0, m0] = await Promise.all([gateway.cpuMs(), mock.cpuMs()]);
        const r = await phase(url, rate, seconds, maxInFlight, `${target}-${rate}`);
        const [g1, m1] = await Promise.all([gateway.cpuMs(), mock.cpuMs()]);
        const row = rowOf(rate, target, r, { gatewayMs: g1 - g0, mockMs: m1 - m0 });
        rows.push(row);
        console.error(
          `  ${rate} req/s ${target}: achieved ${row.achievedRps}, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, errors ${row.errors}, dropped ${row.dropped}, CPU/request gateway ${row.gatewayCpuMsPerRequest} ms, mock ${row.mockCpuMsPerRequest} ms`,
        );
        await sleep(500);
      }
    }

    const overhead = rates.map((rate) => {
      const d = rows.find((r) => r.offeredRps === rate && r.target === "direct")!;
      const g = rows.find((r) => r.offeredRps === rate && r.target === "gateway")!;
      return {
        offeredRps: rate,
        achievedDirectRps: d.achievedRps,
        achievedGatewayRps: g.achievedRps,
        overheadP50Ms: round(g.p50Ms - d.p50Ms),
        overheadP99Ms: round(g.p99Ms - d.p99Ms),
        selfReportedP50Ms: g.selfReportedP50Ms,
        selfReportedP99Ms: g.selfReportedP99Ms,
        gatewayCpuMsPerRequest: g.gatewayCpuMsPerRequest,
        errors: d.errors + g.errors,
        dropped: d.dropped + g.dropped,
      };
    });
    const file = writeResult("overhead", {
      machine: { ...machineInfo(), loadAverageBefore: loadBefore, loadAverageAfter: os.loadavg() },
      settings: { rates, seconds, warmup, maxInFlight, mock: { ttftMs: num("ttft-ms"), tokens: num("tokens"), tokensPerSecond: num("tps") } },
      rows,
      overhead,
    });
    console.log(
      markdownTable(
        ["offered req/s", "achieved direct", "achieved via gateway", "direct p50 / p99 ms", "gateway p50 / p99 ms", "overhead p50 ms", "overhead p99 ms", "gateway self-reported p50 / p99 ms", "gateway CPU ms/request", "errors", "dropped"],
        overhead.map((o) => {
          const d = rows.find((r) => r.offeredRps === o.offeredRps && r.target === "direct")!;
          const g = rows.find((r) => r.offeredRps === o.offeredRps && r.target === "gateway")!;
          return [o.offeredRps, o.achievedDirectRps, o.achievedGatewayRps, `${d.p50Ms} / ${d.p99Ms}`, `${g.p50Ms} / ${g.p99Ms}`, o.overheadP50Ms, o.overheadP99Ms, `${o.selfReportedP50Ms ?? "–"} / ${o.selfReportedP99Ms ?? "–"}`, o.gatewayCpuMsPerRequest, o.errors, o.dropped];
        }),
      ),
    );
    console.log(
      `\n${os.availableParallelism()} cores shared by the load generator, the gateway and the mock; load average ${loadBefore.map((l) => l.toFixed(1)).join(" ")} before the run. Results: ${file}`,
    );
  } finally {
    for (const c of children) {
      c.stdin?.end();
      c.kill("SIGTERM");
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
