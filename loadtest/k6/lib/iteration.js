// @ts-check
/**
 * One k6 iteration: send the scenario's request for this iteration number,
 * check the contract, record the gateway-reported timings.
 */
import http from "k6/http";
import { check } from "k6";
import exec from "k6/execution";
import { buildBody } from "./body.js";
import { inspect } from "./contract.js";
import { cacheHit, contractViolations, outputTokens, sloMet, switchyardQueue, switchyardTpot, switchyardTtft } from "./metrics.js";

/** @typedef {import("../../scenarios/types.js").Scenario} Scenario */
/** @typedef {import("./settings.js").Settings} Settings */
/** @typedef {import("./contract.js").Inspection} Inspection */

/**
 * @param {Settings} s
 * @returns {Record<string, string>}
 */
export function requestHeaders(s) {
  return { "content-type": "application/json", ...(s.apiKey ? { authorization: `Bearer ${s.apiKey}` } : {}) };
}

/**
 * Records the gateway timings of a successful response and whether it met the SLO.
 * @param {Scenario} scenario
 * @param {Inspection} seen
 * @param {number} durationMs client-side end-to-end duration
 * @returns {void}
 */
export function recordTimings(scenario, seen, durationMs) {
  if (!seen.ok) {
    sloMet.add(false);
    return;
  }
  const b = seen.switchyard;
  const tokens = seen.usage?.completion_tokens ?? 0;
  outputTokens.add(tokens);
  if (!b) {
    sloMet.add(false);
    return;
  }
  const ttft = b.queue_ms + b.ttft_ms;
  switchyardTtft.add(ttft);
  switchyardQueue.add(b.queue_ms);
  cacheHit.add(b.cache === "hit");
  const tpot = tokens > 1 ? b.decode_ms / (tokens - 1) : undefined;
  if (tpot !== undefined) switchyardTpot.add(tpot);
  const slo = scenario.slo;
  sloMet.add(ttft <= slo.ttftMs && (tpot === undefined || tpot <= slo.tpotMs) && (slo.e2eMs === undefined || durationMs <= slo.e2eMs));
}

/**
 * @param {Scenario} scenario
 * @param {Settings} s
 * @returns {void}
 * @example export default function () { iteration(scenario, s); }
 */
export function iteration(scenario, s) {
  const i = exec.scenario.iterationInTest;
  const body = buildBody(scenario.request, i, s.model);
  const stream = body.stream === true;
  const includeUsage = stream && typeof body.stream_options === "object" && body.stream_options !== null && "include_usage" in body.stream_options && body.stream_options.include_usage === true;
  const maxTokens = typeof body.max_tokens === "number" ? body.max_tokens : undefined;
  const res = http.post(`${s.baseUrl}${scenario.request.path}`, JSON.stringify(body), {
    headers: requestHeaders(s),
    responseType: "text",
    timeout: "300s",
    tags: { name: scenario.request.path },
    // http_req_failed counts anything but a success, overload answers included.
    responseCallback: http.expectedStatuses(...scenario.expect.okStatuses),
  });
  const seen = inspect(res.status, res.headers, typeof res.body === "string" ? res.body : "", { stream, includeUsage, maxTokens }, scenario.expect);
  /** @type {Record<string, () => boolean>} */
  const named = {};
  for (const [name, passed] of Object.entries(seen.checks)) named[name] = () => passed;
  const allPassed = check(res, named, { status: String(res.status) });
  if (!allPassed) {
    contractViolations.add(1, { status: String(res.status) });
    if (res.status === 0) console.warn(`request ${i}: ${res.error}`);
  }
  recordTimings(scenario, seen, res.timings.duration);
}

/**
 * Runs once before the load: the gateway answers and serves the model, so a
 * wrong BASE_URL or MODEL fails in a second instead of after the whole run.
 * @param {Scenario} scenario
 * @param {Settings} s
 * @returns {{ model: string }}
 */
export function preflight(scenario, s) {
  const model = s.model ?? String(scenario.request.body.model ?? "default");
  const res = http.get(`${s.baseUrl}/v1/models`, { headers: requestHeaders(s), responseType: "text" });
  if (res.status !== 200) exec.test.abort(`GET /v1/models answered ${res.status}: is BASE_URL (${s.baseUrl}) a Switchyard or OpenAI-compatible server?`);
  const listed = /** @type {{ data?: Array<{ id?: string }> }} */ (JSON.parse(typeof res.body === "string" ? res.body : "{}"));
  if (!(listed.data ?? []).some((m) => m.id === model)) exec.test.abort(`model '${model}' is not served at ${s.baseUrl} (set MODEL)`);
  return { model };
}
