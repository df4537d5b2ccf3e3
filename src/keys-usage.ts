/** `switchyard keys` usage (its own module so `switchyard help` loads no Redis client). */
export const KEYS_USAGE = `switchyard keys revoke <key or key id>    refuse the key on every replica (shared through redis.url)
switchyard keys restore <key or key id>   accept it again
switchyard keys list                      configured keys by id and tenant, and the revoked ids`;
