// @ts-check
/**
 * Ramp: the arrival rate doubles every 30 s (ramping-arrival-rate). Find the knee:
 * the rate past which http_reqs stops following the offered rate and
 * switchyard_queue_ms / switchyard_ttft_ms climb. Run with the Node runner for
 * the per-second chart, or export k6 metrics (--out json=ramp.json) and plot.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:8080 -e MODEL=default [-e API_KEY=...] \
 *     [-e DURATION_SCALE=0.1] [-e RATE_SCALE=2] loadtest/k6/ramp.js
 *
 * Scenario and thresholds: ../scenarios/ramp.json (shared with `npm run loadtest -- ramp`).
 * TTFT/TPOT are the gateway's own timings (switchyard block on the usage chunk);
 * for client-side TTFT and ITL use an SSE-capable build: see sse-ttft.js.
 * k6 requires the default export; this is the one place the project allows it.
 */
import { buildOptions } from "./lib/options.js";
import { iteration, preflight } from "./lib/iteration.js";
import { settings } from "./lib/settings.js";

/** @type {import("../scenarios/types.js").Scenario} */
const scenario = JSON.parse(open("../scenarios/ramp.json"));
const s = settings();

export const options = buildOptions(scenario, s);

export function setup() {
  return preflight(scenario, s);
}

export default function () {
  iteration(scenario, s);
}
