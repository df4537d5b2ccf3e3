/**
 * Perplexity of a model on a text, token by token, with a sliding window:
 *
 * The text is tokenized once (BOS added per window when the model wants one). Windows of
 * `contextSize` tokens start every `stride` tokens; each scores only the tokens the previous
 * window did not (so every token is scored once, and after the first window each has at least
 * `contextSize - stride` tokens of context). With `stride = contextSize` this is llama.cpp's
 * `llama-perplexity` chunking without its "score the second half only" rule; with a smaller
 * stride, the Hugging Face sliding-window definition. PPL = exp(mean negative log-likelihood).
 *
 * Log-probabilities are the raw softmax of the logits (a neutral sampler: temperature 1, no
 * top-k/top-p/min-p), read with node-llama-cpp's `controlledEvaluate`.
 */
import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";

export interface WindowOptions {
  /** Tokens per window, BOS included. */
  contextSize: number;
  /** Tokens between window starts; `1..contextSize - 1` (BOS takes a place). Default half the window. */
  stride?: number;
}

export interface PerplexityScore {
  /** exp(mean NLL). */
  perplexity: number;
  /** Mean negative log-likelihood per scored token (nats). */
  meanNll: number;
  /** Tokens in the text. */
  tokens: number;
  /** Tokens scored (all but the first when the model has no BOS). */
  scored: number;
  /** Tokens evaluated, overlaps and BOS included. */
  evaluated: number;
  /** Wall time of the evaluation. */
  evalMs: number;
}

/** The BOS token the model prepends to a prompt, or null. */
function bosOf(model: LlamaModel): Token | null {
  return model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
}

/**
 * Scores `text` on `sequence` (whose history is cleared first and after).
 * @example
 * ```ts
 * const { perplexity } = await sequencePerplexity(context.getSequence(), model, text, { contextSize: 256, stride: 128 });
 * ```
 */
export async function sequencePerplexity(sequence: LlamaContextSequence, model: LlamaModel, text: string, options: WindowOptions): Promise<PerplexityScore> {
  const tokens = model.tokenize(text, false);
  const bos = bosOf(model);
  const offset = bos === null ? 0 : 1;
  const width = Math.min(options.contextSize, sequence.contextSize) - offset;
  const stride = options.stride ?? Math.max(1, Math.floor(width / 2));
  if (width < 2) throw new RangeError(`contextSize ${options.contextSize} is too small for a window`);
  if (!Number.isInteger(stride) || stride < 1 || stride > width) throw new RangeError(`stride must be an integer in [1, ${width}], got ${stride}`);
  if (tokens.length < 2) throw new RangeError("the text is shorter than two tokens");

  const started = performance.now();
  let nll = 0;
  let scored = 0;
  let evaluated = 0;
  let scoredUpTo = 0; // tokens before this index are scored
  for (let begin = 0; ; begin += stride) {
    const end = Math.min(begin + width, tokens.length);
    const input: Token[] = bos === null ? tokens.slice(begin, end) : [bos, ...tokens.slice(begin, end)];
    const first = Math.max(scoredUpTo, begin + (bos === null ? 1 : 0));
    // The token at text index t is predicted by the logits at input index t - begin + offset - 1.
    const items = input.map((token, j) => {
      const target = tokens[begin + j - offset + 1];
      const t = begin + j - offset + 1;
      if (target === undefined || t < first || t >= end) return token;
      return [
        token,
        {
          generateNext: {
            logits: { filter: { tokens: [target], includeTop: 1 } },
            totalLogitWeight: true,
            options: { temperature: 1, topK: 0, topP: 1, minP: 0 },
          },
        },
      ] as [Token, { generateNext: { logits: { filter: { tokens: Token[]; includeTop: number } }; totalLogitWeight: boolean; options: { temperature: number; topK: number; topP: number; minP: number } } }];
    });
    await sequence.clearHistory();
    const results = await sequence.controlledEvaluate(items);
    evaluated += input.length;
    for (const [j, result] of results.entries()) {
      if (result === undefined) continue;
      const target = tokens[begin + j - offset + 1]!;
      const logits = result.next.logits;
      const total = result.next.totalLogitWeight;
      const targetLogit = logits?.get(target);
      const top = logits === undefined ? undefined : Math.max(...logits.values());
      if (targetLogit === undefined || top === undefined || total === undefined) throw new Error("llama.cpp returned no logits for a scored position");
      nll += -(targetLogit - top - Math.log(total));
      scored++;
    }
    scoredUpTo = end;
    if (end >= tokens.length) break;
  }
  await sequence.clearHistory();
  const meanNll = nll / scored;
  return { perplexity: Math.exp(meanNll), meanNll, tokens: tokens.length, scored, evaluated, evalMs: performance.now() - started };
}
