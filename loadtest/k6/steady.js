// @ts-check
/**
 * Steady: a constant arrival rate (open model) for two minutes. The numbers to
 * quote: TTFT/TPOT percentiles and goodput (slo_met rate x request rate) at a
 * known load.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:8080 -e MODEL=default [-e API_KEY=...] \
 *     [-e DURATION_SCALE=0.1] [-e RATE_SCALE=2] loadtest/k6/steady.js
 *
 * Scenario and thresholds: ../scenarios/steady.json (shared with `npm run loadtest -- steady`).
 * TTFT/TPOT are the gateway's own timings (switchyard block on the usage chunk);
 * for client-side TTFT and ITL use an SSE-capable build: see sse-ttft.js.
 * k6 requires the default export; this is the one place the project allows it.
 */
import { buildOptions } from "./lib/options.js";
import { iteration, preflight } from "./lib/iteration.js";
import { settings } from "./lib/settings.js";

/** @type {import("../scenarios/types.js").Scenario} */
const scenario = JSON.parse(open("../scenarios/steady.json"));
const s = settings();

export const options = buildOptions(scenario, s);

export function setup() {
  return preflight(scenario, s);
}

export default function () {
  iteration(scenario, s);
}
