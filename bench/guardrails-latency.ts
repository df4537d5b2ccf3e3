/**
 * Latency the PII guardrails add per request, through the gateway.
 *
 *   tsx bench/guardrails-latency.ts [--rounds 8] [--requests 40] [--tokens 64]
 *
 * One mock upstream (answers at once, `--tokens` tokens) and two gateways in
 * front of it, each in a process of its own: `off` (no policy) and `redact`
 * (`guardrails.pii.mode: redact`, every entity type, restore on). The client
 * sends support-chat requests that carry an email, a phone number, a card
 * number and an order number, one at a time (no queueing, so the figure is
 * the per-request cost), sampled (temperature 0.7) so the response cache
 * never answers. Non-streamed: time to the whole body; streamed: time to the
 * last byte. Rounds alternate the two gateways; the ratio is the median of
 * the per-round ratios of medians (redact / off), so drift from other load on
 * the machine hits both. The gateway processes' CPU time per request (from
 * /proc) is reported beside it: on a loaded machine it moves less than wall
 * time. The load average before and after is recorded.
 *
 * Results: results/guardrails-latency.json and a markdown table on stdout.
 */
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { serveForParent, spawnRole, startMockGateway, stopRoles, type SpawnedRole } from "./bench-roles.js";
import { startMockUpstream } from "./mock-upstream.js";
import { machineInfo, markdownTable, median, percentile, round, writeResult } from "./stats.js";

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    upstream: { type: "string" },
    rounds: { type: "string", default: "8" },
    requests: { type: "string", default: "40" },
    tokens: { type: "string", default: "64" },
  },
});
const num = (name: "rounds" | "requests" | "tokens") => Number(values[name]);

const POLICIES: Record<string, Record<string, unknown>> = {
  off: {},
  redact: { guardrails: { pii: { mode: "redact", restore: true } } },
};

async function serveRole(role: string): Promise<void> {
  if (role === "mock") return serveForParent(await startMockUpstream({ ttftMs: 0, tokensPerSecond: 0, tokens: num("tokens") }));
  const policy = POLICIES[role];
  if (!policy) throw new Error(`unknown role '${role}'`);
  if (!values.upstream) throw new Error(`--role ${role} needs --upstream URL`);
  const { server, cleanup } = await startMockGateway({ upstream: values.upstream, raw: { telemetry: { logLevel: "info" }, ...policy } });
  return serveForParent(server, cleanup);
}

function prompt(i: number): string {
  return (
    `Hi, I am customer ${1000 + i}. My email is jane.doe${i}@example.com and my phone is +1 415 555 ${String(1000 + (i % 9000)).padStart(4, "0")}. ` +
    `I paid order ${48_000 + i} with card 4111 1111 1111 1111 but it never arrived; can you check where it is and refund me if it is lost?`
  );
}

async function once(url: string, i: number, stream: boolean): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "mock",
      max_tokens: num("tokens"),
      temperature: 0.7,
      messages: [
        { role: "system", content: "You are the support assistant of an online shop. Answer briefly and politely." },
        { role: "user", content: prompt(i) },
      ],
      ...(stream ? { stream: true } : {}),
    }),
  });
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  return performance.now() - started;
}

interface Series {
  ms: number[];
  roundMedians: number[];
  /** The gateway process's CPU time per request, per round (from /proc: less sensitive to other load than wall time). */
  cpuPerRequest: number[];
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const roles: SpawnedRole[] = [];
  const loadBefore = os.loadavg();
  try {
    const mock = await spawnRole(self, "mock", ["--tokens", String(num("tokens"))]);
    roles.push(mock);
    const gateways: Record<string, SpawnedRole> = {};
    for (const name of Object.keys(POLICIES)) {
      gateways[name] = await spawnRole(self, name, ["--upstream", mock.url]);
      roles.push(gateways[name]);
    }
    const series: Record<string, Series> = {};
    const key = (policy: string, stream: boolean) => `${policy}/${stream ? "stream" : "json"}`;
    // Warm up each gateway (JIT, connection pool, detector tables).
    for (const g of Object.values(gateways)) for (let i = 0; i < 20; i++) await once(g.url, i, i % 2 === 0);
    let n = 0;
    for (let round = 0; round < num("rounds"); round++) {
      const order = round % 2 === 0 ? Object.keys(POLICIES) : Object.keys(POLICIES).reverse();
      for (const stream of [false, true]) {
        for (const policy of order) {
          const ms: number[] = [];
          const cpuBefore = gateways[policy]!.cpuMs();
          for (let i = 0; i < num("requests"); i++) ms.push(await once(gateways[policy]!.url, n++, stream));
          const s = (series[key(policy, stream)] ??= { ms: [], roundMedians: [], cpuPerRequest: [] });
          s.ms.push(...ms);
          s.roundMedians.push(median(ms));
          s.cpuPerRequest.push((gateways[policy]!.cpuMs() - cpuBefore) / num("requests"));
        }
      }
    }
    const loadAfter = os.loadavg();
    const rows: Array<Array<string | number>> = [];
    const summary: Record<string, unknown> = {};
    for (const stream of [false, true]) {
      const off = series[key("off", stream)]!;
      const on = series[key("redact", stream)]!;
      const ratios = on.roundMedians.map((m, i) => m / off.roundMedians[i]!);
      const added = on.roundMedians.map((m, i) => m - off.roundMedians[i]!);
      const mode = stream ? "stream" : "non-stream";
      const cpuRatios = on.cpuPerRequest.map((c, i) => c / off.cpuPerRequest[i]!);
      const row = {
        offP50: round(percentile(off.ms, 50)),
        redactP50: round(percentile(on.ms, 50)),
        offP95: round(percentile(off.ms, 95)),
        redactP95: round(percentile(on.ms, 95)),
        addedMsMedian: round(median(added)),
        ratio: round(median(ratios), 3),
        ratioRange: [round(Math.min(...ratios), 3), round(Math.max(...ratios), 3)],
        offCpuMsPerRequest: round(median(off.cpuPerRequest)),
        redactCpuMsPerRequest: round(median(on.cpuPerRequest)),
        cpuRatio: round(median(cpuRatios), 3),
      };
      summary[mode] = row;
      rows.push([
        mode,
        row.offP50,
        row.redactP50,
        row.offP95,
        row.redactP95,
        row.addedMsMedian,
        `${row.ratio} (${row.ratioRange[0]}–${row.ratioRange[1]})`,
        `${row.offCpuMsPerRequest} / ${row.redactCpuMsPerRequest} (${row.cpuRatio})`,
      ]);
    }
    const result = {
      machine: machineInfo(),
      loadAverage: { before: loadBefore.map((x) => round(x)), after: loadAfter.map((x) => round(x)) },
      rounds: num("rounds"),
      requestsPerRound: num("requests"),
      tokens: num("tokens"),
      results: summary,
    };
    const file = writeResult("guardrails-latency", result);
    console.log(
      markdownTable(["mode", "off p50 ms", "redact p50 ms", "off p95 ms", "redact p95 ms", "added ms (median of rounds)", "redact / off (range over rounds)", "gateway CPU ms/request off / redact (ratio)"], rows),
    );
    console.log(`\nload average before ${result.loadAverage.before.join(", ")}, after ${result.loadAverage.after.join(", ")}; ${os.availableParallelism()} cores. Written ${file}`);
  } finally {
    stopRoles(roles);
  }
}

const run = values.role ? serveRole(values.role) : main();
run.catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
