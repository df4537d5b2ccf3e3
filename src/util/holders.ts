/**
 * Reference counting of parts shared by several holders: the config generations of a gateway share
 * the pools, retrieval services and vector stores a reload kept, and a part may be disposed only once
 * every generation that held it has let go (its requests drained) — not when the generation that
 * replaced it lets go, since an older one may still be draining on it.
 */

/**
 * @example
 * ```ts
 * const pools = new Holders<ModelPool, Generation>();
 * pools.hold(gen1, [a, b]);
 * pools.hold(gen2, [b]);             // a reload kept `b`
 * pools.release(gen2);              // [] : gen1 still holds b
 * pools.release(gen1);              // [a, b]: no one holds them now; dispose them
 * ```
 */
export class Holders<Part, Holder> {
  private readonly holdersOf = new Map<Part, Set<Holder>>();
  private readonly partsOf = new Map<Holder, Set<Part>>();

  /** `holder` takes (another) hold on each part; holding a part twice counts once. */
  hold(holder: Holder, parts: Iterable<Part>): void {
    let mine = this.partsOf.get(holder);
    if (!mine) this.partsOf.set(holder, (mine = new Set()));
    for (const part of parts) {
      mine.add(part);
      let holders = this.holdersOf.get(part);
      if (!holders) this.holdersOf.set(part, (holders = new Set()));
      holders.add(holder);
    }
  }

  /** Drops every hold of `holder` and returns the parts no holder holds any more (in the order `holder` took them). Idempotent. */
  release(holder: Holder): Part[] {
    const mine = this.partsOf.get(holder);
    if (!mine) return [];
    this.partsOf.delete(holder);
    const free: Part[] = [];
    for (const part of mine) {
      const holders = this.holdersOf.get(part)!;
      holders.delete(holder);
      if (holders.size === 0) {
        this.holdersOf.delete(part);
        free.push(part);
      }
    }
    return free;
  }

  /** How many holders hold `part` now. */
  count(part: Part): number {
    return this.holdersOf.get(part)?.size ?? 0;
  }
}
