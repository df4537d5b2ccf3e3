/**
 * Retrieval-quality and latency metrics for the evaluation script and tests.
 * Ranks are 1-based; a ranking is a list of ids, best first.
 */
import { seededRandom } from "../util/seeded-random.js";

export { seededRandom };

/**
 * 1 when any of the first `k` ids is relevant, else 0.
 *
 * @example
 * ```ts
 * hitAt(["a", "b", "c"], new Set(["c"]), 2); // 0
 * ```
 */
export function hitAt(ranking: string[], relevant: Set<string>, k: number): number {
  return ranking.slice(0, k).some((id) => relevant.has(id)) ? 1 : 0;
}

/**
 * Reciprocal rank of the first relevant id within the first `k` (0 if none).
 *
 * @example
 * ```ts
 * reciprocalRank(["a", "b"], new Set(["b"]), 10); // 0.5
 * ```
 */
export function reciprocalRank(ranking: string[], relevant: Set<string>, k = Number.POSITIVE_INFINITY): number {
  const i = ranking.slice(0, k).findIndex((id) => relevant.has(id));
  return i < 0 ? 0 : 1 / (i + 1);
}

/**
 * Fraction of the relevant ids found in the first `k`.
 *
 * @example
 * ```ts
 * recallAt(["a", "b"], new Set(["b", "z"]), 10); // 0.5
 * ```
 */
export function recallAt(ranking: string[], relevant: Set<string>, k: number): number {
  if (relevant.size === 0) return 0;
  const found = new Set(ranking.slice(0, k).filter((id) => relevant.has(id)));
  return found.size / relevant.size;
}

/**
 * nDCG@k with graded relevance (BEIR's definition: gain = grade,
 * discount = log2(rank + 1)); duplicate ids count once.
 *
 * @example
 * ```ts
 * ndcgAt(["a", "b"], new Map([["b", 1]]), 10); // 1 / log2(3) ≈ 0.631
 * ```
 */
export function ndcgAt(ranking: string[], grades: Map<string, number>, k: number): number {
  const seen = new Set<string>();
  let dcg = 0;
  let rank = 0;
  for (const id of ranking) {
    if (seen.has(id)) continue;
    seen.add(id);
    rank++;
    if (rank > k) break;
    const g = grades.get(id) ?? 0;
    if (g > 0) dcg += g / Math.log2(rank + 1);
  }
  const ideal = [...grades.values()]
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, k)
    .reduce((sum, g, i) => sum + g / Math.log2(i + 2), 0);
  return ideal === 0 ? 0 : dcg / ideal;
}

/**
 * The p-th percentile (0-100) by nearest rank; NaN for no samples.
 *
 * @example
 * ```ts
 * percentile([5, 1, 3, 2, 4], 50); // 3
 * ```
 */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** Arithmetic mean; NaN for no samples. */
export function mean(samples: number[]): number {
  return samples.length === 0 ? Number.NaN : samples.reduce((a, b) => a + b, 0) / samples.length;
}

