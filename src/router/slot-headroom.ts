/**
 * Slot headroom between tenants: the fair queue (fair-share.ts) orders who runs next, but a tenant
 * that arrives while another holds every slot still waits for one of those running requests to
 * finish. The headroom rule keeps the pool's last free slot(s) for a tenant that holds none: while
 * another tenant with no running request has been active on the pool recently (a request queued,
 * or one that ended within `activeWindowMs`), a tenant that already runs a request may not take
 * the last `reserveSlots` free slots. A tenant with no running request may always take a free slot,
 * and a tenant alone on the pool keeps every slot.
 */

export interface SlotHeadroomOptions {
  /**
   * Free slots kept for a tenant that holds none (config `queue.reserveSlots`). At most the pool's
   * slots minus one (a one-slot pool reserves none). 0 = off.
   */
  reserveSlots: number;
  /** How long after a tenant's last request arrived or ended it still counts as active (config `queue.activeWindowMs`). */
  activeWindowMs: number;
}

/** The pool's slots as the headroom rule sees them, across every routable shard. */
export interface SlotUsage {
  /** Slots of the pool's routable shards. */
  total: number;
  /** Free slots among them. */
  free: number;
  /** Slots held per tenant (running, or waiting for the shard to confirm the slot free). */
  running: ReadonlyMap<string, number>;
  /** Tenants with a request in the queue. */
  queued: ReadonlySet<string>;
}

/**
 * @example
 * ```ts
 * const headroom = new SlotHeadroom({ reserveSlots: 1, activeWindowMs: 1000 });
 * headroom.seen("b", performance.now());                 // B's request arrived or ended
 * headroom.admits("a", usage, performance.now());        // false: A runs one, B has none, 1 slot free
 * ```
 */
export class SlotHeadroom {
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly opts: SlotHeadroomOptions) {}

  /** A request of `tenant` arrived or ended at `now` (performance.now() ms). */
  seen(tenant: string, now: number): void {
    this.lastSeen.set(tenant, now);
  }

  /** Whether `tenant` may take one of `usage.free` slots now. */
  admits(tenant: string, usage: SlotUsage, now: number): boolean {
    const reserve = Math.min(this.opts.reserveSlots, usage.total - 1);
    if (reserve <= 0 || usage.free > reserve) return true;
    if ((usage.running.get(tenant) ?? 0) === 0) return true;
    return this.othersWaitingUntil(tenant, usage, now) <= now;
  }

  /**
   * Until when (performance.now() ms) some tenant other than `tenant` that holds no slot counts as
   * active: Infinity while one has a request queued (its grant or timeout changes the usage), the end
   * of the latest activity window otherwise, 0 when there is none. A refusal by {@link admits} lasts
   * at most until then unless the usage changes.
   */
  othersWaitingUntil(tenant: string, usage: SlotUsage, now: number): number {
    for (const t of usage.queued) if (t !== tenant && (usage.running.get(t) ?? 0) === 0) return Infinity;
    let until = 0;
    for (const [t, at] of this.lastSeen) {
      const end = at + this.opts.activeWindowMs;
      if (end <= now) {
        this.lastSeen.delete(t); // idle long enough: forgotten
        continue;
      }
      if (t !== tenant && (usage.running.get(t) ?? 0) === 0) until = Math.max(until, end);
    }
    return until;
  }
}
