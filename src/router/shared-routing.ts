/**
 * What the router asks of state shared across gateway replicas (config
 * `redis.url`; `src/state` implements it on Redis). Every method is bounded
 * and never throws: on an outage the shared piece answers "nothing known" and
 * the router falls back to its own breakers and affinity.
 */

/** Breaker state of remote upstreams, shared: one replica finds an upstream dead, all skip it. */
export interface SharedBreakerState {
  /** Start mirroring these upstreams (their base URLs). */
  watch(upstreams: Iterable<string>): void;
  /** Stop mirroring an upstream that left the pool. */
  unwatch(upstream: string): void;
  /** True while some replica reported the upstream open (synchronous: a mirror). */
  isOpen(upstream: string): boolean;
  /** Milliseconds until the shared open period ends (0 when not open). */
  msUntilClosed(upstream: string): number;
  /** This replica's breaker for `upstream` opened for `forMs`. */
  markOpen(upstream: string, forMs: number): Promise<void>;
  /** This replica's breaker for `upstream` closed again. */
  markClosed(upstream: string): Promise<void>;
}

/** Session → remote backend affinity, shared: the next turn goes where the prefix is cached, whichever replica takes it. */
export interface SharedAffinity {
  /** The backend id pinned for this session of `model`, if any (undefined on an outage). */
  get(model: string, session: string): Promise<string | undefined>;
  /** Pins (or re-pins) the session, extending its lifetime. */
  set(model: string, session: string, backendId: string): Promise<void>;
}

/** The shared pieces a pool uses; each absent one stays local to the replica. */
export interface SharedRouting {
  breakers?: SharedBreakerState;
  affinity?: SharedAffinity;
}
