/**
 * mulberry32: a tiny, fast seeded PRNG, good enough for sampling tokens and
 * drawing evaluation samples, and fully reproducible across runs.
 *
 * @example
 * ```ts
 * const next = seededRandom(42);
 * next(); // 0 <= x < 1, the same sequence for every run with seed 42
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
