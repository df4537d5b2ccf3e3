// @ts-check
/**
 * The one k6 entry script: runs the scenario named by -e SCENARIO, read from
 * ../scenarios/<name>.json (the same file `npm run loadtest -- <name>` reads).
 *
 *   k6 run -e SCENARIO=steady -e BASE_URL=http://127.0.0.1:8080 -e MODEL=default [-e API_KEY=...] \
 *     [-e DURATION_SCALE=0.1] [-e RATE_SCALE=2] loadtest/k6/run.js
 *
 * Scenarios: smoke, steady, ramp, spike, cache, rag, soak (see ../README.md).
 * A scenario with a `seed` (rag) upserts its small fixture knowledge base
 * first when -e SEED=1 is given (it writes to the target: opt-in).
 * TTFT/TPOT are the gateway's own timings (switchyard block on the usage chunk);
 * for client-side TTFT and ITL use an SSE-capable build: see sse-ttft.js.
 * k6 requires the default export; this is the one place the project allows it.
 */
import http from "k6/http";
import exec from "k6/execution";
import { buildOptions } from "./lib/options.js";
import { iteration, preflight, requestHeaders } from "./lib/iteration.js";
import { settings } from "./lib/settings.js";

const name = __ENV.SCENARIO ?? "";
if (!/^[\w-]+$/.test(name)) throw new Error(`set -e SCENARIO=<name> to a file of loadtest/scenarios (smoke, steady, ramp, spike, cache, rag, soak); got '${name}'`);

/** @type {import("../scenarios/types.js").Scenario} */
const scenario = JSON.parse(open(`../scenarios/${name}.json`));
const s = settings();
const seed = __ENV.SEED === "1" && scenario.seed ? { collection: scenario.seed.collection, body: open(`../scenarios/${scenario.seed.documents}`) } : undefined;

export const options = buildOptions(scenario, s);

export function setup() {
  const ready = preflight(scenario, s);
  if (seed) {
    const res = http.post(`${s.baseUrl}/v1/collections/${seed.collection}/documents`, JSON.stringify({ documents: JSON.parse(seed.body) }), { headers: requestHeaders(s), timeout: "120s" });
    if (res.status !== 200) exec.test.abort(`seeding collection '${seed.collection}' answered ${res.status}`);
  }
  return ready;
}

export default function () {
  iteration(scenario, s);
}
