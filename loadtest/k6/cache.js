// @ts-check
/**
 * Cache: the same six support questions at temperature 0 with a fixed seed.
 * After the first round the response cache should answer (cache_hit rate) and
 * switchyard_ttft_ms should collapse.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:8080 -e MODEL=default [-e API_KEY=...] \
 *     [-e DURATION_SCALE=0.1] [-e RATE_SCALE=2] loadtest/k6/cache.js
 *
 * Scenario and thresholds: ../scenarios/cache.json (shared with `npm run loadtest -- cache`).
 * TTFT/TPOT are the gateway's own timings (switchyard block on the usage chunk);
 * for client-side TTFT and ITL use an SSE-capable build: see sse-ttft.js.
 * k6 requires the default export; this is the one place the project allows it.
 */
import { buildOptions } from "./lib/options.js";
import { iteration, preflight } from "./lib/iteration.js";
import { settings } from "./lib/settings.js";

/** @type {import("../scenarios/types.js").Scenario} */
const scenario = JSON.parse(open("../scenarios/cache.json"));
const s = settings();

export const options = buildOptions(scenario, s);

export function setup() {
  return preflight(scenario, s);
}

export default function () {
  iteration(scenario, s);
}
