// @ts-check
/**
 * A scenario file → k6 `options`: the executor, scaled by DURATION_SCALE and
 * RATE_SCALE, and the scenario's thresholds (those naming metrics this build
 * records; others are reported and dropped, since k6 refuses thresholds on
 * unknown metrics).
 */
import { formatDuration, parseDuration } from "./duration.js";
import { KNOWN_METRICS } from "./metrics.js";

/** @typedef {import("../../scenarios/types.js").Scenario} Scenario */
/** @typedef {import("../../scenarios/types.js").LoadSpec} LoadSpec */
/** @typedef {import("./settings.js").Settings} Settings */
/** @typedef {import("k6/options").Options} Options */
/** @typedef {import("k6/options").Scenario} K6Scenario */

/**
 * k6 wants integer rates. A scaled rate keeps its meaning by moving to a
 * per-minute time unit (k6 spreads the iterations evenly within the unit).
 * @param {number} rate
 * @param {string} timeUnit
 * @param {number} scale
 * @param {boolean} [always] convert even when the rate is already an integer
 * @returns {{ rate: number, timeUnit: string }}
 */
function scaleRate(rate, timeUnit, scale, always = false) {
  if (!always && scale === 1 && Number.isInteger(rate)) return { rate, timeUnit };
  const perMinute = (rate * scale * 60_000) / parseDuration(timeUnit);
  return { rate: Math.max(0, Math.round(perMinute)), timeUnit: "1m" };
}

/**
 * @param {LoadSpec} load
 * @param {Settings} s
 * @returns {K6Scenario}
 */
export function k6Executor(load, s) {
  const scaled = (/** @type {string} */ d) => formatDuration(parseDuration(d) * s.durationScale);
  switch (load.executor) {
    case "per-vu-iterations":
      // Smoke is a fixed number of requests: the duration scale does not apply.
      return { executor: "per-vu-iterations", vus: load.vus, iterations: load.iterations, maxDuration: load.maxDuration };
    case "constant-arrival-rate": {
      const { rate, timeUnit } = scaleRate(load.rate, load.timeUnit, s.rateScale);
      return {
        executor: "constant-arrival-rate",
        rate,
        timeUnit,
        duration: scaled(load.duration),
        preAllocatedVUs: load.preAllocatedVUs,
        maxVUs: load.maxVUs,
      };
    }
    case "ramping-arrival-rate": {
      // One time unit for the whole executor: per minute as soon as any rate needs it.
      const rates = [load.startRate, ...load.stages.map((st) => st.target)];
      const exact = s.rateScale === 1 && rates.every((r) => Number.isInteger(r));
      const rate = (/** @type {number} */ r) => (exact ? { rate: r, timeUnit: load.timeUnit } : scaleRate(r, load.timeUnit, s.rateScale, true));
      return {
        executor: "ramping-arrival-rate",
        startRate: rate(load.startRate).rate,
        timeUnit: rate(load.startRate).timeUnit,
        stages: load.stages.map((st) => ({ target: rate(st.target).rate, duration: scaled(st.duration) })),
        preAllocatedVUs: load.preAllocatedVUs,
        maxVUs: load.maxVUs,
      };
    }
  }
}

/**
 * @param {Scenario} scenario
 * @param {Settings} s
 * @param {string[]} [extraMetrics] metrics the calling script records besides KNOWN_METRICS
 * @returns {Options}
 * @example export const options = buildOptions(scenario, settings());
 */
export function buildOptions(scenario, s, extraMetrics = []) {
  const known = new Set([...KNOWN_METRICS, ...extraMetrics]);
  /** @type {Record<string, string[]>} */
  const thresholds = {};
  for (const [metric, exprs] of Object.entries(scenario.thresholds)) {
    if (known.has(metric)) thresholds[metric] = exprs;
    else console.warn(`threshold on '${metric}' skipped: this k6 build does not record it`);
  }
  return {
    scenarios: { [scenario.name]: k6Executor(scenario.load, s) },
    thresholds,
    summaryTrendStats: ["avg", "min", "med", "p(90)", "p(99)", "max"],
    // Arrivals are open-model; generous timeouts keep slow responses measured rather than cut.
    setupTimeout: "60s",
  };
}
