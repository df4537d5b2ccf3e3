/**
 * Shared state across gateway replicas, on Redis (or Valkey). Each piece
 * declares its outage policy; no Redis fault becomes a 5xx or a hang:
 *
 * | piece | Redis keys | outage policy |
 * | --- | --- | --- |
 * | limits (`RedisLimitStore`) | `limits:<keyId>:rpm|tpm|streams` | the limiter falls back to 1/replicas of each limit locally, or fails closed |
 * | response cache (`RedisCacheStore`) | `cache:*` | bypass: miss on read, skip on write |
 * | semantic cache (`RedisSemanticStore`) | `cache:sem:<scope>:index|answers` | bypass: miss on read, skip on write |
 * | single-flight (`RedisFlight`) | `flight:<key>` | generate locally |
 * | breakers (`SharedBreakers`) | `breaker:<upstream>` | local breakers only |
 * | affinity (`AffinityStore`) | `affinity:<model>:<session>` | local prefix affinity |
 * | revocations (`Revocations`) | `revoked` | last known list |
 * | stored Responses (`RedisResponseStore`) | `responses:<tenant>:*` | reads fall back to the local copy of what this replica stored |
 *
 * @example
 * ```ts
 * import { RedisConnection, RedisCacheStore, RedisFlight } from "../state/index.js";
 * const redis = new RedisConnection({ url: config.redis.url });
 * await redis.connect();
 * const store = new RedisCacheStore({ redis, maxBytes: config.cache.maxBytes, ttlMs: config.cache.ttlMs });
 * const cache = new ResponseCache({ store, crossReplica: new RedisFlight({ redis, store }) });
 * ```
 */
export { RedisConnection, type RedisConnectionOptions, type RedisHealth, type RedisStatus } from "./redis-connection.js";
export { RedisLimitStore, type RedisLimitStoreOptions, type SharedKeyLimits, type LimitDecision, type LimitView, type StreamLease } from "./redis-limits.js";
export { RedisCacheStore, type RedisCacheStoreOptions } from "./redis-cache-store.js";
export { RedisSemanticStore, type RedisSemanticStoreOptions } from "./redis-semantic-store.js";
export { RedisFlight, type RedisFlightOptions } from "./redis-flight.js";
export { SharedBreakers, type SharedBreakersOptions } from "./shared-breakers.js";
export { AffinityStore, type AffinityStoreOptions } from "./affinity-store.js";
export { Revocations, type RevocationsOptions } from "./revocations.js";
export { RedisResponseStore, type RedisResponseStoreOptions } from "./redis-response-store.js";
