/**
 * Metadata equality filters, compiled into the LanceDB `where` clause so that
 * filtering happens inside the query (before top-k), never after it.
 *
 * Design: besides the full `metadata` JSON string, every chunk row stores a
 * `metadata_kv` list column of `key=value` strings, one per scalar metadata
 * value (and one per scalar element of an array value). A filter `{key: value}`
 * becomes `array_has(metadata_kv, 'key=value')`. Values compare as strings, so
 * `{"year": "2024"}` and `{"year": 2024}` both match a stored `2024`; nested
 * objects are stored but not filterable. `document_id`, `source` and `title`
 * are real columns and compare directly.
 */
import { invalidRequest } from "../errors.js";
import { METADATA_KEY_PATTERN, sqlString } from "./names.js";

/** `{key: value}` equality filters; all must hold (AND). */
export type SearchFilter = Record<string, string | number | boolean>;

/** Filter keys that are table columns rather than metadata keys. */
const COLUMN_KEYS = new Set(["document_id", "source", "title"]);

/** Longest metadata value (as a string) that is indexed for filtering. */
const MAX_FILTER_VALUE_LENGTH = 256;

function scalarString(value: unknown): string | undefined {
  if (typeof value === "string") return value.length <= MAX_FILTER_VALUE_LENGTH ? value : undefined;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "boolean") return String(value);
  return undefined;
}

/**
 * The `key=value` entries stored in a row's `metadata_kv` column.
 *
 * @example
 * ```ts
 * metadataEntries({ lang: "en", tags: ["a", "b"], nested: { x: 1 } }); // ["lang=en", "tags=a", "tags=b"]
 * ```
 */
export function metadataEntries(metadata: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    if (!METADATA_KEY_PATTERN.test(key)) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      const s = scalarString(v);
      if (s !== undefined) out.push(`${key}=${s}`);
    }
  }
  return [...new Set(out)];
}

/**
 * Compiles a filter into an SQL predicate (or `undefined` for no filter).
 * Throws a 400 GatewayError for unusable keys or values.
 *
 * @example
 * ```ts
 * filterPredicate({ source: "faq.md", lang: "en" });
 * // "source = 'faq.md' AND array_has(metadata_kv, 'lang=en')"
 * ```
 */
export function filterPredicate(filter: Record<string, unknown> | undefined): string | undefined {
  if (filter === undefined) return undefined;
  if (filter === null || typeof filter !== "object" || Array.isArray(filter)) {
    throw invalidRequest("filter must be an object of {key: value} equality conditions.", { param: "filter" });
  }
  const parts: string[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (!METADATA_KEY_PATTERN.test(key)) {
      throw invalidRequest(`Invalid filter key '${key.slice(0, 80)}': letters, digits, '_', '.', '-' only.`, { param: "filter" });
    }
    const s = scalarString(value);
    if (s === undefined) {
      throw invalidRequest(`Filter '${key}' must be a string (≤ ${MAX_FILTER_VALUE_LENGTH} chars), number or boolean.`, {
        param: "filter",
      });
    }
    parts.push(COLUMN_KEYS.has(key) ? `${key} = ${sqlString(s)}` : `array_has(metadata_kv, ${sqlString(`${key}=${s}`)})`);
  }
  return parts.length === 0 ? undefined : parts.join(" AND ");
}
