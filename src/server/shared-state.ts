/**
 * The composition of the shared state (config `redis.url`): one Redis
 * connection and the pieces the gateway plugs in — the cache store and its
 * cross-replica single-flight, the shared limiter, revocations, breaker state
 * and session affinity of remote upstreams, stored Responses. Absent
 * `redis.url`, nothing here is built and every piece stays in memory.
 */
import type { SwitchyardConfig } from "../config/index.js";
import { AffinityStore, RedisCacheStore, RedisConnection, RedisFlight, RedisLimitStore, RedisResponseStore, RedisSemanticStore, Revocations, SharedBreakers, type RedisConnectionOptions } from "../state/index.js";
import { MemoryResponseStore } from "./responses/index.js";
import type { Logger } from "../telemetry/logger.js";
import { hashApiKeys } from "./http/middleware/auth.js";
import { SharedRateLimiter } from "./http/shared-rate-limiter.js";

export interface SharedState {
  redis: RedisConnection;
  cacheStore: RedisCacheStore;
  /** Semantic-cache entries, next to the exact cache's (`cache:sem:*`). */
  semanticStore: RedisSemanticStore;
  crossReplica: RedisFlight;
  limiter: SharedRateLimiter;
  revocations: Revocations;
  /** Breaker state of remote upstreams: one replica finds an upstream dead, every replica skips it. */
  breakers: SharedBreakers;
  /** Session → remote backend affinity. */
  affinity: AffinityStore;
  /** Stored Responses-API responses (GET and `previous_response_id` on any replica). */
  responses: RedisResponseStore;
  /** Stops the timers and closes the connection (after the server has drained). Idempotent. */
  dispose(): Promise<void>;
}

/**
 * The Redis connection as config `redis.*` describes it (not connected yet).
 * The gateway's shared state and the `switchyard keys` command both use it.
 */
export function redisConnectionOf(config: SwitchyardConfig, onStatus?: RedisConnectionOptions["onStatus"]): RedisConnection {
  const r = config.redis;
  if (!r.url) throw new Error("redis.url is not set");
  return new RedisConnection({
    url: r.url,
    ...(r.username === undefined ? {} : { username: r.username }),
    ...(r.password === undefined ? {} : { password: r.password }),
    tls: r.tls,
    ...(r.tlsCaFile === undefined ? {} : { tlsCaFile: r.tlsCaFile }),
    keyPrefix: r.keyPrefix,
    commandTimeoutMs: r.commandTimeoutMs,
    connectTimeoutMs: r.connectTimeoutMs,
    reconnectMinMs: r.reconnectMinMs,
    reconnectMaxMs: r.reconnectMaxMs,
    ...(onStatus ? { onStatus } : {}),
  });
}

/**
 * Connects (never throws for an unreachable Redis: the gateway starts on the
 * outage policies and catches up once Redis answers).
 *
 * @example
 * ```ts
 * const shared = config.redis.url ? await connectSharedState(config, logger) : undefined;
 * ```
 */
export async function connectSharedState(config: SwitchyardConfig, logger: Logger): Promise<SharedState | undefined> {
  const r = config.redis;
  if (!r.url) return undefined;
  const redis = redisConnectionOf(config, (status, err) => {
    if (status === "up") logger.info({}, "shared state: Redis connected");
    else logger.warn({ err: err?.message }, "shared state: Redis unreachable; every piece runs on its outage policy until it is back");
  });
  await redis.connect();
  const cacheStore = new RedisCacheStore({ redis, maxBytes: config.cache.maxBytes, ttlMs: config.cache.ttlMs });
  const crossReplica = new RedisFlight({ redis, store: cacheStore, waitMs: r.flightWaitMs });
  const semanticStore = new RedisSemanticStore({ redis, maxEntriesPerScope: config.cache.semantic.maxEntriesPerScope });
  const windowMs = config.limits.rateWindowMs;
  const limitStore = new RedisLimitStore({ redis, leaseTtlMs: r.streamLeaseTtlMs, windowMs });
  const limiter = new SharedRateLimiter({ store: limitStore, redis, keys: hashApiKeys(config.auth.keys), replicas: r.replicas, onOutage: r.limitsOnOutage, windowMs, logger });
  const revocations = new Revocations({ redis, refreshMs: r.refreshMs });
  await revocations.start();
  const breakers = new SharedBreakers({ redis, refreshMs: r.refreshMs });
  const affinity = new AffinityStore({ redis, ttlMs: r.affinityTtlMs });
  const rc = config.responses;
  const responses = new RedisResponseStore({
    redis,
    // What this replica stored, for reads during an outage: a tenth of the shared bounds.
    local: new MemoryResponseStore({
      maxPerTenant: Math.max(1, Math.ceil(rc.maxStoredPerTenant / 10)),
      maxBytesPerTenant: Math.max(1, Math.ceil(rc.maxStoredBytesPerTenant / 10)),
      ttlMs: rc.storeTtlMs,
    }),
    maxPerTenant: rc.maxStoredPerTenant,
    maxBytesPerTenant: rc.maxStoredBytesPerTenant,
    ttlMs: rc.storeTtlMs,
  });
  let disposed = false;
  return {
    redis,
    cacheStore,
    semanticStore,
    crossReplica,
    limiter,
    revocations,
    breakers,
    affinity,
    responses,
    async dispose() {
      if (disposed) return;
      disposed = true;
      breakers.dispose();
      await responses.dispose();
      revocations.dispose();
      limitStore.dispose();
      await redis.dispose();
    },
  };
}
