// @ts-check
/**
 * Smoke: one user, a handful of streamed and non-streamed chats; every
 * response is checked against the OpenAI contract and the switchyard block.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:8080 -e MODEL=default loadtest/k6/smoke.js
 *
 * Scenario and thresholds: ../scenarios/smoke.json (shared with `npm run loadtest -- smoke`).
 * k6 requires the default export; this is the one place the project allows it.
 */
import { buildOptions } from "./lib/options.js";
import { iteration, preflight } from "./lib/iteration.js";
import { settings } from "./lib/settings.js";

/** @type {import("../scenarios/types.js").Scenario} */
const scenario = JSON.parse(open("../scenarios/smoke.json"));
const s = settings();

export const options = buildOptions(scenario, s);

export function setup() {
  return preflight(scenario, s);
}

export default function () {
  iteration(scenario, s);
}
