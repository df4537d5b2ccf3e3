/**
 * Validation of the names that reach LanceDB (collections become table names,
 * tenants and ids end up inside SQL filter strings) and SQL literal quoting.
 *
 * Collection and tenant names are checked against strict patterns so they can
 * never smuggle SQL or path segments; free-form values (document ids, metadata
 * values) are always passed through {@link sqlString}.
 */
import { invalidRequest } from "../errors.js";

/** Collection names: table names in LanceDB, so letters, digits, `_` and `-` only. */
export const COLLECTION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Tenant names: the auth config's tenants must match this to use retrieval. */
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;

/** Metadata keys usable in filters (stored as `key=value` entries, so no `=`). */
export const METADATA_KEY_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** Longest document id accepted (ids are relative paths, URLs, row keys). */
export const MAX_DOCUMENT_ID_LENGTH = 512;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Throws a 400 GatewayError unless `name` is a valid collection name.
 *
 * @example
 * ```ts
 * assertCollectionName("support-kb"); // ok
 * assertCollectionName("../etc");     // throws GatewayError 400
 * ```
 */
export function assertCollectionName(name: string): void {
  if (typeof name !== "string" || !COLLECTION_PATTERN.test(name)) {
    throw invalidRequest(
      `Invalid collection name '${String(name).slice(0, 80)}': use 1-64 letters, digits, '_' or '-', starting with a letter or digit.`,
      { param: "collection", code: "invalid_collection_name" },
    );
  }
}

/**
 * Throws a 400 GatewayError unless `tenant` is a valid tenant name.
 *
 * @example
 * ```ts
 * assertTenant("default"); // ok
 * ```
 */
export function assertTenant(tenant: string): void {
  if (typeof tenant !== "string" || !TENANT_PATTERN.test(tenant)) {
    throw invalidRequest(
      `Invalid tenant '${String(tenant).slice(0, 80)}': use 1-128 letters, digits, '_', '.', ':', '@' or '-'.`,
      { param: "tenant", code: "invalid_tenant" },
    );
  }
}

/**
 * Throws a 400 GatewayError unless `id` is a usable document id: non-empty,
 * at most {@link MAX_DOCUMENT_ID_LENGTH} characters, no control characters.
 *
 * @example
 * ```ts
 * assertDocumentId("guides/refunds.md"); // ok
 * ```
 */
export function assertDocumentId(id: unknown, param = "id"): asserts id is string {
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_DOCUMENT_ID_LENGTH || CONTROL_CHARS.test(id)) {
    throw invalidRequest(
      `Invalid document id: it must be a non-empty string of at most ${MAX_DOCUMENT_ID_LENGTH} characters without control characters.`,
      { param, code: "invalid_document_id" },
    );
  }
}

/**
 * Quotes a value as an SQL string literal for LanceDB filters (single quotes
 * doubled, the SQL standard that DataFusion follows).
 *
 * @example
 * ```ts
 * sqlString("it's"); // "'it''s'"
 * ```
 */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
