/**
 * Log probabilities of given tokens, each given the tokens before it: one evaluation of the
 * sequence with node-llama-cpp's `controlledEvaluate`, reading the raw logits (a neutral
 * sampler: temperature 1, no top-k/top-p/min-p) at the positions asked for. Shared by the
 * completions `echo` scoring of a shard and by `switchyard eval perplexity`, so both compute
 * the same number the same way: log P(t) = logit(t) - max logit - log Σ exp(logit - max logit).
 */
import type { LlamaContextSequence, Token } from "node-llama-cpp";

export interface TokenScore {
  /** Natural log of the probability of the token at this position. */
  logprob: number;
  /** The `top` most likely tokens at this position, most likely first, with their log probabilities. */
  top: Array<{ token: Token; logprob: number }>;
}

type ScoredItem = [
  Token,
  {
    generateNext: {
      logits: { filter: { tokens: Token[]; includeTop: number } };
      totalLogitWeight: boolean;
      options: { temperature: number; topK: number; topP: number; minP: number };
    };
  },
];

/**
 * Evaluates `input` on `sequence` from an empty history (cleared first) and scores the positions `j`
 * (1 ≤ j < input.length) for which `scored(j)` holds: log P(input[j] | input[0..j-1]). Returns one entry
 * per input position (`undefined` where not scored). The sequence holds `input` afterwards.
 * @example
 * ```ts
 * const scores = await scoreTokens(sequence, [bos, ...tokens], () => true, 0);
 * scores[1]?.logprob; // log P(tokens[0] | BOS)
 * ```
 */
export async function scoreTokens(sequence: LlamaContextSequence, input: readonly Token[], scored: (j: number) => boolean, top: number): Promise<Array<TokenScore | undefined>> {
  const items = input.map((token, i): Token | ScoredItem => {
    const target = input[i + 1];
    if (target === undefined || !scored(i + 1)) return token;
    return [
      token,
      {
        generateNext: {
          logits: { filter: { tokens: [target], includeTop: Math.max(1, top) } },
          totalLogitWeight: true,
          options: { temperature: 1, topK: 0, topP: 1, minP: 0 },
        },
      },
    ];
  });
  await sequence.clearHistory();
  const results = await sequence.controlledEvaluate(items);
  const scores: Array<TokenScore | undefined> = new Array<TokenScore | undefined>(input.length).fill(undefined);
  for (const [i, result] of results.entries()) {
    if (result === undefined) continue;
    const target = input[i + 1]!;
    const logits = result.next.logits;
    const total = result.next.totalLogitWeight;
    const targetLogit = logits?.get(target);
    // The map is sorted by logit, highest first.
    const max = logits?.values().next().value;
    if (logits === undefined || targetLogit === undefined || max === undefined || total === undefined) throw new Error("llama.cpp returned no logits for a scored position");
    const logprobOf = (logit: number) => logit - max - Math.log(total);
    const ranked = [...logits.entries()];
    // The target is in the map even when it is not among the top ones: then it is not an alternative.
    const alternatives = ranked.length > Math.max(1, top) ? ranked.filter(([t]) => t !== target) : ranked;
    scores[i + 1] = { logprob: logprobOf(targetLogit), top: alternatives.slice(0, top).map(([token, logit]) => ({ token, logprob: logprobOf(logit) })) };
  }
  return scores;
}
