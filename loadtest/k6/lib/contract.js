// @ts-check
/**
 * The response contract, checked on a complete response (status, headers, body
 * text). The Node runner checks the same rules while it reads the stream
 * (loadtest/runner/contract.ts).
 */
import { sseData } from "./sse.js";

/** @typedef {import("../../scenarios/types.js").Expectations} Expectations */

/**
 * @typedef {object} SwitchyardBlock
 * @property {number} queue_ms
 * @property {number} ttft_ms
 * @property {number} decode_ms
 * @property {number} cached_prompt_tokens
 * @property {string} shard
 * @property {string} cache
 */

/**
 * @typedef {object} Usage
 * @property {number} prompt_tokens
 * @property {number} completion_tokens
 * @property {number} total_tokens
 */

/**
 * @typedef {object} Inspection
 * @property {Record<string, boolean>} checks named results, for k6 `check()`
 * @property {boolean} ok a success status
 * @property {Usage | undefined} usage
 * @property {SwitchyardBlock | undefined} switchyard
 */

/**
 * @param {Record<string, string>} headers
 * @param {string} name lower-case
 * @returns {string | undefined}
 */
export function header(headers, name) {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/**
 * @param {string} text
 * @returns {unknown}
 */
function tryJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * @param {unknown} v
 * @returns {v is Record<string, unknown>}
 */
function isObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * @param {unknown} v
 * @returns {SwitchyardBlock | undefined}
 */
function switchyardOf(v) {
  if (!isObject(v) || !isObject(v.switchyard)) return undefined;
  const b = v.switchyard;
  return typeof b.ttft_ms === "number" && typeof b.queue_ms === "number" && typeof b.decode_ms === "number"
    ? /** @type {SwitchyardBlock} */ (/** @type {unknown} */ (b))
    : undefined;
}

/**
 * @param {unknown} v
 * @returns {Usage | undefined}
 */
function usageOf(v) {
  if (!isObject(v) || !isObject(v.usage)) return undefined;
  const u = v.usage;
  return typeof u.prompt_tokens === "number" && typeof u.completion_tokens === "number" && typeof u.total_tokens === "number"
    ? /** @type {Usage} */ (/** @type {unknown} */ (u))
    : undefined;
}

/**
 * @param {unknown} chunk
 * @returns {string}
 */
function textOf(chunk) {
  if (!isObject(chunk) || !Array.isArray(chunk.choices)) return "";
  /** @type {unknown} */
  const c = chunk.choices[0];
  if (!isObject(c)) return "";
  if (typeof c.text === "string") return c.text;
  if (isObject(c.message) && typeof c.message.content === "string") return c.message.content;
  if (isObject(c.delta) && typeof c.delta.content === "string") return c.delta.content;
  return "";
}

/**
 * @param {number} status
 * @param {Record<string, string>} headers
 * @param {string} body
 * @param {{ stream: boolean, includeUsage: boolean, maxTokens: number | undefined }} req
 * @param {Expectations} expect
 * @returns {Inspection}
 * @example const { checks } = inspect(res.status, res.headers, String(res.body), { stream: true, includeUsage: true, maxTokens: 64 }, scenario.expect);
 */
export function inspect(status, headers, body, req, expect) {
  /** @type {Record<string, boolean>} */
  const checks = {};
  const ok = expect.okStatuses.includes(status);
  checks["status is expected (success or proper overload)"] = ok || expect.toleratedStatuses.includes(status);
  if (expect.retryAfterOn.includes(status)) checks[`${status} carries Retry-After`] = Boolean(header(headers, "retry-after"));
  if (!ok) {
    const err = tryJson(body);
    checks["error body is the OpenAI envelope"] = isObject(err) && isObject(err.error) && typeof err.error.message === "string";
    return { checks, ok, usage: undefined, switchyard: undefined };
  }

  /** @type {Usage | undefined} */
  let usage;
  /** @type {SwitchyardBlock | undefined} */
  let switchyard;
  let text = "";
  if (req.stream) {
    const payloads = sseData(body);
    const chunks = payloads.filter((p) => p !== "[DONE]").map(tryJson);
    checks["stream ends with [DONE]"] = payloads[payloads.length - 1] === "[DONE]";
    checks["stream chunks are JSON"] = chunks.every(isObject);
    checks["stream has no error event"] = !chunks.some((c) => isObject(c) && "error" in c);
    for (const c of chunks) {
      text += textOf(c);
      usage = usageOf(c) ?? usage;
      switchyard = switchyardOf(c) ?? switchyard;
    }
    if (req.includeUsage) checks["usage chunk carries the switchyard block"] = usage !== undefined && switchyard !== undefined;
  } else {
    const json = tryJson(body);
    checks["body is a completion"] = isObject(json) && (json.object === "chat.completion" || json.object === "text_completion");
    text = textOf(json);
    usage = usageOf(json);
    switchyard = switchyardOf(json);
    checks["body carries usage and the switchyard block"] = usage !== undefined && switchyard !== undefined;
  }
  checks["output is not empty"] = text.length > 0;
  if (usage) {
    checks["usage adds up"] = usage.total_tokens === usage.prompt_tokens + usage.completion_tokens;
    if (req.maxTokens !== undefined) checks["completion_tokens <= max_tokens"] = usage.completion_tokens <= req.maxTokens;
  }
  return { checks, ok, usage, switchyard };
}
