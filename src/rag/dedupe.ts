/**
 * Near-duplicate detection for the chunks of one document: boilerplate
 * repeated in a page (footers, disclaimers, repeated FAQ answers) would
 * otherwise fill every top-k slot with the same text.
 */
import { normalizeForDedupe, sha256Hex } from "./text.js";

export interface NearDuplicateOptions {
  /** Word-shingle Jaccard similarity at or above which a chunk is a duplicate. Default 0.9. */
  threshold?: number;
  /** Words per shingle. Default 3. */
  shingleSize?: number;
}

/**
 * Remembers the chunks kept so far and says whether a new one is new enough to
 * keep: an exact match after normalisation (case, punctuation, whitespace), or
 * a word-shingle Jaccard similarity ≥ `threshold` with any kept chunk, is a
 * duplicate. Quadratic in chunks per document, which is fine for documents
 * (hundreds of chunks), not for whole corpora.
 *
 * @example
 * ```ts
 * const seen = new NearDuplicateFilter();
 * seen.keep("Contact us at support."); // true
 * seen.keep("contact us at SUPPORT");  // false
 * ```
 */
export class NearDuplicateFilter {
  private readonly threshold: number;
  private readonly shingleSize: number;
  private readonly exact = new Set<string>();
  private readonly kept: Set<string>[] = [];

  constructor(options: NearDuplicateOptions = {}) {
    this.threshold = options.threshold ?? 0.9;
    this.shingleSize = options.shingleSize ?? 3;
  }

  /** True when `text` is not a near-duplicate of a kept chunk; it is then remembered. */
  keep(text: string): boolean {
    const normalized = normalizeForDedupe(text);
    const key = sha256Hex(normalized);
    if (this.exact.has(key)) return false;
    const shingles = this.shingles(normalized);
    if (shingles.size > 0) {
      for (const other of this.kept) {
        if (jaccard(shingles, other) >= this.threshold) return false;
      }
    }
    this.exact.add(key);
    this.kept.push(shingles);
    return true;
  }

  private shingles(normalized: string): Set<string> {
    const words = normalized.length === 0 ? [] : normalized.split(" ");
    const out = new Set<string>();
    // Texts shorter than one shingle are only compared exactly.
    for (let i = 0; i + this.shingleSize <= words.length; i++) out.add(words.slice(i, i + this.shingleSize).join(" "));
    return out;
  }
}

/**
 * |a ∩ b| / |a ∪ b|.
 *
 * @example
 * ```ts
 * jaccard(new Set(["x", "y"]), new Set(["y", "z"])); // 1/3
 * ```
 */
export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let inter = 0;
  for (const x of small) if (large.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}
