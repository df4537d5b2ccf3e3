// @ts-check
/**
 * Client-side TTFT and inter-token latency with an SSE-capable k6 build.
 * Plain k6 reads a response only once it is complete, so the other scripts
 * take TTFT/TPOT from the gateway's switchyard block; this one times every
 * chunk as it arrives, which is what a user feels (network and proxies included).
 *
 * Build k6 with the xk6-sse extension (needs Go):
 *
 *   go install go.k6.io/xk6/cmd/xk6@latest
 *   xk6 build --with github.com/phymbert/xk6-sse
 *   ./k6 run -e SCENARIO=steady -e BASE_URL=http://127.0.0.1:8080 loadtest/k6/sse-ttft.js
 *
 * SCENARIO names any file in ../scenarios (default steady); requests are always
 * streamed with include_usage, so the gateway timings are recorded alongside.
 * Extra metrics: client_ttft_ms, client_itl_ms (scenario thresholds may name them).
 * k6 requires the default export; this is the one place the project allows it.
 */
import sse from "k6/x/sse";
import { check } from "k6";
import exec from "k6/execution";
import { Trend } from "k6/metrics";
import { buildBody } from "./lib/body.js";
import { inspect } from "./lib/contract.js";
import { requestHeaders, preflight, recordTimings } from "./lib/iteration.js";
import { contractViolations } from "./lib/metrics.js";
import { buildOptions } from "./lib/options.js";
import { settings } from "./lib/settings.js";

/** @type {import("./../scenarios/types.js").Scenario} */
const scenario = JSON.parse(open(`../scenarios/${__ENV.SCENARIO || "steady"}.json`));
const s = settings();

const clientTtft = new Trend("client_ttft_ms", true);
const clientItl = new Trend("client_itl_ms", true);

export const options = buildOptions(scenario, s, ["client_ttft_ms", "client_itl_ms"]);

export function setup() {
  return preflight(scenario, s);
}

/**
 * @param {string} data
 * @returns {boolean} whether an SSE payload carries output text
 */
function hasText(data) {
  try {
    /** @type {{ choices?: Array<{ delta?: { content?: string | null }, text?: string }> }} */
    const chunk = JSON.parse(data);
    const c = chunk.choices?.[0];
    return Boolean(c?.delta?.content || c?.text);
  } catch {
    return false;
  }
}

export default function () {
  const i = exec.scenario.iterationInTest;
  /** @type {Record<string, unknown>} */
  const body = { ...buildBody(scenario.request, i, s.model), stream: true, stream_options: { include_usage: true } };
  const maxTokens = typeof body.max_tokens === "number" ? body.max_tokens : undefined;
  /** @type {string[]} */
  const payloads = [];
  const start = Date.now();
  let last = 0;
  const res = sse.open(`${s.baseUrl}${scenario.request.path}`, { method: "POST", body: JSON.stringify(body), headers: requestHeaders(s) }, (client) => {
    client.on("event", (event) => {
      const now = Date.now();
      payloads.push(event.data);
      if (event.data === "[DONE]") return client.close();
      if (!hasText(event.data)) return;
      if (last === 0) clientTtft.add(now - start);
      else clientItl.add(now - last);
      last = now;
    });
    client.on("error", (e) => console.warn(`request ${i}: ${e.error()}`));
  });
  const text = payloads.map((p) => `data: ${p}\n\n`).join("");
  const seen = inspect(res.status, res.headers ?? {}, text, { stream: true, includeUsage: true, maxTokens }, scenario.expect);
  // sse.open does not hand over a non-stream error body, so the envelope cannot be checked here.
  delete seen.checks["error body is the OpenAI envelope"];
  /** @type {Record<string, () => boolean>} */
  const named = {};
  for (const [name, passed] of Object.entries(seen.checks)) named[name] = () => passed;
  if (!check(res, named, { status: String(res.status) })) contractViolations.add(1, { status: String(res.status) });
  recordTimings(scenario, seen, Date.now() - start);
}
