/**
 * The run's records as k6-style metrics, under the names the k6 scripts use
 * (loadtest/k6/lib/metrics.js), so scenario thresholds mean the same in both.
 */
import { sloTimings } from "./request.js";
import type { RequestRecord } from "./types.js";

export type Metric =
  | { type: "trend"; values: number[] }
  | { type: "rate"; values: boolean[] }
  | { type: "counter"; value: number };

/**
 * @param itl every inter-token gap of the run
 * @param dropped arrivals skipped at the in-flight cap
 * @example metricsOf(records, gaps, 0).get("switchyard_ttft_ms")
 */
export function metricsOf(records: readonly RequestRecord[], itl: readonly number[], dropped: number): Map<string, Metric> {
  const done = records.filter((r) => !r.interrupted);
  const ok = done.filter((r) => r.ok);
  const withBlock = ok.filter((r) => r.switchyard !== undefined);
  const trend = (values: number[]): Metric => ({ type: "trend", values });
  const m = new Map<string, Metric>([
    ["http_req_duration", trend(done.filter((r) => r.status > 0).map((r) => r.e2eMs))],
    ["http_req_failed", { type: "rate", values: done.map((r) => !r.ok) }],
    ["http_reqs", { type: "counter", value: done.length }],
    ["iterations", { type: "counter", value: done.length }],
    ["dropped_iterations", { type: "counter", value: dropped }],
    ["switchyard_ttft_ms", trend(withBlock.map((r) => r.switchyard!.queue_ms + r.switchyard!.ttft_ms))],
    ["switchyard_tpot_ms", trend(withBlock.filter((r) => r.outputTokens > 1).map((r) => r.switchyard!.decode_ms / (r.outputTokens - 1)))],
    ["switchyard_queue_ms", trend(withBlock.map((r) => r.switchyard!.queue_ms))],
    ["slo_met", { type: "rate", values: done.map((r) => r.sloMet) }],
    ["cache_hit", { type: "rate", values: withBlock.map((r) => r.switchyard!.cache === "hit") }],
    ["contract_violations", { type: "counter", value: done.filter((r) => r.violations.length > 0).length }],
    ["output_tokens", { type: "counter", value: ok.reduce((s, r) => s + r.outputTokens, 0) }],
    ["client_ttft_ms", trend(ok.flatMap((r) => (r.ttftMs === undefined ? [] : [r.ttftMs])))],
    ["client_tpot_ms", trend(ok.flatMap((r) => (r.tpotMs === undefined ? [] : [r.tpotMs])))],
    ["client_itl_ms", trend([...itl])],
    // What goodput judges: the client's TTFT where it has one, else the gateway's.
    ["ttft_ms", trend(ok.map((r) => sloTimings(r).ttft))],
  ]);
  return m;
}
