// @ts-check
/**
 * RAG: support-bot chats grounded in retrieval (body extension
 * "rag": {"collection": "support", "top_k": 4}). Ingest the knowledge base into
 * the `support` collection first, or pass -e SEED=1 to upsert the small fixture
 * in ../scenarios/data; compare with steady.js to price retrieval.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:8080 -e MODEL=default [-e API_KEY=...] \
 *     [-e DURATION_SCALE=0.1] [-e RATE_SCALE=2] loadtest/k6/rag.js
 *
 * Scenario and thresholds: ../scenarios/rag.json (shared with `npm run loadtest -- rag`).
 * TTFT/TPOT are the gateway's own timings (switchyard block on the usage chunk);
 * for client-side TTFT and ITL use an SSE-capable build: see sse-ttft.js.
 * k6 requires the default export; this is the one place the project allows it.
 */
import http from "k6/http";
import exec from "k6/execution";
import { buildOptions } from "./lib/options.js";
import { iteration, preflight, requestHeaders } from "./lib/iteration.js";
import { settings } from "./lib/settings.js";

/** @type {import("../scenarios/types.js").Scenario} */
const scenario = JSON.parse(open("../scenarios/rag.json"));
const s = settings();
// -e SEED=1 upserts the small fixture knowledge base first (it writes to the target: opt-in).
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
