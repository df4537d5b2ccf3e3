/**
 * The "Gateway overhead against a mock upstream" tables, from
 * results/overhead.json (bench/overhead.ts): the phases side by side and the
 * issue #12 figures against their targets.
 */
import { markdownTable } from "./stats.js";

export interface OverheadPhase {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  cpuMsPerRequest: number;
}

export interface OverheadFigures {
  nonStreamVsMock: number;
  nonStreamVsProxy: number;
  proxyVsMock: number;
  streamVsMock: number;
  streamVsProxy: number;
  proxyStreamVsMock: number;
  addedP50Ms: number;
  addedP50StreamMs: number;
  cacheHitVsBare: number;
  sseReplayVsBare: number;
  healthzVsBare: number;
  gatewayCpuMsPerProxied: number;
  gatewayCpuMsPerProxiedStream: number;
  proxyCpuMsPerProxied: number;
}

/** Issue #12's targets: a figure, whether it met its target, and the target as text. */
export function overheadTargets(f: OverheadFigures): Array<{ figure: string; measured: string; target: string; met: boolean }> {
  return [
    { figure: "remote non-stream req/s ÷ mock (÷ minimal proxy)", measured: `${f.nonStreamVsMock} (${f.nonStreamVsProxy})`, target: "≥ 0.5 (≥ 0.7)", met: f.nonStreamVsMock >= 0.5 && f.nonStreamVsProxy >= 0.7 },
    { figure: "remote stream req/s ÷ mock stream (÷ minimal proxy)", measured: `${f.streamVsMock} (${f.streamVsProxy})`, target: "≥ 0.75", met: f.streamVsMock >= 0.75 },
    { figure: "p50 added over the mock, non-stream / stream", measured: `${f.addedP50Ms} / ${f.addedP50StreamMs} ms`, target: "≤ 10 / ≤ 25 ms", met: f.addedP50Ms <= 10 && f.addedP50StreamMs <= 25 },
    { figure: "JSON cache hit req/s ÷ bare Hono", measured: String(f.cacheHitVsBare), target: "≥ 0.9", met: f.cacheHitVsBare >= 0.9 },
    { figure: "SSE replay req/s ÷ bare Hono JSON", measured: String(f.sseReplayVsBare), target: "≥ 0.6", met: f.sseReplayVsBare >= 0.6 },
    { figure: "/healthz req/s ÷ bare Hono", measured: String(f.healthzVsBare), target: "≥ 0.5", met: f.healthzVsBare >= 0.5 },
    { figure: "gateway CPU per proxied request (minimal proxy)", measured: `${f.gatewayCpuMsPerProxied} ms (${f.proxyCpuMsPerProxied} ms)`, target: "≤ 0.8 ms", met: f.gatewayCpuMsPerProxied <= 0.8 },
  ];
}

export function overheadTables(phases: readonly OverheadPhase[], figures: OverheadFigures): string {
  return [
    markdownTable(
      ["phase (median of the rounds)", "req/s", "p50 ms", "p99 ms", "CPU ms/request", "errors + non-2xx"],
      phases.map((p) => [p.name, p.requestsPerSecond, p.p50Ms, p.p99Ms, p.cpuMsPerRequest, p.errors + p.non2xx]),
    ),
    "",
    markdownTable(
      ["figure", "measured", "target"],
      overheadTargets(figures).map((t) => [t.figure, t.met ? t.measured : `**${t.measured}**`, t.target]),
    ),
  ].join("\n");
}
