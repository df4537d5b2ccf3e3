/**
 * A lexical embedding by feature hashing (the "hashing trick", Weinberger et
 * al. 2009): words and adjacent word pairs are hashed into a fixed number of
 * buckets with a random sign (plus, at a lower weight, the words' character
 * 3-5-grams, as fastText does), weighted by sublinear term frequency and
 * L2-normalised, so the dot product of two vectors approximates the cosine of
 * their bag-of-features vectors. It needs no model, is deterministic on
 * every machine, and captures word overlap (not meaning): the offline fallback
 * and the embedder the tests use.
 */
import type { Embedder } from "./embedder.js";
import { fnv1a32, wordTokens } from "./text.js";

export interface HashingEmbedderOptions {
  /** Vector length. Default 384. */
  dimension?: number;
  /** Add adjacent-word bigrams (weight `bigramWeight`). Default true. */
  bigrams?: boolean;
  /** Default 0.5: bigrams refine word matches rather than dominate them. */
  bigramWeight?: number;
  /**
   * Weight of character n-grams (3 to 5 characters of each word padded as
   * `<word>`, as in fastText); 0 = off. Default 0.3. They match word variants
   * and typos that whole-word features miss; on the Bitext eval they raised
   * vector hit@1 from 0.69 to 0.82 (see bench/eval-retrieval.ts).
   */
  charNgramWeight?: number;
  /** Drop common English function words. Default true. */
  removeStopWords?: boolean;
  /** Apply Harman's S-stemmer (plural endings). Default true. */
  stem?: boolean;
}

/** Common English function words: they match everything and carry no topic. */
const STOP_WORDS = new Set(
  ("a an and are as at be been but by can could did do does for from had has have how i if in into is it its " +
    "me my of on or our so than that the their them then there these they this to too us was we were what when where " +
    "which who whom why will with would you your s t d ll m re ve")
    .split(" "),
);

/**
 * Harman's S-stemmer (1991): strips English plural endings only, which keeps
 * "refunds" = "refund" without the over-stemming of heavier stemmers.
 */
export function sStem(word: string): string {
  if (word.length <= 3) return word;
  if (word.endsWith("ies") && !word.endsWith("eies") && !word.endsWith("aies")) return `${word.slice(0, -3)}y`;
  if (word.endsWith("es") && !word.endsWith("aes") && !word.endsWith("ees") && !word.endsWith("oes")) return word.slice(0, -1);
  if (word.endsWith("s") && !word.endsWith("us") && !word.endsWith("ss")) return word.slice(0, -1);
  return word;
}

const SIGN_SEED = 0x9747b28c;

/**
 * Deterministic feature-hashing embedder (see the module comment).
 *
 * @example
 * ```ts
 * const e = new HashingEmbedder({ dimension: 384 });
 * const [a, b] = await e.embed(["refund my order", "how do I get a refund for an order"]);
 * // a·b is high (shared "refund", "order"); both have L2 norm 1
 * ```
 */
export class HashingEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  private readonly bigrams: boolean;
  private readonly bigramWeight: number;
  private readonly removeStopWords: boolean;
  private readonly stem: boolean;
  private readonly charNgramWeight: number;

  constructor(options: HashingEmbedderOptions = {}) {
    this.dimension = options.dimension ?? 384;
    if (!Number.isInteger(this.dimension) || this.dimension < 8) throw new RangeError("dimension must be an integer >= 8");
    this.bigrams = options.bigrams ?? true;
    this.bigramWeight = options.bigramWeight ?? 0.5;
    this.removeStopWords = options.removeStopWords ?? true;
    this.stem = options.stem ?? true;
    this.charNgramWeight = options.charNgramWeight ?? 0.3;
    // Every option changes the vectors, so every option is in the id.
    this.id = `hashing-v1:d${this.dimension}:b${this.bigrams ? this.bigramWeight : 0}:sw${this.removeStopWords ? 1 : 0}:st${this.stem ? 1 : 0}${this.charNgramWeight > 0 ? `:c${this.charNgramWeight}` : ""}`;
  }

  embed(texts: string[]): Promise<number[][]> {
    return Promise.resolve(texts.map((t) => this.embedOne(t)));
  }

  /** Synchronous form, for benchmarks that generate many vectors. */
  embedOne(text: string): number[] {
    let tokens = wordTokens(text);
    if (this.removeStopWords) tokens = tokens.filter((t) => !STOP_WORDS.has(t));
    if (this.stem) tokens = tokens.map(sStem);

    const counts = new Map<string, number>();
    const bump = (feature: string, weight: number): void => {
      counts.set(feature, (counts.get(feature) ?? 0) + weight);
    };
    for (let i = 0; i < tokens.length; i++) {
      const tok = tokens[i] as string;
      bump(`w:${tok}`, 1);
      if (this.bigrams && i + 1 < tokens.length) bump(`b:${tok} ${tokens[i + 1] as string}`, this.bigramWeight);
      if (this.charNgramWeight > 0) {
        const padded = `<${tok}>`;
        for (let n = 3; n <= 5; n++) {
          for (let j = 0; j + n <= padded.length; j++) bump(`c:${padded.slice(j, j + n)}`, this.charNgramWeight);
        }
      }
    }
    // An empty text still needs a unit vector: cosine with a zero vector is undefined.
    if (counts.size === 0) counts.set("<empty>", 1);

    const v = new Float64Array(this.dimension);
    for (const [feature, tf] of counts) {
      const bucket = fnv1a32(feature) % this.dimension;
      const sign = (fnv1a32(feature, SIGN_SEED) & 1) === 0 ? 1 : -1;
      // Sublinear tf: a word repeated ten times is not ten times as relevant.
      const weight = tf >= 1 ? 1 + Math.log(tf) : tf;
      v[bucket] = (v[bucket] as number) + sign * weight;
    }
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm);
    // All features may cancel out in one bucket; fall back to a fixed unit vector.
    if (norm === 0) {
      const out = new Array<number>(this.dimension).fill(0);
      out[0] = 1;
      return out;
    }
    return Array.from(v, (x) => x / norm);
  }
}
