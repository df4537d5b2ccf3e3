// @ts-check
/* global localStorage, fetch */
/**
 * The public API as the pages use it: the stored API key, JSON requests, and
 * OpenAI error envelopes turned into readable messages. Nothing here is
 * private to Switchyard, so the pages double as reference clients.
 */

const KEY_STORAGE = "switchyard.apiKey";

/** @returns {string} the saved API key, or "" (storage may be disabled). */
export function loadApiKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? "";
  } catch {
    return "";
  }
}

/** @param {string} key saved for the next visit; "" forgets it. */
export function saveApiKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // Private mode or storage disabled: the key still works for this page's lifetime.
  }
}

/**
 * Request headers carrying the key, when there is one (open local mode needs none).
 * @param {string} key
 * @returns {Record<string, string>}
 */
export function authHeaders(key) {
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** An HTTP failure, with OpenAI's error fields when the body had them. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {string | null} [code]
   */
  constructor(status, message, code = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/**
 * Builds an {@link ApiError} from a failed response, reading the error envelope if any.
 * @param {Response} res
 * @returns {Promise<ApiError>}
 */
export async function apiError(res) {
  let message = `${res.status} ${res.statusText || "error"}`;
  let code = null;
  try {
    const body = /** @type {{ error?: { message?: unknown, code?: unknown } }} */ (await res.json());
    if (typeof body.error?.message === "string") message = body.error.message;
    if (typeof body.error?.code === "string") code = body.error.code;
  } catch {
    // Not JSON (a proxy's HTML page): the status line is all we have.
  }
  return new ApiError(res.status, message, code);
}

/**
 * JSON request with the key; rejects with {@link ApiError} on a non-2xx status.
 * @param {string} path
 * @param {{ key: string, method?: string, body?: unknown, signal?: AbortSignal }} options
 * @returns {Promise<unknown>}
 */
export async function requestJson(path, { key, method = "GET", body, signal }) {
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json", ...authHeaders(key) };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal ? { signal } : {}),
  });
  if (!res.ok) throw await apiError(res);
  return res.json();
}

/**
 * `GET /v1/collections`, or `undefined` when this gateway has no collections
 * API (404/405): the caller hides what depends on it.
 * @param {string} key
 * @returns {Promise<Array<{ name: string, documents?: number, chunks?: number }> | undefined>}
 */
export async function listCollections(key) {
  try {
    const body = /** @type {{ data?: unknown }} */ (await requestJson("/v1/collections", { key }));
    if (!Array.isArray(body.data)) return [];
    return body.data.filter(
      /** @returns {c is { name: string }} */ (c) => typeof c === "object" && c !== null && typeof c.name === "string",
    );
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return undefined;
    throw err;
  }
}

/**
 * `GET /v1/models` ids, sorted with the canonical names (not aliases) first.
 * @param {string} key
 * @returns {Promise<Array<{ id: string, root: string }>>}
 */
export async function listModels(key) {
  const body = /** @type {{ data?: Array<{ id?: unknown, root?: unknown }> }} */ (await requestJson("/v1/models", { key }));
  const models = (body.data ?? [])
    .filter((m) => typeof m.id === "string")
    .map((m) => ({ id: String(m.id), root: typeof m.root === "string" ? m.root : String(m.id) }));
  return models.sort((a, b) => Number(b.id === b.root) - Number(a.id === a.root) || a.id.localeCompare(b.id));
}

/**
 * Human-readable text for any failure, for status lines.
 * @param {unknown} err
 * @returns {string}
 */
export function describeError(err) {
  if (err instanceof ApiError) {
    if (err.status === 401) return `${err.message} Set an API key in Settings.`;
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
