/**
 * `/metrics` for the shared state on Redis: whether the connection is up, and
 * how often each piece failed a Redis call or served by its outage policy.
 */
import { Counter, Gauge } from "prom-client";
import type { GatewayMetrics } from "./metrics.js";

/** What the Redis connection reports (`RedisConnection.stats()` in src/state). */
export interface SharedStateHealthSource {
  stats(): { up: boolean; errors: Record<string, number>; fallbacks: Record<string, number>; disconnects: number };
}

/**
 * Registers the Redis gauges and counters on the gateway's registry; they read
 * `source.stats()` at scrape time.
 *
 * @example
 * ```ts
 * if (redis) instrumentSharedState(metrics, redis);
 * ```
 */
export function instrumentSharedState(metrics: GatewayMetrics, source: SharedStateHealthSource): void {
  const registers = [metrics.registry];
  new Gauge({
    name: "switchyard_redis_up",
    help: "1 while the shared-state Redis connection is ready, else 0 (the pieces then run by their outage policies).",
    registers,
    collect() {
      this.set(source.stats().up ? 1 : 0);
    },
  });
  new Counter({
    name: "switchyard_redis_errors_total",
    help: "Redis calls that failed or missed their deadline, by piece (limits, cache, flight, breakers, affinity, revocations, responses).",
    labelNames: ["piece"] as const,
    registers,
    collect() {
      this.reset();
      for (const [piece, n] of Object.entries(source.stats().errors)) this.inc({ piece }, n);
    },
  });
  new Counter({
    name: "switchyard_redis_fallbacks_total",
    help: "Requests a piece served by its outage policy instead of Redis, by piece.",
    labelNames: ["piece"] as const,
    registers,
    collect() {
      this.reset();
      for (const [piece, n] of Object.entries(source.stats().fallbacks)) this.inc({ piece }, n);
    },
  });
  new Counter({
    name: "switchyard_redis_disconnects_total",
    help: "Times the shared-state Redis connection was lost.",
    registers,
    collect() {
      this.reset();
      const n = source.stats().disconnects;
      if (n > 0) this.inc(n);
    },
  });
}
