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
 * top-k/top-p/min-p), read with node-llama-cpp's `controlledEvaluate` by the engine's `scoreTokens`
 * (the same code scores a completions `echo`, so `--url` evaluations agree with local ones).
 */
import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { scoreTokens } from "../engine/token-scores.js";

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

/** One window of the sliding-window definition: text tokens `[begin, end)` evaluated, `[first, end)` scored. */
export interface PerplexityWindow {
  begin: number;
  end: number;
  first: number;
}

/**
 * The windows over a text of `tokens` tokens (shared by the local eval and the API eval, so both score the
 * same tokens with the same context). `bos`: each window starts with a BOS token, which takes a place.
 * @example
 * ```ts
 * perplexityWindows(10, false, { contextSize: 6, stride: 3 }); // [{begin:0,end:6,first:1},{begin:3,end:9,first:6},{begin:6,end:10,first:9}]
 * ```
 */
export function perplexityWindows(tokens: number, bos: boolean, options: WindowOptions & { maxContextSize?: number }): PerplexityWindow[] {
  const offset = bos ? 1 : 0;
  const width = Math.min(options.contextSize, options.maxContextSize ?? options.contextSize) - offset;
  const stride = options.stride ?? Math.max(1, Math.floor(width / 2));
  if (width < 2) throw new RangeError(`contextSize ${options.contextSize} is too small for a window`);
  if (!Number.isInteger(stride) || stride < 1 || stride > width) throw new RangeError(`stride must be an integer in [1, ${width}], got ${stride}`);
  if (tokens < 2) throw new RangeError("the text is shorter than two tokens");
  const windows: PerplexityWindow[] = [];
  let scoredUpTo = 0; // tokens before this index are scored
  for (let begin = 0; ; begin += stride) {
    const end = Math.min(begin + width, tokens);
    windows.push({ begin, end, first: Math.max(scoredUpTo, begin + (bos ? 0 : 1)) });
    scoredUpTo = end;
    if (end >= tokens) return windows;
  }
}

/** The score from the summed negative log-likelihood. */
export function perplexityOf(nll: number, scored: number, tokens: number, evaluated: number, evalMs: number): PerplexityScore {
  const meanNll = nll / scored;
  return { perplexity: Math.exp(meanNll), meanNll, tokens, scored, evaluated, evalMs };
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
  const windows = perplexityWindows(tokens.length, bos !== null, { ...options, maxContextSize: sequence.contextSize });
  const started = performance.now();
  let nll = 0;
  let scored = 0;
  let evaluated = 0;
  for (const { begin, end, first } of windows) {
    const input: Token[] = bos === null ? tokens.slice(begin, end) : [bos, ...tokens.slice(begin, end)];
    // Input index j holds text token begin + j - offset.
    const scores = await scoreTokens(sequence, input, (j) => begin + j - offset >= first, 0);
    evaluated += input.length;
    for (const score of scores) {
      if (score === undefined) continue;
      nll -= score.logprob;
      scored++;
    }
  }
  await sequence.clearHistory();
  return perplexityOf(nll, scored, tokens.length, evaluated, performance.now() - started);
}
