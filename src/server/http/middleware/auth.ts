/**
 * API-key authentication. Keys come from config `auth.keys` (plain, or
 * `sha256:<hex>` so the config file need not hold the secret; the
 * `SWITCHYARD_API_KEYS` variable is merged in by the config loader). Only the
 * SHA-256 of each key is kept in memory, and a presented key is compared by
 * hash in constant time against every configured one, so neither timing nor
 * early exit tells which (or whether a prefix) matched.
 *
 * No keys configured = open local mode: every request runs as tenant `default`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { SwitchyardConfig } from "../../../config/index.js";
import { unauthorized } from "../../../errors.js";
import type { Principal } from "../../../types.js";
import type { AppEnv } from "../env.js";

/** One configured key, as in config `auth.keys[]`. */
export type ApiKeyConfig = SwitchyardConfig["auth"]["keys"][number];

/** A configured key with the secret replaced by its hash. */
export interface ApiKeyRecord {
  /** SHA-256 of the key (32 bytes). */
  hash: Buffer;
  /** Short prefix of the hash: safe for logs and limits (never the key), stable across restarts. */
  keyId: string;
  tenant: string;
  allowedModels?: string[];
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  concurrentStreams?: number;
  /** Share of the key's tenant in the fair queue. */
  weight: number;
  admin: boolean;
  /** The principal a request with this key runs as (built once, shared by every request). */
  principal: Principal;
}

/** The principal of open local mode. */
export const OPEN_PRINCIPAL: Principal = Object.freeze({ tenant: "default", keyId: "open", admin: true });

/** Who a refused request ran as (for the access log): nobody, allowed no model. */
export const ANONYMOUS_PRINCIPAL: Principal = Object.freeze({ tenant: "anonymous", keyId: "none", allowedModels: [], admin: false });

const SHA256_PREFIX = "sha256:";
const KEY_ID_HEX = 12;

/** SHA-256 of a key as presented by a client. */
export function hashApiKey(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

/**
 * The id of a key as logs, limits and revocations name it: a prefix of its SHA-256.
 * @example keyIdOf("sk-acme-1") // "3f1a9c0b7d2e"
 */
export function keyIdOf(key: string): string {
  return hashApiKey(key).toString("hex").slice(0, KEY_ID_HEX);
}

/** True when `s` has the shape of a key id (lowercase hex of {@link keyIdOf}'s length). */
export function isKeyId(s: string): boolean {
  return new RegExp(`^[0-9a-f]{${KEY_ID_HEX}}$`).test(s);
}

/**
 * Hashes the configured keys (the plain text is dropped here). Throws on a
 * malformed `sha256:` entry, naming its index but never its value.
 *
 * @example
 * ```ts
 * const records = hashApiKeys(config.auth.keys);
 * records[0]?.keyId; // "3f1a9c0b7d2e"
 * ```
 */
export function hashApiKeys(keys: readonly ApiKeyConfig[]): ApiKeyRecord[] {
  const seen = new Set<string>();
  return keys.map((k, i) => {
    let hash: Buffer;
    if (k.key.startsWith(SHA256_PREFIX)) {
      const hex = k.key.slice(SHA256_PREFIX.length).trim().toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`auth.keys[${i}].key: 'sha256:' must be followed by 64 hex digits`);
      hash = Buffer.from(hex, "hex");
    } else hash = hashApiKey(k.key);
    const hex = hash.toString("hex");
    // The same key twice would get two tenants or two sets of limits: refuse the ambiguity.
    if (seen.has(hex)) throw new Error(`auth.keys[${i}].key: the same key is configured twice`);
    seen.add(hex);
    return {
      hash,
      keyId: hex.slice(0, KEY_ID_HEX),
      tenant: k.tenant,
      ...(k.models ? { allowedModels: k.models } : {}),
      ...(k.requestsPerMinute === undefined ? {} : { requestsPerMinute: k.requestsPerMinute }),
      ...(k.tokensPerMinute === undefined ? {} : { tokensPerMinute: k.tokensPerMinute }),
      ...(k.concurrentStreams === undefined ? {} : { concurrentStreams: k.concurrentStreams }),
      weight: k.weight ?? 1,
      admin: k.admin,
      principal: Object.freeze({ tenant: k.tenant, keyId: hex.slice(0, KEY_ID_HEX), admin: k.admin, weight: k.weight ?? 1, ...(k.models ? { allowedModels: k.models } : {}) }),
    };
  });
}

/**
 * The hashed records for a middleware's options: `records` when the app
 * hashed the keys once already, else the hashes of `keys`.
 */
export function resolveKeyRecords(keys: readonly ApiKeyConfig[] = [], records?: readonly ApiKeyRecord[]): readonly ApiKeyRecord[] {
  return records ?? hashApiKeys(keys);
}

/** The key a request presents: `Authorization: Bearer <key>`, else `x-api-key`. */
export function presentedKey(headers: { header(name: string): string | undefined }): string | undefined {
  const authorization = headers.header("authorization");
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  const apiKey = headers.header("x-api-key")?.trim();
  return apiKey ? apiKey : undefined;
}

/**
 * Finds the record whose hash equals the presented key's, touching every
 * record with a constant-time compare (no early exit).
 */
export function matchApiKey(records: readonly ApiKeyRecord[], key: string): ApiKeyRecord | undefined {
  const hash = hashApiKey(key);
  let found: ApiKeyRecord | undefined;
  for (const r of records) {
    if (timingSafeEqual(hash, r.hash) && !found) found = r;
  }
  return found;
}

/** Per-request state of authentication, as a typed context variable. */
export interface AuthVariables {
  /** Who the request runs as (set for every request; `admin` gates operator endpoints). */
  principal: Principal;
}

export interface AuthOptions {
  /** Config `auth.keys`; empty = open local mode. Ignored when `records` is given. */
  keys?: readonly ApiKeyConfig[];
  /** The keys already hashed once by the app (`hashApiKeys`), shared with the rate limiter. */
  records?: readonly ApiKeyRecord[];
  /** Keys revoked at run time, by key id (the shared revocation list on Redis); their requests get a 401. */
  isRevoked?: (keyId: string) => boolean;
}

/**
 * Sets `c.var.principal` from the API key, or answers 401 with
 * `WWW-Authenticate: Bearer`. Mount it on the API paths only: `/healthz`,
 * `/readyz` stay open and `/metrics` has its own key. Per-model access (403)
 * is checked where the model is resolved, from `principal.allowedModels`.
 *
 * @example
 * ```ts
 * if (config.auth.keys.length === 0) logger.warn({}, "no API keys configured: open local mode");
 * app.use("/v1/*", auth({ keys: config.auth.keys }));
 * ```
 */
export function auth({ keys = [], records: hashed, isRevoked }: AuthOptions = {}): MiddlewareHandler<AppEnv> {
  const records = resolveKeyRecords(keys, hashed);
  return async function authMiddleware(c, next) {
    if (records.length === 0) {
      c.set("principal", OPEN_PRINCIPAL);
      return next();
    }
    c.set("principal", ANONYMOUS_PRINCIPAL);
    const key = presentedKey(c.req);
    if (key === undefined) {
      throw unauthorized("You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.");
    }
    const record = matchApiKey(records, key);
    // Never echo the key, not even masked: it may be a neighbour's secret pasted by mistake.
    if (!record) throw unauthorized("Incorrect API key provided.");
    if (isRevoked?.(record.keyId)) throw unauthorized("This API key has been revoked.");
    c.set("principal", record.principal);
    return next();
  };
}
