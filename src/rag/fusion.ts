/**
 * Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009), implemented
 * here rather than with LanceDB's `RRFReranker` so the fused score is exposed
 * and documented, each list can be over-fetched independently, and a missing
 * full-text index or an all-stop-word query degrades to the other list.
 *
 * score(d) = Σ over lists containing d of 1 / (k + rank(d)), rank 1-based.
 * We divide by the best attainable score, lists / (k + 1), so fused scores lie
 * in (0, 1]: 1 = ranked first everywhere, 0.5 = first in one of two lists and
 * absent from the other. The scaling does not change the order.
 */

/** One fused result with its normalised RRF score and per-list ranks. */
export interface Fused<T> {
  item: T;
  score: number;
  /** 1-based rank in each input list, `undefined` where absent. */
  ranks: (number | undefined)[];
}

/**
 * Fuses ranked lists by reciprocal rank; the first occurrence of a key in a
 * list counts. Ties break by best single rank, then by key (deterministic).
 *
 * @example
 * ```ts
 * const fused = reciprocalRankFusion([["a", "b"], ["b", "c"]], (x) => x, 60);
 * fused.map((f) => f.item); // ["b", "a", "c"]
 * ```
 */
export function reciprocalRankFusion<T>(lists: T[][], key: (item: T) => string, k: number): Fused<T>[] {
  if (!(k > 0)) throw new RangeError(`RRF k must be positive, got ${k}`);
  const byKey = new Map<string, Fused<T> & { raw: number }>();
  lists.forEach((list, listIndex) => {
    const seen = new Set<string>();
    for (const item of list) {
      const id = key(item);
      if (seen.has(id)) continue;
      seen.add(id);
      const rank = seen.size;
      let entry = byKey.get(id);
      if (entry === undefined) {
        entry = { item, score: 0, raw: 0, ranks: new Array<number | undefined>(lists.length).fill(undefined) };
        byKey.set(id, entry);
      }
      entry.raw += 1 / (k + rank);
      entry.ranks[listIndex] = rank;
    }
  });
  const best = lists.length / (k + 1);
  const bestRank = (f: Fused<T>): number => Math.min(...f.ranks.map((r) => r ?? Number.POSITIVE_INFINITY));
  return [...byKey.entries()]
    .map(([id, e]) => ({ id, fused: { item: e.item, score: e.raw / best, ranks: e.ranks } }))
    .sort((a, b) => b.fused.score - a.fused.score || bestRank(a.fused) - bestRank(b.fused) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((x) => x.fused);
}
