/**
 * Open-model arrival schedules: when each request starts, decided in advance
 * and independent of how fast responses come back. A closed loop (send, wait,
 * send) slows down with the server and hides queueing: the coordinated-omission
 * trap. Arrivals are evenly spaced, as k6's arrival-rate executors space them.
 */
import type { LoadSpec } from "../scenarios/types.js";
import { parseDuration } from "./duration.js";

type ArrivalLoad = Exclude<LoadSpec, { executor: "per-vu-iterations" }>;

/** A piecewise-linear arrival rate, in requests per millisecond. */
interface Segment {
  startMs: number;
  durationMs: number;
  fromPerMs: number;
  toPerMs: number;
}

function segmentsOf(load: ArrivalLoad): Segment[] {
  const unit = parseDuration(load.timeUnit);
  if (load.executor === "constant-arrival-rate") {
    return [{ startMs: 0, durationMs: parseDuration(load.duration), fromPerMs: load.rate / unit, toPerMs: load.rate / unit }];
  }
  const out: Segment[] = [];
  let at = 0;
  let from = load.startRate / unit;
  for (const stage of load.stages) {
    const durationMs = parseDuration(stage.duration);
    out.push({ startMs: at, durationMs, fromPerMs: from, toPerMs: stage.target / unit });
    at += durationMs;
    from = stage.target / unit;
  }
  return out;
}

/** Total length of an arrival-rate load in milliseconds. */
export function loadDurationMs(load: LoadSpec): number {
  if (load.executor === "per-vu-iterations") return parseDuration(load.maxDuration);
  return segmentsOf(load).reduce((sum, s) => sum + s.durationMs, 0);
}

/**
 * The offered arrival rate (requests per second) at `tMs`: for charts and the knee.
 * @example offeredRate(steady.load, 5_000) // 4
 */
export function offeredRate(load: LoadSpec, tMs: number): number {
  if (load.executor === "per-vu-iterations") return 0;
  for (const s of segmentsOf(load)) {
    if (tMs >= s.startMs && tMs < s.startMs + s.durationMs) {
      const f = s.durationMs > 0 ? (tMs - s.startMs) / s.durationMs : 0;
      return (s.fromPerMs + (s.toPerMs - s.fromPerMs) * f) * 1000;
    }
  }
  return 0;
}

/**
 * Start times (ms from the beginning) of every request: arrival k happens when
 * the integral of the rate reaches k, so request 0 starts at once.
 * @example [...arrivals({ executor: "constant-arrival-rate", rate: 2, timeUnit: "1s", duration: "2s", preAllocatedVUs: 1, maxVUs: 4 })] // [0, 500, 1000, 1500]
 */
export function* arrivals(load: ArrivalLoad): Generator<number> {
  let k = 0;
  let before = 0; // arrivals owed by the start of the segment (the integral so far)
  for (const s of segmentsOf(load)) {
    const slope = s.durationMs > 0 ? (s.toPerMs - s.fromPerMs) / s.durationMs : 0;
    const total = before + ((s.fromPerMs + s.toPerMs) / 2) * s.durationMs;
    // Integral within the segment: N(t) = before + from*t + slope*t²/2; solve N(t) = k.
    while (k < total - 1e-9) {
      const need = k - before;
      const disc = s.fromPerMs * s.fromPerMs + 2 * slope * need;
      // The rationalised root is stable whether the rate rises, falls or stays flat.
      const t = need <= 0 ? 0 : (2 * need) / (s.fromPerMs + Math.sqrt(Math.max(0, disc)));
      if (!Number.isFinite(t)) break;
      yield s.startMs + Math.min(t, s.durationMs);
      k++;
    }
    before = total;
  }
}
