/**
 * The generation loop used when a request asks for log probabilities.
 * LlamaChat/LlamaCompletion report no probabilities, so this loop drives the
 * sequence itself: llama.cpp evaluates with a neutral sampler (temperature 1,
 * no top-k, no top-p) so the reported distribution is the raw softmax, our
 * {@link TokenSampler} chooses the token from it, and the choice is fed back
 * with `iterator.next(token)` (which replaces llama.cpp's own pick).
 */
import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import type { FinishReason, SamplingParams, TokenLogprob } from "../types.js";
import { logprobEntry } from "./logprobs.js";
import { TokenSampler } from "./sampler.js";
import { TokenTextStream, type TextPiece } from "./token-text-stream.js";

export interface LogprobGenerationOptions {
  sequence: LlamaContextSequence;
  model: LlamaModel;
  /** Everything to evaluate before the first generated token (BOS and template included). */
  prompt: Token[];
  /** Already clamped to the free context. */
  maxTokens: number;
  params: SamplingParams;
  /** Text that ends the answer; it is not returned. */
  stopStrings: readonly string[];
  /** Tokens that end the answer besides the model's end-of-generation tokens. */
  stopTokens: ReadonlySet<number>;
  signal: AbortSignal;
  onPiece: (piece: TextPiece) => void;
}

export interface LogprobGenerationResult {
  text: string;
  finishReason: FinishReason;
  completionTokens: number;
  logprobs: TokenLogprob[];
  /** `performance.now()` of the first chosen token; 0 if none. */
  firstTokenAt: number;
  aborted: boolean;
}

/** How many tokens before a position give the detokenizer its spacing context. */
const CONTEXT_TOKENS = 8;

/**
 * @example
 * ```ts
 * const res = await generateWithLogprobs({ sequence, model, prompt, maxTokens: 16, params, stopStrings: [], stopTokens: new Set(), signal, onPiece: send });
 * res.logprobs[0]; // { token, logprob, bytes, top: [...], offset: 0 }
 * ```
 */
export async function generateWithLogprobs(o: LogprobGenerationOptions): Promise<LogprobGenerationResult> {
  const { sequence, model, prompt, params } = o;
  const top = params.logprobs ?? 0;
  const sampler = new TokenSampler({
    temperature: params.temperature,
    topK: params.topK,
    topP: params.topP,
    presencePenalty: params.presencePenalty,
    frequencyPenalty: params.frequencyPenalty,
    ...(params.seed === undefined ? {} : { seed: params.seed }),
  });
  const generated: number[] = [];
  const logprobs: TokenLogprob[] = [];
  // Only generated tokens give context, as LlamaChat and LlamaCompletion decode: the answer's
  // first token then loses its SentencePiece leading space, so both paths return the same text.
  const textOf = (token: number) => model.detokenize([token as Token], false, generated.slice(-CONTEXT_TOKENS) as Token[]);
  const stream = new TokenTextStream((tokens, previous) => model.detokenize(tokens as Token[], false, previous as Token[]), o.stopStrings);
  const emit = (piece: TextPiece | undefined) => {
    if (!piece) return;
    logprobs.push(...piece.logprobs);
    o.onPiece(piece);
  };

  // Reuse the KV cache for the common prefix; at least the last prompt token is evaluated (it yields the first logits).
  await sequence.adaptStateToTokens(prompt.slice(0, -1), false);
  const toEvaluate = prompt.slice(sequence.nextTokenIndex);

  let finishReason: FinishReason = "length";
  let firstTokenAt = 0;
  let aborted = false;
  const iterator = sequence.evaluateWithMetadata(
    toEvaluate,
    { probabilities: true },
    // Neutral sampling: llama.cpp's probabilities are then the raw softmax (topK 0 = the whole vocabulary).
    { temperature: 1, topK: 0, topP: 1, minP: 0, yieldEogToken: true },
  );
  try {
    let step = await iterator.next();
    while (!step.done) {
      if (o.signal.aborted) {
        aborted = true;
        break;
      }
      const probabilities = step.value.probabilities;
      const chosen = sampler.choose(probabilities, generated);
      if (firstTokenAt === 0) firstTokenAt = performance.now();
      if (model.isEogToken(chosen as Token) || o.stopTokens.has(chosen)) {
        finishReason = "stop";
        break;
      }
      const entry = logprobEntry(probabilities, chosen, top, textOf);
      generated.push(chosen);
      emit(stream.push(chosen, entry));
      if (stream.stopped) {
        finishReason = "stop";
        break;
      }
      if (generated.length >= o.maxTokens) break;
      step = await iterator.next(chosen as Token);
    }
  } finally {
    // Ends the generator: frees its sampler and the sequence for the next request.
    await iterator.return(undefined);
  }
  emit(stream.finish());
  return { text: stream.text, finishReason, completionTokens: generated.length, logprobs, firstTokenAt, aborted };
}
