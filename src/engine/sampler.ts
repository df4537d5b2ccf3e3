/**
 * Token choice for the logprobs generation loop. llama.cpp reports the raw
 * distribution; we choose the token here so the reported log probabilities are
 * those of the real softmax, whatever temperature, top_k, top_p or penalties
 * the request uses. Deterministic for a given seed: a seeded PRNG, no clock.
 */
import { seededRandom } from "../util/seeded-random.js";

export { seededRandom };

/** A token id with its raw probability, most likely first (as llama.cpp returns them). */
export type Candidate = readonly [token: number, probability: number];

export interface SamplerSettings {
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  presencePenalty: number;
  frequencyPenalty: number;
  seed?: number;
}

/** How many recent tokens the presence/frequency penalties look at (as the LlamaChat path does). */
export const PENALTY_WINDOW = 64;


/**
 * Chooses tokens from raw distributions. Temperature 0 is greedy (ties go to
 * the first candidate, i.e. the one llama.cpp ranks first).
 *
 * @example
 * ```ts
 * const sampler = new TokenSampler({ temperature: 0.8, topK: 40, topP: 0.95, presencePenalty: 0, frequencyPenalty: 0, seed: 7 });
 * const token = sampler.choose(candidates, recentTokens);
 * ```
 */
export class TokenSampler {
  private readonly random: () => number;

  constructor(private readonly settings: SamplerSettings) {
    // No seed: a fresh random one, so unseeded requests differ from call to call.
    this.random = seededRandom(settings.seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  /**
   * Picks the next token. `recent` are the tokens generated so far (the penalty window is
   * taken from its end). Greedy without penalties is one pass with no copies: the
   * candidates may be the whole vocabulary.
   */
  choose(candidates: Iterable<Candidate>, recent: readonly number[]): number {
    const { temperature, topK, topP, presencePenalty, frequencyPenalty } = this.settings;
    if (temperature <= 0 && presencePenalty === 0 && frequencyPenalty === 0) {
      let best: Candidate | undefined;
      for (const c of candidates) if (!best || c[1] > best[1]) best = c;
      if (!best) throw new Error("No candidates to sample from.");
      return best[0];
    }
    const scored = this.penalized([...candidates], recent);
    if (scored.length === 0) throw new Error("No candidates to sample from.");
    if (temperature <= 0) return argmax(scored);
    // Logits up to a constant: log p − penalty, scaled by 1/temperature.
    let pool = scored.map(([token, logit]) => [token, logit / temperature] as [number, number]).sort((a, b) => b[1] - a[1]);
    if (topK > 0 && topK < pool.length) pool = pool.slice(0, topK);
    const max = pool[0]![1];
    let weights = pool.map(([token, logit]) => [token, Math.exp(logit - max)] as [number, number]);
    let total = weights.reduce((sum, [, w]) => sum + w, 0);
    if (topP < 1) {
      const kept: Array<[number, number]> = [];
      let cumulative = 0;
      for (const entry of weights) {
        kept.push(entry);
        cumulative += entry[1] / total;
        if (cumulative >= topP) break;
      }
      weights = kept;
      total = weights.reduce((sum, [, w]) => sum + w, 0);
    }
    let r = this.random() * total;
    for (const [token, w] of weights) {
      r -= w;
      if (r < 0) return token;
    }
    return weights[weights.length - 1]![0];
  }

  /** Log probabilities with OpenAI's additive penalties applied over the recent window. */
  private penalized(candidates: readonly Candidate[], recent: readonly number[]): Array<[number, number]> {
    const { presencePenalty, frequencyPenalty } = this.settings;
    const counts = new Map<number, number>();
    if (presencePenalty !== 0 || frequencyPenalty !== 0) {
      for (const t of recent.slice(-PENALTY_WINDOW)) counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    return candidates.map(([token, p]) => {
      const n = counts.get(token) ?? 0;
      const penalty = n > 0 ? presencePenalty + frequencyPenalty * n : 0;
      return [token, Math.log(Math.max(p, Number.MIN_VALUE)) - penalty];
    });
  }
}

function argmax(scored: ReadonlyArray<readonly [number, number]>): number {
  let best = scored[0]!;
  for (const entry of scored) if (entry[1] > best[1]) best = entry;
  return best[0];
}
