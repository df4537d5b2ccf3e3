/**
 * Sentence vectors from static word vectors, weighted the SIF way ("smooth
 * inverse frequency", Arora, Liang & Ma, ICLR 2017): a text's vector is the
 * average of its words' vectors, each weighted a / (a + p(w)) so frequent
 * words count little, with the "common discourse" direction removed.
 *
 * p(w) comes from the word's frequency rank in the vocabulary (Zipf's law,
 * p(r) ≈ 1 / (r · H), H ≈ ln(vocabulary size) + 0.577), since the package
 * ships ranks, not counts. The common direction is the first principal
 * component of the frequency-weighted vectors of the 5,000 most frequent
 * words, computed once per vocabulary (the paper estimates it from the
 * sentences to embed; a fixed direction keeps vectors independent of the
 * collection, so one text always embeds the same way).
 *
 * Words missing from the vocabulary contribute nothing; the hashing embedder
 * (concatenated, see {@link ConcatEmbedder}) covers them.
 */
import type { EmbedPurpose, Embedder } from "./embedder.js";
import { wordTokens } from "./text.js";
import type { WordVectors } from "./word-vectors.js";

export interface SifEmbedderOptions {
  vectors: WordVectors;
  /** SIF's a. Default 1e-3 (the paper's range is 1e-4 to 1e-3). */
  a?: number;
  /** Remove the common direction. Default true. */
  removeCommonComponent?: boolean;
}

/** Size of the vocabulary the ranks come from (GloVe 6B's 400k words). */
const FULL_VOCABULARY = 400_000;
const HARMONIC = Math.log(FULL_VOCABULARY) + 0.5772;

/** Zipf estimate of a word's unigram probability from its 0-based rank. */
function probability(rank: number): number {
  return 1 / ((rank + 1) * HARMONIC);
}

/** First principal component (uncentered) of the p(w)-weighted top words, by power iteration. */
function commonDirection(vectors: WordVectors, top = 5_000): Float64Array {
  const d = vectors.dimension;
  const n = Math.min(top, vectors.rank.size);
  let u = new Float64Array(d).fill(1 / Math.sqrt(d));
  for (let iter = 0; iter < 15; iter++) {
    const next = new Float64Array(d);
    for (let r = 0; r < n; r++) {
      const off = r * d;
      let dot = 0;
      for (let j = 0; j < d; j++) dot += (vectors.matrix[off + j] as number) * (u[j] as number);
      const w = probability(r) * dot;
      for (let j = 0; j < d; j++) next[j] = (next[j] as number) + w * (vectors.matrix[off + j] as number);
    }
    let norm = 0;
    for (const x of next) norm += x * x;
    norm = Math.sqrt(norm);
    if (norm === 0) break;
    for (let j = 0; j < d; j++) next[j] = (next[j] as number) / norm;
    u = next;
  }
  return u;
}

const directions = new WeakMap<WordVectors, Float64Array>();

/** The id a {@link SifEmbedder} will have, known before its vectors are loaded. */
export function sifEmbedderId(vectorsId: string, a = 1e-3, removeCommonComponent = true): string {
  return `sif-v1:${vectorsId}:a${a}${removeCommonComponent ? ":pc1" : ""}`;
}

/**
 * SIF-weighted average of word vectors (see the module comment), L2-normalised.
 *
 * @example
 * ```ts
 * const sif = new SifEmbedder({ vectors: await loadWordVectors({ cacheDir }) });
 * const [q, d] = await sif.embed(["get my money back", "How to request a refund"]);
 * ```
 */
export class SifEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  private readonly vectors: WordVectors;
  private readonly weights: Float32Array;
  private readonly common: Float64Array | undefined;

  constructor(options: SifEmbedderOptions) {
    const a = options.a ?? 1e-3;
    if (!(a > 0)) throw new RangeError("a must be positive");
    this.vectors = options.vectors;
    this.dimension = options.vectors.dimension;
    this.weights = new Float32Array(options.vectors.rank.size);
    for (let r = 0; r < this.weights.length; r++) this.weights[r] = a / (a + probability(r));
    const remove = options.removeCommonComponent ?? true;
    if (remove) {
      let u = directions.get(options.vectors);
      if (u === undefined) {
        u = commonDirection(options.vectors);
        directions.set(options.vectors, u);
      }
      this.common = u;
    }
    this.id = sifEmbedderId(options.vectors.id, a, remove);
  }

  embed(texts: string[]): Promise<number[][]> {
    return Promise.resolve(texts.map((t) => this.embedOne(t)));
  }

  embedOne(text: string): number[] {
    const d = this.dimension;
    const v = new Float64Array(d);
    let used = 0;
    for (const word of wordTokens(text)) {
      const r = this.vectors.rank.get(word);
      if (r === undefined) continue;
      const w = this.weights[r] as number;
      const off = r * d;
      for (let j = 0; j < d; j++) v[j] = (v[j] as number) + w * (this.vectors.matrix[off + j] as number);
      used++;
    }
    if (used > 0 && this.common !== undefined) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += (v[j] as number) * (this.common[j] as number);
      for (let j = 0; j < d; j++) v[j] = (v[j] as number) - dot * (this.common[j] as number);
    }
    return unitVector(v);
  }
}

/** `v / |v|`; a fixed unit vector when v is zero (cosine with zero is undefined). */
export function unitVector(v: ArrayLike<number>): number[] {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += (v[i] as number) ** 2;
  norm = Math.sqrt(norm);
  const out = new Array<number>(v.length).fill(0);
  if (norm === 0) {
    out[0] = 1;
    return out;
  }
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) / norm;
  return out;
}

/** One part of a {@link ConcatEmbedder}. */
export interface WeightedEmbedder {
  embedder: Embedder;
  /** Relative weight; the part's share of the cosine is weight² / Σ weight². */
  weight: number;
}

/**
 * Concatenates unit vectors of several embedders, each scaled by its weight,
 * and renormalises: the cosine of two concatenations is the weighted mean of
 * the parts' cosines (weights squared). Lexical plus distributional vectors
 * this way match both shared words and related words.
 *
 * @example
 * ```ts
 * const e = new ConcatEmbedder([{ embedder: sif, weight: 1 }, { embedder: hashing, weight: 1 }]);
 * ```
 */
export class ConcatEmbedder implements Embedder {
  readonly id: string;

  constructor(private readonly parts: readonly WeightedEmbedder[]) {
    if (parts.length === 0) throw new RangeError("ConcatEmbedder needs at least one part");
    for (const p of parts) if (!(p.weight > 0)) throw new RangeError("ConcatEmbedder weights must be positive");
    this.id = `concat(${parts.map((p) => `${p.weight}*${p.embedder.id}`).join(",")})`;
  }

  async embed(texts: string[], purpose?: EmbedPurpose): Promise<number[][]> {
    const outputs = await Promise.all(this.parts.map((p) => p.embedder.embed(texts, purpose)));
    const total = Math.sqrt(this.parts.reduce((s, p) => s + p.weight * p.weight, 0));
    return texts.map((_, i) => {
      const out: number[] = [];
      outputs.forEach((vectors, k) => {
        const part = unitVector(vectors[i] ?? []);
        const scale = (this.parts[k] as WeightedEmbedder).weight / total;
        for (const x of part) out.push(x * scale);
      });
      return out;
    });
  }
}
