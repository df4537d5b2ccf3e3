// @ts-check
/**
 * Custom metrics, created at init as k6 requires. Names match the Node runner's
 * (loadtest/runner/metrics.ts) so one scenario's thresholds mean the same thing
 * in both. TTFT and TPOT come from the gateway's `switchyard` block: plain k6
 * receives a streamed body only once it is complete, so it cannot time the
 * first token itself (see sse-ttft.js for a build that can).
 */
import { Counter, Rate, Trend } from "k6/metrics";

/** Gateway-reported time to first token, queue included (`queue_ms + ttft_ms`). */
export const switchyardTtft = new Trend("switchyard_ttft_ms", true);
/** Gateway-reported time per output token after the first: `decode_ms / (completion_tokens - 1)`. */
export const switchyardTpot = new Trend("switchyard_tpot_ms", true);
/** Time waiting in the gateway's queue for a slot. */
export const switchyardQueue = new Trend("switchyard_queue_ms", true);
/** A success that met the scenario's SLO; `rate × request rate` is goodput. */
export const sloMet = new Rate("slo_met");
/** Responses served from the response cache (`switchyard.cache == "hit"`). */
export const cacheHit = new Rate("cache_hit");
/** Responses that broke the contract: unexpected status, missing Retry-After, malformed body or stream. */
export const contractViolations = new Counter("contract_violations");
export const outputTokens = new Counter("output_tokens");

/** Every metric a scenario threshold may name in k6 (built-ins and the above). */
export const KNOWN_METRICS = [
  "http_req_duration",
  "http_req_failed",
  "http_reqs",
  "iterations",
  "dropped_iterations",
  "checks",
  "switchyard_ttft_ms",
  "switchyard_tpot_ms",
  "switchyard_queue_ms",
  "slo_met",
  "cache_hit",
  "contract_violations",
  "output_tokens",
];
