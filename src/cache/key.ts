/**
 * Cache keys: a SHA-256 over a canonical JSON rendering of everything that
 * can change a generation's output, so that equal requests (whatever the
 * client's key order or whitespace) share one entry and any difference in
 * output-affecting input gives a different one.
 */
import { createHash } from "node:crypto";

/**
 * Bumped whenever the key layout or the meaning of a part changes, so entries
 * written by an older gateway (e.g. in a shared Redis) are never matched.
 */
const KEY_VERSION = 1;

/**
 * The inputs of a cache key. The server passes the *parsed, defaulted*
 * request, so two requests that mean the same thing produce equal parts.
 */
export interface CacheKeyParts {
  /** Entries are never shared across tenants. */
  tenant: string;
  endpoint: "chat" | "completion";
  /** Resolved model name (not the client's alias). */
  model: string;
  /**
   * Identity of the weights actually loaded (e.g. path + size + mtime, or a
   * digest), so replacing a GGUF under the same name invalidates its entries.
   */
  modelIdentity: string;
  /** The full message list (chat) or the prompt (completion). */
  input: unknown;
  /**
   * Every parameter that changes output: sampling params, seed, stop, max
   * tokens, response_format, tools/tool_choice, logprobs, n. Leave out what
   * does not (`stream`, `stream_options`, `user`, request ids): a streamed and
   * a non-streamed request then share an entry.
   */
  params: object;
  /** Version of the RAG collection when retrieval is used; a re-index invalidates. */
  ragVersion?: string;
}

/**
 * Deterministic JSON: object keys sorted (by UTF-16 code unit), no
 * whitespace, `undefined` object members dropped (so `{a: undefined}` equals
 * `{}`), `undefined` array items written as `null` (as `JSON.stringify` does).
 * Numbers use JavaScript's shortest round-trip form, which is stable; `-0` is
 * written as `0`. Values with `toJSON` (e.g. `Date`) are rendered through it.
 *
 * Throws a `TypeError` for what has no faithful JSON form — non-finite
 * numbers, bigints, functions, symbols, cycles, and class instances such as
 * `Map` — because silently rendering those (NaN as `null`, a Map as `{}`)
 * could make two different requests share a key.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, "x"], c: undefined }); // '{"a":[true,"x"],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return render(value, new Set<object>());
}

/**
 * The cache key for a request: `sha256(canonicalJson(parts))` as hex.
 *
 * @example
 * ```ts
 * const key = cacheKey({
 *   tenant: principal.tenant,
 *   endpoint: "chat",
 *   model: resolved.name,
 *   modelIdentity: resolved.fileIdentity,
 *   input: messages,
 *   params: { ...samplingParams, responseFormat, tools, toolChoice, logprobs, n },
 * });
 * ```
 */
export function cacheKey(parts: CacheKeyParts): string {
  // Spelled out rather than spreading `parts`, so a stray extra property on
  // the caller's object cannot leak into (and fragment) the key.
  const material = {
    v: KEY_VERSION,
    tenant: parts.tenant,
    endpoint: parts.endpoint,
    model: parts.model,
    modelIdentity: parts.modelIdentity,
    input: parts.input,
    params: parts.params,
    ragVersion: parts.ragVersion,
  };
  return createHash("sha256").update(canonicalJson(material), "utf8").digest("hex");
}

function render(value: unknown, seen: Set<object>): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${String(value)}`);
      // `Object.is(-0, 0)` is false but JSON has one zero; String(-0) is already "0".
      return String(value);
    case "object":
      return value === null ? "null" : renderObject(value, seen);
    default:
      // undefined at the top level, bigint, function, symbol.
      throw new TypeError(`canonicalJson: cannot render a value of type ${typeof value}`);
  }
}

function renderObject(value: object, seen: Set<object>): string {
  if (seen.has(value)) throw new TypeError("canonicalJson: cyclic structure");
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      const items = (value as unknown[]).map((item) => (item === undefined ? "null" : render(item, seen)));
      return `[${items.join(",")}]`;
    }
    const toJson = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJson === "function") return render((toJson as () => unknown).call(value), seen);
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`canonicalJson: cannot render a ${value.constructor.name} instance`);
    }
    const record = value as Record<string, unknown>;
    const members: string[] = [];
    for (const name of Object.keys(record).sort()) {
      const member = record[name];
      if (member === undefined) continue;
      members.push(`${JSON.stringify(name)}:${render(member, seen)}`);
    }
    return `{${members.join(",")}}`;
  } finally {
    // Only ancestors count as a cycle; the same object twice side by side is fine.
    seen.delete(value);
  }
}
