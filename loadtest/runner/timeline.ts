/**
 * The run in time buckets: what the report's over-time charts draw, and where
 * the knee of a ramp is read.
 */
import type { LoadSpec } from "../scenarios/types.js";
import { sloTimings } from "./request.js";
import { offeredRate } from "./schedule.js";
import { percentile } from "./stats.js";
import type { RequestRecord, Summary, TimelineBucket } from "./types.js";

const WIDTHS_S = [0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];

/**
 * A round bucket width giving at most 40 buckets; whole seconds at least, so
 * per-second rates are not just 0 or 1 request, except in runs under 5 s.
 * @example bucketWidthS(120_000) // 5
 */
export function bucketWidthS(endMs: number): number {
  return WIDTHS_S.find((w) => endMs / 1000 / w <= 40 && (w >= 1 || endMs < 5000)) ?? 1200;
}

const r2 = (n: number) => Math.round(n * 100) / 100;

/**
 * @example buildTimeline(records, samples, scenario.load, 12_000)[0].offeredRps
 */
export function buildTimeline(
  records: readonly RequestRecord[],
  inFlightSamples: ReadonlyArray<[number, number]>,
  load: LoadSpec,
  endMs: number,
  droppedMs: readonly number[] = [],
  shardSamples: ReadonlyArray<[number, number]> = [],
): TimelineBucket[] {
  const widthS = bucketWidthS(endMs);
  const widthMs = widthS * 1000;
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  const n = Math.max(1, Math.ceil(endMs / widthMs));
  const acc = Array.from({ length: n }, () => ({ started: 0, arrivals: 0, metSlo: 0, completed: 0, good: 0, errors: 0, tokens: 0, inFlight: [] as number[], shards: [] as number[], ttft: [] as number[], e2e: [] as number[] }));
  const at = (ms: number) => acc[Math.min(n - 1, Math.max(0, Math.floor(ms / widthMs)))]!;

  for (const r of records) {
    if (r.interrupted) continue;
    const end = r.startMs + r.e2eMs;
    const arrival = at(r.scheduledMs);
    arrival.arrivals++;
    if (r.sloMet) arrival.metSlo++;
    at(r.startMs).started++;
    const done = at(end);
    done.completed++;
    if (r.sloMet) done.good++;
    if (!r.ok) done.errors++;
    if (r.ok) {
      const { ttft } = sloTimings(r);
      at(r.startMs).ttft.push(ttft);
      at(r.startMs).e2e.push(r.e2eMs);
      // Tokens are spread over the decode interval, so tokens/s is not lumped at completion.
      const from = Math.min(end, r.startMs + ttft);
      spread(acc, widthMs, from, end, r.outputTokens);
    }
  }
  for (const t of droppedMs) at(t).arrivals++;
  for (const [t, v] of inFlightSamples) at(t).inFlight.push(v);
  for (const [t, v] of shardSamples) at(t).shards.push(v);

  return acc.map((b, k) => {
    const t = k * widthMs;
    const ttft = b.ttft.sort((x, y) => x - y);
    const e2e = b.e2e.sort((x, y) => x - y);
    const offered = load.executor === "per-vu-iterations" ? b.started / widthS : offeredRate(load, t + widthMs / 2);
    return {
      tS: r3(k * widthS),
      widthS,
      offeredRps: r2(offered),
      startedRps: r2(b.started / widthS),
      ...(b.arrivals ? { sloMetFraction: r2(b.metSlo / b.arrivals) } : {}),
      completedRps: r2(b.completed / widthS),
      goodputRps: r2(b.good / widthS),
      errorRps: r2(b.errors / widthS),
      outputTokensPerS: r2(b.tokens / widthS),
      meanInFlight: r2(b.inFlight.length ? b.inFlight.reduce((s, v) => s + v, 0) / b.inFlight.length : 0),
      ...(b.shards.length ? { meanShards: r2(b.shards.reduce((s, v) => s + v, 0) / b.shards.length) } : {}),
      ...(ttft.length ? { ttftP50: r2(percentile(ttft, 50)), ttftP90: r2(percentile(ttft, 90)), ttftP95: r2(percentile(ttft, 95)), ttftP99: r2(percentile(ttft, 99)) } : {}),
      ...(e2e.length ? { e2eP50: r2(percentile(e2e, 50)), e2eP90: r2(percentile(e2e, 90)), e2eP99: r2(percentile(e2e, 99)) } : {}),
    };
  });
}

function spread(acc: Array<{ tokens: number }>, widthMs: number, from: number, to: number, tokens: number): void {
  if (tokens <= 0) return;
  const last = acc.length - 1;
  if (to <= from) {
    acc[Math.min(last, Math.floor(to / widthMs))]!.tokens += tokens;
    return;
  }
  for (let k = Math.floor(from / widthMs); k <= Math.min(last, Math.floor(to / widthMs)); k++) {
    const overlap = Math.min(to, (k + 1) * widthMs) - Math.max(from, k * widthMs);
    if (overlap > 0) acc[k]!.tokens += (tokens * overlap) / (to - from);
  }
}

/**
 * The knee of a ramp: the highest offered rate reached before the first time
 * bucket in which under 90% of the arrivals met the SLO. Judged by arrival
 * time, so a burst of late completions cannot pass for capacity. Undefined for
 * loads that do not ramp, or when the SLO broke in the first bucket.
 * @example findKnee(ramp.load, timeline) // { offeredRps: 14, goodputRps: 13.5, atS: 95, sloBroke: true }
 */
export function findKnee(load: LoadSpec, timeline: readonly TimelineBucket[]): Summary["knee"] {
  if (load.executor !== "ramping-arrival-rate") return undefined;
  let best: Summary["knee"];
  for (const b of timeline) {
    if (b.sloMetFraction === undefined || b.startedRps * b.widthS < 3) continue;
    if (b.sloMetFraction < 0.9) return best && { ...best, sloBroke: true };
    if (!best || b.offeredRps > best.offeredRps) best = { offeredRps: b.offeredRps, goodputRps: b.goodputRps, atS: b.tS, sloBroke: false };
  }
  return best;
}
