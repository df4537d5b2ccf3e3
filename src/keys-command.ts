/**
 * `switchyard keys revoke|restore <key or key id>` and `switchyard keys list`:
 * API-key revocation through the shared list in Redis (config `redis.url`),
 * so every gateway replica refuses the key within `redis.refreshMs`. Without
 * Redis there is no list outside a gateway process: use its admin endpoint
 * (`POST /v1/admin/keys/revoke`) or remove the key from the config.
 */
import { parseArgs } from "node:util";
import type { SwitchyardConfig } from "./config/index.js";
import { hashApiKeys, isKeyId, keyIdOf } from "./server/http/middleware/auth.js";
import { redisConnectionOf } from "./server/shared-state.js";
import { Revocations } from "./state/index.js";
import { KEYS_USAGE } from "./keys-usage.js";

/** Prints what it did on stdout (one JSON line); throws with a clear message otherwise. */
export async function keysCommand(config: SwitchyardConfig, args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [sub, ref] = positionals;
  if (sub !== "revoke" && sub !== "restore" && sub !== "list") throw new Error(`usage:\n${KEYS_USAGE}`);
  if ((sub === "list") !== (ref === undefined)) throw new Error(`usage:\n${KEYS_USAGE}`);
  if (!config.redis.url) {
    throw new Error("keys: revocations are shared through Redis and redis.url (SWITCHYARD_REDIS_URL) is not set; without Redis, use POST /v1/admin/keys/revoke on the gateway");
  }
  const records = hashApiKeys(config.auth.keys);
  const redis = redisConnectionOf(config);
  // A one-off command: connect and re-read once, no refresh timer running past it.
  const revocations = new Revocations({ redis, refreshMs: 2 ** 31 - 1 });
  try {
    await redis.connect();
    if (!redis.up) throw new Error(`keys: Redis at ${new URL(config.redis.url).host} did not answer; nothing changed`);
    if (sub === "list") {
      await revocations.start();
      const keys = records.map((r) => ({ key_id: r.keyId, tenant: r.tenant, admin: r.admin, revoked: revocations.isRevoked(r.keyId) }));
      console.log(JSON.stringify({ keys }));
      return;
    }
    const id = isKeyId(ref!) ? ref! : keyIdOf(ref!);
    const record = records.find((r) => r.keyId === id);
    if (!record) process.stderr.write(`keys: '${id}' is not a key of this config (${config.auth.keys.length} keys); ${sub === "revoke" ? "revoking" : "restoring"} it anyway\n`);
    try {
      if (sub === "revoke") await revocations.revoke(id);
      else await revocations.restore(id);
    } catch (err) {
      throw new Error(`keys ${sub}: Redis did not answer (${err instanceof Error ? err.message : String(err)}); nothing changed`);
    }
    console.log(JSON.stringify({ key_id: id, ...(record ? { tenant: record.tenant } : {}), revoked: sub === "revoke", within_ms: config.redis.refreshMs }));
  } finally {
    revocations.dispose();
    await redis.dispose();
  }
}
