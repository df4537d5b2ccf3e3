/**
 * Operator endpoints for API keys (admin keys only; every request is admin in
 * open local mode):
 *
 *   GET  /v1/admin/keys           the configured keys by id and tenant, and whether each is revoked
 *   POST /v1/admin/keys/revoke    { "key_id": "3f1a9c0b7d2e" } or { "key": "sk-..." }: refused from now on
 *   POST /v1/admin/keys/restore   the same body: accepted again
 *
 * With `redis.url` a revocation reaches every replica within `redis.refreshMs`
 * (the shared list); without it, this process only. Secrets never appear in
 * an answer; keys are named by id (a prefix of their SHA-256, as in logs).
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { forbidden, notFound, unavailable } from "../../errors.js";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import type { KeyRevocations } from "../http/key-revocations.js";
import { hashApiKeys, isKeyId, keyIdOf, type ApiKeyRecord } from "../http/middleware/auth.js";
import { parseBody } from "../http/validate.js";

const keyRef = z
  .strictObject({
    key_id: z.string().refine(isKeyId, "expected a key id: the 12 hex digits logs and GET /v1/admin/keys show").optional(),
    key: z.string().min(1).optional(),
  })
  .refine((b) => (b.key_id === undefined) !== (b.key === undefined), { message: "give exactly one of key_id or key", path: ["key_id"] });

export interface AdminKeysRouteOptions {
  /** The revocation list auth checks (shared through Redis, or this process's). */
  revocations: KeyRevocations;
  /** True when revocations reach other replicas (`redis.url`). */
  shared: boolean;
}

/**
 * @example
 * ```ts
 * app.route("/", adminKeysRoutes(deps, { revocations, shared: config.redis.url !== undefined }));
 * // curl -X POST -H "Authorization: Bearer $ADMIN_KEY" -d '{"key_id":"3f1a9c0b7d2e"}' http://127.0.0.1:8080/v1/admin/keys/revoke
 * ```
 */
export function adminKeysRoutes(deps: GatewayDeps, { revocations, shared }: AdminKeysRouteOptions): Hono<AppEnv> {
  const records = hashApiKeys(deps.config.auth.keys);
  const requireAdmin = (c: Context<AppEnv>) => {
    if (!c.get("principal").admin) throw forbidden("The key admin endpoints need an admin API key.", "admin_required");
  };
  const view = (r: ApiKeyRecord) => ({ object: "api_key", key_id: r.keyId, tenant: r.tenant, admin: r.admin, revoked: revocations.isRevoked(r.keyId) });
  const target = async (c: Context<AppEnv>): Promise<ApiKeyRecord> => {
    const body = await parseBody(c, keyRef);
    const id = body.key_id ?? keyIdOf(body.key!);
    const record = records.find((r) => r.keyId === id);
    if (!record) throw notFound(`No configured API key has id '${id}'.`, { param: body.key_id === undefined ? "key" : "key_id" });
    return record;
  };

  const app = new Hono<AppEnv>();
  app.get("/v1/admin/keys", (c) => {
    requireAdmin(c);
    c.header("cache-control", "no-store");
    return c.json({ object: "list", shared, data: records.map(view) });
  });
  app.post("/v1/admin/keys/revoke", async (c) => {
    requireAdmin(c);
    const record = await target(c);
    try {
      await revocations.revoke(record.keyId);
    } catch {
      // Applied here; the shared list takes it once Redis answers (retried on every refresh).
      throw unavailable(`Key '${record.keyId}' is revoked on this replica only: Redis is unreachable. It reaches the other replicas once Redis answers; check with GET /v1/admin/keys.`);
    }
    deps.logger.warn({ keyId: record.keyId, tenant: record.tenant, by: c.get("principal").keyId, shared }, "API key revoked");
    return c.json({ ...view(record), shared });
  });
  app.post("/v1/admin/keys/restore", async (c) => {
    requireAdmin(c);
    const record = await target(c);
    try {
      await revocations.restore(record.keyId);
    } catch {
      throw unavailable(`Key '${record.keyId}' could not be restored: Redis is unreachable. Nothing changed; retry once it answers.`);
    }
    deps.logger.warn({ keyId: record.keyId, tenant: record.tenant, by: c.get("principal").keyId, shared }, "API key restored");
    return c.json({ ...view(record), shared });
  });
  return app;
}
