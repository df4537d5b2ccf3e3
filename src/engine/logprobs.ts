/**
 * Log probability entries in OpenAI's terms, from the raw distribution
 * llama.cpp reports for one position.
 */
import type { TokenAlternative, TokenLogprob } from "../types.js";

/** OpenAI's floor for "practically impossible" (log of a probability that underflowed to 0). */
export const MIN_LOGPROB = -9999;

/**
 * Natural log of a probability, floored so that it is always finite.
 *
 * @example
 * ```ts
 * logprobOf(0.5); // -0.693…
 * logprobOf(0);   // -9999
 * ```
 */
export function logprobOf(probability: number): number {
  return probability > 0 ? Math.max(Math.log(probability), MIN_LOGPROB) : MIN_LOGPROB;
}

/**
 * UTF-8 bytes of a token's text, as OpenAI's `bytes` field.
 *
 * @example
 * ```ts
 * bytesOf(" é"); // [32, 195, 169]
 * ```
 */
export function bytesOf(text: string): number[] {
  return Array.from(Buffer.from(text, "utf8"));
}

/**
 * The entry for the chosen token and its `top` most likely alternatives.
 * `probabilities` must be ordered most likely first (llama.cpp's order).
 *
 * @example
 * ```ts
 * const entry = logprobEntry(probs, chosen, 5, (t) => model.detokenize([t], false, previous));
 * // { token: " the", logprob: -0.4, bytes: [32, 116, 104, 101], top: [...5 alternatives] }
 * ```
 */
export function logprobEntry(
  probabilities: ReadonlyMap<number, number>,
  chosen: number,
  top: number,
  textOf: (token: number) => string,
): Omit<TokenLogprob, "offset"> {
  const alternative = (token: number, p: number): TokenAlternative => {
    const token_ = textOf(token);
    return { token: token_, logprob: logprobOf(p), bytes: bytesOf(token_) };
  };
  const alternatives: TokenAlternative[] = [];
  if (top > 0) {
    for (const [token, p] of probabilities) {
      alternatives.push(alternative(token, p));
      if (alternatives.length >= top) break;
    }
  }
  return { ...alternative(chosen, probabilities.get(chosen) ?? 0), top: alternatives };
}
