// @ts-check
/**
 * Run settings from k6's `-e NAME=value` flags (or the environment with
 * `--include-system-env-vars`).
 *
 *   BASE_URL        gateway origin, no /v1 (default http://127.0.0.1:8080)
 *   API_KEY         bearer key; unset = open local mode
 *   MODEL           overrides the scenario body's `model`
 *   DURATION_SCALE  multiplies every duration (0.1 = a ten-times shorter rehearsal)
 *   RATE_SCALE      multiplies every arrival rate (size the load to the deployment)
 */

/**
 * @typedef {object} Settings
 * @property {string} baseUrl
 * @property {string | undefined} apiKey
 * @property {string | undefined} model
 * @property {number} durationScale
 * @property {number} rateScale
 */

/**
 * @param {string | undefined} raw
 * @param {string} name
 * @returns {number}
 */
function positive(raw, name) {
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return n;
}

/**
 * @returns {Settings}
 * @example const { baseUrl } = settings(); // "http://127.0.0.1:8080"
 */
export function settings() {
  return {
    baseUrl: (__ENV.BASE_URL || "http://127.0.0.1:8080").replace(/\/+$/, ""),
    apiKey: __ENV.API_KEY || undefined,
    model: __ENV.MODEL || undefined,
    durationScale: positive(__ENV.DURATION_SCALE, "DURATION_SCALE"),
    rateScale: positive(__ENV.RATE_SCALE, "RATE_SCALE"),
  };
}
