/**
 * Drives requests: open model (arrival-rate executors) or closed model (smoke's
 * per-VU iterations). Bounded in time: nothing starts after the load's
 * duration, in-flight requests get `gracefulStopMs`, then are aborted.
 */
import { setImmediate as yieldToIo, setTimeout as sleep } from "node:timers/promises";
import type { LoadSpec } from "../scenarios/types.js";
import { parseDuration } from "./duration.js";
import { arrivals, loadDurationMs } from "./schedule.js";

export interface Fire {
  i: number;
  scheduledMs: number;
  inFlight: number;
  signal: AbortSignal;
}

export interface DriveOptions {
  load: LoadSpec;
  /** Cap on requests in flight (open model); arrivals past it are dropped. Default `load.maxVUs`. */
  maxInFlight?: number;
  gracefulStopMs: number;
  /** performance.now() the schedule counts from. */
  t0: number;
  /** Runs one request; must not reject. */
  fire: (f: Fire) => Promise<void>;
  /** Called about once a second with progress. */
  onProgress?: (p: { elapsedMs: number; started: number; inFlight: number; dropped: number }) => void;
}

export interface DriveResult {
  started: number;
  dropped: number;
  /** Scheduled times (ms from t0) of the dropped arrivals. */
  droppedMs: number[];
  /** [ms from t0, in flight] every 100 ms. */
  inFlightSamples: Array<[number, number]>;
  /** ms from t0 when the last request settled. */
  endMs: number;
}

/**
 * @example
 * ```ts
 * const t0 = performance.now();
 * await drive({ load: scenario.load, gracefulStopMs: 30_000, t0, fire: async (f) => { records.push(await sendRequest(...)); } });
 * ```
 */
export async function drive(opts: DriveOptions): Promise<DriveResult> {
  const { load, t0 } = opts;
  const abort = new AbortController();
  const inflight = new Set<Promise<void>>();
  const samples: Array<[number, number]> = [];
  let started = 0;
  let dropped = 0;
  const droppedMs: number[] = [];
  const now = () => performance.now() - t0;
  const sampler = setInterval(() => samples.push([Math.round(now()), inflight.size]), 100);
  const progress = setInterval(() => opts.onProgress?.({ elapsedMs: now(), started, inFlight: inflight.size, dropped }), 1000);

  const launch = (i: number, scheduledMs: number): Promise<void> => {
    started++;
    const p: Promise<void> = opts
      .fire({ i, scheduledMs, inFlight: inflight.size + 1, signal: abort.signal })
      .catch(() => undefined)
      .finally(() => inflight.delete(p));
    inflight.add(p);
    return p;
  };

  try {
    const endMs = loadDurationMs(load);
    if (load.executor === "per-vu-iterations") {
      // Closed model: each user sends its next request when the previous one is done.
      let next = 0;
      const user = async () => {
        for (let k = 0; k < load.iterations && now() < endMs && !abort.signal.aborted; k++) await launch(next++, now());
      };
      const users = Promise.all(Array.from({ length: load.vus }, user));
      const cap = sleep(endMs, undefined, { ref: false });
      await Promise.race([users, cap]);
    } else {
      const max = opts.maxInFlight ?? load.maxVUs;
      let i = 0;
      for (const at of arrivals(load)) {
        if (at >= endMs) break;
        const wait = at - now();
        // Behind schedule, still let responses be read between starts.
        if (wait > 1) await sleep(wait);
        else await yieldToIo();
        if (inflight.size >= max) {
          dropped++;
          droppedMs.push(at);
          i++;
          continue;
        }
        void launch(i++, at);
      }
    }
    // Graceful stop: let in-flight requests finish, within limits.
    const settled = Promise.allSettled([...inflight]);
    await Promise.race([settled, sleep(opts.gracefulStopMs, undefined, { ref: false })]);
    abort.abort();
    await Promise.allSettled([...inflight]);
  } finally {
    clearInterval(sampler);
    clearInterval(progress);
    abort.abort();
  }
  return { started, dropped, droppedMs, inFlightSamples: samples, endMs: now() };
}

/** k6's default graceful stop, scaled with the run but never under 5 s. @example defaultGracefulStopMs(0.1) // 5000 */
export function defaultGracefulStopMs(durationScale: number): number {
  return Math.max(5_000, parseDuration("30s") * Math.min(1, durationScale));
}
