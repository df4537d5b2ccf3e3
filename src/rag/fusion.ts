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
  return fuseLists(lists, key, new Array<number>(lists.length).fill(1), () => (rank) => 1 / (k + rank), lists.length / (k + 1));
}

/**
 * The shared core: each list's first occurrence of a key adds
 * `weights[list] · part(list)(rank, item)`; scores are divided by `best`.
 * Ties break by the best rank in a list with weight > 0, then by key.
 */
function fuseLists<T>(
  lists: T[][],
  key: (item: T) => string,
  weights: number[],
  part: (list: T[]) => (rank: number, item: T) => number,
  best: number,
): Fused<T>[] {
  const byKey = new Map<string, { item: T; raw: number; ranks: (number | undefined)[] }>();
  lists.forEach((list, listIndex) => {
    const score = part(list);
    const seen = new Set<string>();
    for (const item of list) {
      const id = key(item);
      if (seen.has(id)) continue;
      seen.add(id);
      const rank = seen.size;
      let entry = byKey.get(id);
      if (entry === undefined) {
        entry = { item, raw: 0, ranks: new Array<number | undefined>(lists.length).fill(undefined) };
        byKey.set(id, entry);
      }
      entry.raw += (weights[listIndex] as number) * score(rank, item);
      entry.ranks[listIndex] = rank;
    }
  });
  const bestRank = (ranks: (number | undefined)[]): number =>
    Math.min(...ranks.map((r, i) => ((weights[i] as number) > 0 ? (r ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY)));
  return [...byKey.entries()]
    .sort(([ka, a], [kb, b]) => b.raw - a.raw || bestRank(a.ranks) - bestRank(b.ranks) || (ka < kb ? -1 : ka > kb ? 1 : 0))
    .map(([, e]) => ({ item: e.item, score: e.raw / best, ranks: e.ranks }));
}

/**
 * How hybrid search combines the vector and full-text rankings.
 *
 * - `convex` (the default, prior weight 0.5): each list's scores are
 *   min-max normalised to [0, 1] over the fetched candidates (a candidate
 *   missing from a list scores 0 there), then fused as
 *   `vectorWeight · v + (1 − vectorWeight) · t` (Bruch, Gai & Ingber, "An
 *   analysis of fusion functions for hybrid retrieval", TOIS 2023: a tuned
 *   convex combination beat RRF).
 * - `rrf`: weighted reciprocal rank fusion, `Σ wᵢ / (k + rankᵢ)` with
 *   weights `vectorWeight` and `1 − vectorWeight`.
 *
 * `vectorWeight` 0 is full-text only, 1 vector only. Hybrid search tunes it
 * per collection (vector-gate.ts) unless a request sets it: with the weight
 * calibrated and the relative gate, convex is never below its better part on
 * the eval sets of BENCHMARKS.md "Retrieval" (without the gate: 4 of 48
 * (set, embedder, metric) cases); rrf scored lower (its calibrated weight is
 * often 0 or stays 0.5).
 */
export interface FusionOptions {
  method: "convex" | "rrf";
  /** Share of the vector ranking, 0 to 1. */
  vectorWeight: number;
  /** RRF's k (60 in the RRF paper); used by `rrf` only. */
  rrfK: number;
  /**
   * Hybrid search only (weightedFusion ignores it): whether the vector
   * weight is calibrated per collection with `vectorWeight` as the prior
   * (vector-gate.ts). Default true; false fuses with `vectorWeight` as is.
   */
  calibrate?: boolean;
  /**
   * Hybrid search with calibration only: the share of the full-text
   * ranking's probe MRR@10 the vector ranking must reach to be fused
   * (vector-gate.ts `RELATIVE_GATE`, the default); 0 turns the gate off.
   */
  relativeGate?: number;
}

export const FUSION_METHODS: readonly FusionOptions["method"][] = ["convex", "rrf"];

function minMax(scores: number[]): (s: number) => number {
  const lo = Math.min(...scores);
  const hi = Math.max(...scores);
  // One candidate, or all tied: they are all equally the list's best.
  return hi > lo ? (s) => (s - lo) / (hi - lo) : () => 1;
}

/**
 * Fuses two scored rankings (vector first, full-text second) as `options`
 * says; scores are in [0, 1] (convex: the weighted normalised score; rrf: the
 * weighted RRF score divided by its best attainable value). Ties break by the
 * better single rank, then by key.
 *
 * @example
 * ```ts
 * const fused = weightedFusion([vecHits, textHits], (h) => h.chunkId, (h) => h.score, { method: "convex", vectorWeight: 0.5, rrfK: 60 });
 * ```
 */
export function weightedFusion<T>(
  lists: [T[], T[]],
  key: (item: T) => string,
  score: (item: T) => number,
  options: FusionOptions,
): Fused<T>[] {
  const w = options.vectorWeight;
  if (!(w >= 0 && w <= 1)) throw new RangeError(`vectorWeight must be within [0, 1], got ${w}`);
  if (options.method === "rrf" && !(options.rrfK > 0)) throw new RangeError(`RRF k must be positive, got ${options.rrfK}`);
  const weights = [w, 1 - w];
  const part =
    options.method === "rrf"
      ? () => (rank: number) => 1 / (options.rrfK + rank)
      : (list: T[]) => {
          const norm = minMax(list.map(score));
          return (_rank: number, item: T) => norm(score(item));
        };
  return fuseLists(lists, key, weights, part, options.method === "rrf" ? 1 / (options.rrfK + 1) : 1);
}
