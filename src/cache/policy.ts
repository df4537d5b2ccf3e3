/**
 * When may a request use the cache: the request's `Cache-Control` header and
 * whether its output is deterministic at all.
 */
import type { CacheDirective } from "./types.js";

/** Neither look up nor store: non-deterministic requests, `no-store`, a disabled cache. */
export const BYPASS_DIRECTIVE: Readonly<CacheDirective> = Object.freeze({ lookup: false, store: false });

/**
 * Parses a request's `Cache-Control` (RFC 9111 §5.2.1, adapted to a cache
 * whose entries cannot be revalidated — a generation has no origin to ask):
 *
 * - `no-cache`: the client wants a fresh answer. Do not answer from the cache
 *   (nor join an identical in-flight generation), but the fresh answer may be
 *   stored — as RFC 9111 allows.
 * - `no-store`: nothing about this exchange may be kept. Not stored, and not
 *   looked up either: a client asking us to keep nothing expects a fresh
 *   generation, and not looking up keeps the rule simple to explain.
 * - `max-age=N`: a stored answer older than N seconds counts as a miss (and
 *   the fresh answer replaces it). `max-age=0` is the same as `no-cache`. An
 *   invalid value is read as 0, the conservative choice.
 * - Anything else (`max-stale`, `min-fresh`, `only-if-cached`, extensions) is
 *   ignored. Directive names are case-insensitive; quoted values may contain
 *   commas.
 *
 * @example
 * ```ts
 * cacheDirective(undefined);              // { lookup: true,  store: true }
 * cacheDirective("no-cache");             // { lookup: false, store: true }
 * cacheDirective("No-Store");             // { lookup: false, store: false }
 * cacheDirective("max-age=60");           // { lookup: true,  store: true, maxAgeMs: 60000 }
 * ```
 */
export function cacheDirective(headerValue: string | undefined): CacheDirective {
  let lookup = true;
  let store = true;
  let maxAgeMs: number | undefined;
  for (const [name, value] of parseCacheControl(headerValue ?? "")) {
    if (name === "no-store") {
      lookup = false;
      store = false;
    } else if (name === "no-cache") {
      lookup = false;
    } else if (name === "max-age") {
      const seconds = value !== undefined && /^\d+$/.test(value) ? Number(value) : 0;
      // Repeated max-age: the most restrictive wins.
      maxAgeMs = Math.min(maxAgeMs ?? Infinity, seconds * 1000);
    }
  }
  if (maxAgeMs === 0) lookup = false;
  return lookup && maxAgeMs !== undefined ? { lookup, store, maxAgeMs } : { lookup, store };
}

/**
 * Only deterministic requests are cached: greedy decoding (temperature 0) or
 * an explicit seed. Anything else is expected to differ on every call, so
 * replaying one stored sample would change what the client asked for.
 *
 * @example
 * ```ts
 * isDeterministic({ temperature: 0 });             // true
 * isDeterministic({ temperature: 0.7 });           // false
 * isDeterministic({ temperature: 0.7, seed: 42 }); // true
 * ```
 */
export function isDeterministic(params: { temperature: number; seed?: number | undefined }): boolean {
  return params.temperature === 0 || (params.seed !== undefined && Number.isFinite(params.seed));
}

/**
 * The directive a request actually gets: {@link cacheDirective} for
 * deterministic requests, {@link BYPASS_DIRECTIVE} for the rest.
 *
 * @example
 * ```ts
 * const directive = cacheDirectiveFor(c.req.header("cache-control"), params);
 * ```
 */
export function cacheDirectiveFor(
  headerValue: string | undefined,
  params: { temperature: number; seed?: number | undefined },
): CacheDirective {
  return isDeterministic(params) ? cacheDirective(headerValue) : { ...BYPASS_DIRECTIVE };
}

/**
 * Splits a Cache-Control list into `[lower-cased name, value]` pairs.
 * Grammar (RFC 9110 §5.6): `#( token [ "=" ( token / quoted-string ) ] )`.
 * A hand-rolled scanner because a naive `split(",")` would cut a quoted
 * value such as `private="a, b"` in two.
 */
function parseCacheControl(header: string): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  let i = 0;
  const n = header.length;
  while (i < n) {
    // Skip separators and optional whitespace.
    while (i < n && (header[i] === "," || header[i] === " " || header[i] === "\t")) i++;
    const nameStart = i;
    while (i < n && header[i] !== "=" && header[i] !== ",") i++;
    const name = header.slice(nameStart, i).trim().toLowerCase();
    let value: string | undefined;
    if (header[i] === "=") {
      i++;
      while (i < n && (header[i] === " " || header[i] === "\t")) i++;
      if (header[i] === '"') {
        i++;
        let quoted = "";
        while (i < n && header[i] !== '"') {
          if (header[i] === "\\" && i + 1 < n) i++;
          quoted += header.charAt(i);
          i++;
        }
        i++; // closing quote (or end of input)
        value = quoted;
        // Ignore anything malformed up to the next separator.
        while (i < n && header[i] !== ",") i++;
      } else {
        const valueStart = i;
        while (i < n && header[i] !== ",") i++;
        value = header.slice(valueStart, i).trim();
      }
    }
    if (name !== "") out.push([name, value]);
  }
  return out;
}
