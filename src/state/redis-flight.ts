/**
 * Single-flight across replicas: identical cache misses on two replicas
 * generate once. The first replica takes a short lock in Redis (`SET NX PX`,
 * renewed while it generates); the others wait for the lock to go and then
 * read the answer it stored. If there is no answer (the owner failed, was
 * aborted, or the answer was not cacheable) a waiter takes the lock and
 * generates itself — errors are never shared across replicas.
 *
 * Outage policy: generate locally. A Redis call that fails, or a wait longer
 * than `waitMs`, ends the coordination and this replica generates on its
 * own (in-process single-flight still coalesces its own identical requests).
 */
import { randomUUID } from "node:crypto";
import { AbortError, type CachedResponse, type CacheStore, type CrossReplicaFlight, type CrossReplicaOutcome } from "../cache/index.js";
import type { RedisConnection } from "./redis-connection.js";
import { EXTEND_LOCK, RELEASE_LOCK, runScript } from "./scripts.js";
import { linkAbort } from "../util/link-abort.js";

export interface RedisFlightOptions {
  redis: RedisConnection;
  /** Where the owner's answer lands (the shared cache store). */
  store: CacheStore;
  /** Longest wait for another replica's generation before generating here (ms). Default 30 000. */
  waitMs?: number;
  /** Lock lifetime without renewal (ms); the owner renews it every third. Default 5 000. */
  lockTtlMs?: number;
  /** First poll interval (ms); grows by half per poll up to `maxPollMs`. Default 10. */
  pollMs?: number;
  /** Longest poll interval (ms). Default 100. */
  maxPollMs?: number;
}

/**
 * @example
 * ```ts
 * const flight = new RedisFlight({ redis, store, waitMs: config.redis.flightWaitMs });
 * const cache = new ResponseCache({ store, crossReplica: flight });
 * ```
 */
export class RedisFlight implements CrossReplicaFlight {
  private readonly redis: RedisConnection;
  private readonly store: CacheStore;
  private readonly waitMs: number;
  private readonly lockTtlMs: number;
  private readonly pollMs: number;
  private readonly maxPollMs: number;

  constructor({ redis, store, waitMs = 30_000, lockTtlMs = 5_000, pollMs = 10, maxPollMs = 100 }: RedisFlightOptions) {
    this.redis = redis;
    this.store = store;
    this.waitMs = waitMs;
    this.lockTtlMs = lockTtlMs;
    this.pollMs = pollMs;
    this.maxPollMs = maxPollMs;
  }

  async run<T>(key: string, signal: AbortSignal, work: () => Promise<T>): Promise<CrossReplicaOutcome<T>> {
    const lock = this.redis.key("flight", key);
    const token = randomUUID();
    const deadline = performance.now() + this.waitMs;
    let interval = this.pollMs;
    for (;;) {
      if (signal.aborted) throw new AbortError(signal.reason);
      let acquired: boolean;
      try {
        acquired = (await this.redis.call("flight", (c) => c.set(lock, token, "PX", this.lockTtlMs, "NX"))) === "OK";
      } catch {
        return this.alone(work);
      }
      if (acquired) return { owner: true, value: await this.owned(lock, token, work) };
      // Another replica generates: wait for its lock to go, then read what it stored.
      for (;;) {
        if (performance.now() >= deadline) return this.alone(work);
        await sleep(interval, signal);
        interval = Math.min(this.maxPollMs, Math.ceil(interval * 1.5));
        let held: number;
        let entry: CachedResponse | undefined;
        try {
          held = await this.redis.call("flight", (c) => c.exists(lock));
          if (held === 0) entry = await this.store.get(key);
        } catch {
          return this.alone(work);
        }
        if (entry) return { owner: false, entry };
        if (held === 0) break; // No answer was stored: compete for the lock again.
      }
    }
  }

  private async alone<T>(work: () => Promise<T>): Promise<CrossReplicaOutcome<T>> {
    this.redis.fellBack("flight");
    return { owner: true, value: await work() };
  }

  private async owned<T>(lock: string, token: string, work: () => Promise<T>): Promise<T> {
    const renew = setInterval(() => {
      this.redis.call("flight", (c) => runScript(c, EXTEND_LOCK, [lock], [token, this.lockTtlMs])).catch(() => undefined);
    }, Math.max(10, Math.floor(this.lockTtlMs / 3)));
    renew.unref();
    try {
      return await work();
    } finally {
      clearInterval(renew);
      // Best effort: a lock left behind expires within lockTtlMs.
      await this.redis.call("flight", (c) => runScript(c, RELEASE_LOCK, [lock], [token])).catch(() => undefined);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      link.unlink();
      resolve();
    }, ms);
    const link = linkAbort(signal, (reason) => {
      clearTimeout(timer);
      reject(new AbortError(reason));
    });
  });
}
