/**
 * The report's charts, built from a run: latency percentiles over time (the
 * main chart), offered vs served load, tokens/s vs concurrency,
 * the TTFT distribution, and the outcome breakdown.
 */
import { sloTimings } from "../request.js";
import { percentile } from "../stats.js";
import type { RunResult } from "../types.js";
import { barChart, COLORS, histogram, lineChart, panels, type ChartSize } from "../../../tools/report/index.js";

const mid = (b: { tS: number; widthS: number }) => b.tS + b.widthS / 2;

function pointsOf<K extends string>(result: RunResult, key: K): Array<[number, number]> {
  return result.timeline.flatMap((b) => {
    const v = (b as unknown as Record<string, number | undefined>)[key];
    return v === undefined ? [] : [[mid(b), v] as [number, number]];
  });
}

/**
 * TTFT and end-to-end latency percentiles per time bucket, by request start:
 * two panels over the same time axis.
 * @example const svg = latencyOverTime(result);
 */
export function latencyOverTime(result: RunResult): string {
  const ttftNote = result.records.some((r) => r.stream) ? "client-side for streams" : "gateway-reported";
  const s = result.summary;
  const where = result.target.local ? "in-process tiny model" : result.target.baseUrl;
  return panels({
    title: `Switchyard load test: ${result.scenario.name}`,
    subtitle: `${where} | ${s.requests.total} requests | ${s.throughput.requestsPerS} req/s | goodput ${(s.goodput.fraction * 100).toFixed(0)}%`,
    xLabel: "seconds into the run (by request start)",
    panels: [
      {
        title: `Time to first token over time (${ttftNote})`,
        yLabel: "TTFT (ms)",
        series: [
          { name: "TTFT p50", color: COLORS.sky, points: pointsOf(result, "ttftP50") },
          { name: "TTFT p90", color: COLORS.blue, points: pointsOf(result, "ttftP90") },
          { name: "TTFT p99", color: COLORS.navy, points: pointsOf(result, "ttftP99") },
        ],
      },
      {
        title: "End-to-end latency over time",
        yLabel: "e2e (ms)",
        series: [
          { name: "e2e p50", color: COLORS.amber, points: pointsOf(result, "e2eP50") },
          { name: "e2e p90", color: COLORS.orange, points: pointsOf(result, "e2eP90") },
          { name: "e2e p99", color: COLORS.red, points: pointsOf(result, "e2eP99") },
        ],
      },
    ],
  });
}

/** What was asked for against what came back, per second. @example loadOverTime(result) */
export function loadOverTime(result: RunResult): string {
  return lineChart({
    title: "Offered load, throughput and goodput",
    xLabel: "seconds into the run",
    yLabel: "requests / s",
    series: [
      { name: "offered", color: COLORS.muted, points: pointsOf(result, "offeredRps") },
      // Wider and under goodput: where the two coincide (all good), both stay visible.
      { name: "completed", color: COLORS.sky, points: pointsOf(result, "completedRps"), width: 5 },
      { name: `goodput (SLO met)`, color: COLORS.green, points: pointsOf(result, "goodputRps") },
      { name: "errors", color: COLORS.red, points: pointsOf(result, "errorRps") },
    ],
  });
}

/** Output tokens/s against mean requests in flight: where batching stops paying. @example tokensVsConcurrency(result, { width: 560 }) */
export function tokensVsConcurrency(result: RunResult, size: ChartSize = {}): string {
  const pts = result.timeline.filter((b) => b.meanInFlight > 0).map((b): [number, number] => [b.meanInFlight, b.outputTokensPerS]);
  return lineChart({
    ...size,
    title: "Output tokens/s vs concurrency",
    xLabel: "mean requests in flight (per time bucket)",
    yLabel: "output tokens / s",
    series: [{ name: "one time bucket", color: COLORS.purple, points: pts, width: 0, marker: 4 }],
  });
}

/** TTFT of every successful request; the slowest 1% is folded into the last bin. @example ttftHistogram(result) */
export function ttftHistogram(result: RunResult, size: ChartSize = {}): string {
  const values = result.records.filter((r) => r.ok && !r.interrupted).map((r) => sloTimings(r).ttft).sort((a, b) => a - b);
  if (values.length === 0) return histogram({ ...size, title: "TTFT distribution", xLabel: "TTFT (ms)", yLabel: "requests", bins: [], color: COLORS.blue });
  const lo = values[0] ?? 0;
  const top = Math.max(lo + 1e-6, percentile(values, 99));
  const nBins = Math.min(40, Math.max(5, Math.ceil(Math.sqrt(values.length))));
  const width = (top - lo) / nBins;
  const bins = Array.from({ length: nBins }, (_, k) => ({ x0: lo + k * width, x1: lo + (k + 1) * width, count: 0 }));
  for (const v of values) {
    const bin = bins[Math.min(nBins - 1, Math.floor((v - lo) / width))];
    if (bin) bin.count++;
  }
  const slo = result.scenario.slo.ttftMs;
  return histogram({
    ...size,
    title: `TTFT distribution (${values.length} requests)`,
    xLabel: "TTFT (ms)",
    yLabel: "requests",
    bins,
    color: COLORS.sky,
    marks: [
      { x: percentile(values, 50), label: `p50 ${percentile(values, 50).toFixed(0)} ms`, color: COLORS.green },
      { x: percentile(values, 99), label: `p99 ${percentile(values, 99).toFixed(0)} ms`, color: COLORS.red },
      ...(slo <= top ? [{ x: slo, label: `SLO ${slo} ms`, color: COLORS.orange }] : []),
    ],
  });
}

const STATUS_TEXT: Record<string, string> = {
  "0": "no response",
  "200": "200 OK",
  "400": "400 bad request",
  "401": "401 unauthorized",
  "403": "403 forbidden",
  "404": "404 not found",
  "408": "408 timeout",
  "413": "413 too large",
  "429": "429 rate limited",
  "500": "500 server error",
  "502": "502 bad gateway",
  "503": "503 overloaded",
  "504": "504 gateway timeout",
};

/** Every outcome: successes, proper overload answers, failures, and arrivals never sent. @example outcomeBreakdown(result) */
export function outcomeBreakdown(result: RunResult): string {
  const { requests } = result.summary;
  const expect = result.scenario.expect;
  const bars: Array<{ label: string; value: number; color: string }> = Object.entries(requests.byStatus)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([status, value]) => {
      const s = Number(status);
      const color = expect.okStatuses.includes(s) ? COLORS.green : expect.toleratedStatuses.includes(s) ? COLORS.amber : COLORS.red;
      return { label: STATUS_TEXT[status] ?? status, value, color };
    });
  if (requests.dropped) bars.push({ label: "dropped (in-flight cap)", value: requests.dropped, color: COLORS.purple });
  if (requests.interrupted) bars.push({ label: "cut at end of run", value: requests.interrupted, color: COLORS.muted });
  return barChart({
    title: "Outcomes",
    bars,
    note: `green: success, amber: overload answered properly (${expect.toleratedStatuses.join("/") || "none allowed"}), red: failure. Contract violations: ${requests.contractViolations}.`,
  });
}
