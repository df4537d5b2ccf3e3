/**
 * Fair sharing of one model's queue between tenants: start-time fair queueing
 * (a weighted fair queueing variant) over tokens. Each request gets a virtual
 * finish tag `start + cost / weight`, where `start` is the later of the
 * queue's virtual time and the tenant's previous finish tag; within a priority
 * class the smallest tag runs first. A tenant that floods the queue only pushes
 * its own tags forward, so another tenant's next request overtakes the flood
 * after at most the requests already dispatched. The queue's depth is shared
 * the same way: when it is full, a newcomer from a tenant below its weighted
 * share evicts the newest request of the tenant furthest above its share.
 */

/** What the fair queue needs to know about a queued request. */
export interface FairTagged {
  tenant: string;
  /** Share weight of the tenant (key): twice the weight, twice the tokens under contention. */
  weight: number;
  /** Virtual start and finish tags given by {@link FairShare.tag}. */
  start: number;
  finish: number;
}

/**
 * @example
 * ```ts
 * const fair = new FairShare();
 * const { start, finish } = fair.tag("acme", 1, 256); // on enqueue
 * fair.served(start);                                 // on dispatch
 * ```
 */
export class FairShare {
  private virtualTime = 0;
  private readonly lastFinish = new Map<string, number>();

  /** Tags a new request of `cost` tokens (at least 1) for `tenant` with share `weight` (> 0). */
  tag(tenant: string, weight: number, cost: number): { start: number; finish: number } {
    const start = Math.max(this.virtualTime, this.lastFinish.get(tenant) ?? 0);
    const finish = start + Math.max(1, cost) / Math.max(1e-6, weight);
    this.lastFinish.set(tenant, finish);
    return { start, finish };
  }

  /** A request with start tag `start` was dispatched: virtual time moves to it. */
  served(start: number): void {
    if (start <= this.virtualTime) return;
    this.virtualTime = start;
    // Tenants whose tags are all in the past start afresh at the virtual time: forget them.
    for (const [tenant, finish] of this.lastFinish) if (finish <= this.virtualTime) this.lastFinish.delete(tenant);
  }
}

/**
 * When the queue is full: the queued request to evict so that `newcomer` fits, or undefined when the
 * newcomer's tenant already holds its weighted share (then the newcomer is the one refused).
 */
export function evictionFor<T extends FairTagged>(queued: readonly T[], newcomer: Pick<FairTagged, "tenant" | "weight">): T | undefined {
  const counts = new Map<string, { n: number; weight: number; newest: T }>();
  for (const w of queued) {
    const c = counts.get(w.tenant);
    if (!c) counts.set(w.tenant, { n: 1, weight: w.weight, newest: w });
    else {
      c.n++;
      if (w.finish >= c.newest.finish) c.newest = w;
    }
  }
  let heaviest: { n: number; weight: number; newest: T } | undefined;
  for (const c of counts.values()) if (!heaviest || c.n / c.weight > heaviest.n / heaviest.weight) heaviest = c;
  if (!heaviest || heaviest.newest.tenant === newcomer.tenant) return undefined;
  const mine = (counts.get(newcomer.tenant)?.n ?? 0) + 1;
  return mine / newcomer.weight < heaviest.n / heaviest.weight ? heaviest.newest : undefined;
}
