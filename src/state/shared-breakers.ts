/**
 * Breaker state of remote upstreams shared by every replica: an upstream one
 * replica found dead (its breaker opened) is skipped by all until the open
 * period ends, instead of each replica paying its own failed requests.
 *
 * Reads are synchronous (the router picks a backend without awaiting): each
 * replica mirrors the shared state, re-read every `refreshMs`, and its own
 * reports land in the mirror at once.
 *
 * Outage policy: local breakers only. The mirror keeps what it knew, each
 * entry expiring at its own deadline, and reports are dropped.
 */
import type { RedisConnection } from "./redis-connection.js";

export interface SharedBreakersOptions {
  redis: RedisConnection;
  /** How often the mirror is re-read (ms). Default 1000. */
  refreshMs?: number;
  /** Monotonic clock in ms; injectable for tests. */
  now?: () => number;
}

/**
 * @example
 * ```ts
 * const breakers = new SharedBreakers({ redis, refreshMs: config.redis.refreshMs });
 * breakers.watch(["http://10.0.0.7:8080/v1"]);
 * await breakers.markOpen("http://10.0.0.7:8080/v1", 10_000); // this replica's breaker opened
 * breakers.isOpen("http://10.0.0.7:8080/v1");                   // true on every replica within refreshMs
 * ```
 */
export class SharedBreakers {
  private readonly redis: RedisConnection;
  private readonly now: () => number;
  /** Upstream → monotonic ms until which it counts as open. */
  private readonly openUntil = new Map<string, number>();
  private readonly watched = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor({ redis, refreshMs = 1000, now = () => performance.now() }: SharedBreakersOptions) {
    this.redis = redis;
    this.now = now;
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
  }

  /** Upstreams whose shared state this replica mirrors. */
  watch(upstreams: Iterable<string>): void {
    for (const u of upstreams) this.watched.add(u);
  }

  unwatch(upstream: string): void {
    this.watched.delete(upstream);
    this.openUntil.delete(upstream);
  }

  /** True while some replica reported the upstream open and the period has not ended. */
  isOpen(upstream: string): boolean {
    const until = this.openUntil.get(upstream);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.openUntil.delete(upstream);
    return false;
  }

  /** Milliseconds until the shared open period of `upstream` ends (0 when not open). */
  msUntilClosed(upstream: string): number {
    return this.isOpen(upstream) ? Math.max(0, (this.openUntil.get(upstream) ?? 0) - this.now()) : 0;
  }

  /** Reports that this replica's breaker for `upstream` opened for `forMs`. Never throws. */
  async markOpen(upstream: string, forMs: number): Promise<void> {
    this.openUntil.set(upstream, this.now() + forMs);
    this.watched.add(upstream);
    try {
      await this.redis.call("breakers", (c) => c.set(this.key(upstream), "open", "PX", Math.max(1, Math.round(forMs))));
    } catch {
      this.redis.fellBack("breakers");
    }
  }

  /** Reports that `upstream` answered again (this replica's breaker closed). Never throws. */
  async markClosed(upstream: string): Promise<void> {
    this.openUntil.delete(upstream);
    try {
      await this.redis.call("breakers", (c) => c.del(this.key(upstream)));
    } catch {
      this.redis.fellBack("breakers");
    }
  }

  /** Re-reads the shared state of every watched upstream (the timer does this every `refreshMs`). */
  async refresh(): Promise<void> {
    const upstreams = [...this.watched];
    if (upstreams.length === 0) return;
    let ttls: number[];
    try {
      ttls = await this.redis.call("breakers", async (c) => {
        const pipeline = c.pipeline();
        for (const u of upstreams) pipeline.pttl(this.key(u));
        const replies = (await pipeline.exec()) ?? [];
        return replies.map(([err, ttl]) => (err ? -2 : Number(ttl)));
      });
    } catch {
      return; // Keep the mirror; its entries expire by themselves.
    }
    const now = this.now();
    upstreams.forEach((u, i) => {
      const ttl = ttls[i] ?? -2;
      if (ttl > 0) this.openUntil.set(u, now + ttl);
      else this.openUntil.delete(u);
    });
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  private key(upstream: string): string {
    return this.redis.key("breaker", upstream);
  }
}
