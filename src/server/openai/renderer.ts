/**
 * OpenAI's chat and legacy completions as a {@link GenerationRenderer} of the
 * generation pipeline: the object shapes of `openai-format.ts`, tool-call ids
 * (one `ToolCallIds` per choice), finish reasons, the `switchyard` timings
 * block, the usage chunk and `[DONE]`.
 */
import { errorBody } from "../../errors.js";
import type { GenerationResult, PromptTokenLogprob, TokenLogprob } from "../../types.js";
import { sseFrame, type GenerationRenderer, type ResponseSummary } from "../generation/renderer.js";
import { violationsBlock } from "../generation/schema-stage.js";
import { openAIFinishReason, timingsBlock, type ChoiceBody, type Renderer } from "./openai-format.js";
import { ToolCallIds, toolCallDeltas, withIds } from "./tool-calls.js";

const DONE = "data: [DONE]\n\n";

export interface OpenAIRendererOptions {
  /** `stream_options.include_usage`: end the stream with a usage chunk. */
  includeUsage: boolean;
  /**
   * Legacy completions `echo`: the prompt's text, put before each choice's text (for a token-id prompt "", the
   * scored tokens' text is echoed). Streamed, each choice's first chunk carries it: with its scored tokens when
   * `echoScored` (they arrive as the generation's first chunk), else at the choice's start. Absent: no echo.
   */
  echo?: string | undefined;
  /** The prompt is scored (`echo` with `logprobs`): its streamed echo waits for the scored tokens. Default false. */
  echoScored?: boolean;
}

function choiceBody(index: number, result: GenerationResult, echo: string | undefined): ChoiceBody {
  const calls = result.toolCalls ?? [];
  return {
    index,
    text: result.text,
    finishReason: openAIFinishReason(result.finishReason, calls.length),
    ...(calls.length ? { toolCalls: withIds(calls, new ToolCallIds()) } : {}),
    ...(result.logprobs ? { logprobs: result.logprobs } : {}),
    ...(echo === undefined ? {} : { echo: { text: echo, ...(result.promptLogprobs ? { logprobs: result.promptLogprobs } : {}) } }),
  };
}

function extraOf(summary: ResponseSummary, choices: readonly GenerationResult[] = []) {
  return {
    switchyard: { ...timingsBlock(summary.result.timings, summary.result.shard, summary.cache, summary.similarity), ...violationsBlock(choices) },
    ...(summary.citations ? { citations: summary.citations } : {}),
  };
}

/** The echoed prompt's text: the request's, or for a token-id prompt (`echo` ""), its scored tokens' text. */
function echoText(echo: string | undefined, scored: { promptLogprobs?: readonly PromptTokenLogprob[] | undefined }): string | undefined {
  if (echo === undefined || echo !== "" || !scored.promptLogprobs) return echo;
  return scored.promptLogprobs.map((e) => e.token).join("");
}

/** A token's offset moved past the echoed prompt's text (streamed offsets count from the echo's start, as the body's do). */
function shifted(entries: TokenLogprob[] | undefined, by: number): TokenLogprob[] | undefined {
  return entries && by > 0 ? entries.map((e) => ({ ...e, offset: e.offset + by })) : entries;
}

/**
 * @example
 * ```ts
 * const renderer = openAIRenderer(chatRenderer(meta, { withUsage: true }), { includeUsage: true });
 * return runGeneration(c, deps, { ...plan, renderer: () => renderer });
 * ```
 */
export function openAIRenderer(format: Renderer, { includeUsage, echo, echoScored = false }: OpenAIRendererOptions): GenerationRenderer {
  const ids: ToolCallIds[] = [];
  const idsOf = (index: number) => (ids[index] ??= new ToolCallIds());
  /** Per streamed choice: the length of the prompt text echoed before its completion. */
  const echoed: number[] = [];
  return {
    body: (choices, summary) => format.body(choices.map((r, i) => choiceBody(i, r, echoText(echo, r))), summary.usage, extraOf(summary, choices)),
    stream: {
      open: () => undefined,
      start: (index) => {
        const head = format.start(index);
        // An unscored echo is the request's text: sent at once (a scored one comes with its tokens in `delta`).
        const prompt = echo !== undefined && !echoScored && echo !== "" ? format.delta(index, { text: "", echo: { text: echo } }) : undefined;
        if (prompt) echoed[index] = echo!.length;
        const frames = (head ? sseFrame(head) : "") + (prompt ? sseFrame(prompt) : "");
        return frames || undefined;
      },
      delta: (index, chunk) => {
        const prompt = echo !== undefined && chunk.promptLogprobs ? { text: echoText(echo, chunk)!, logprobs: chunk.promptLogprobs } : undefined;
        if (prompt) echoed[index] = prompt.text.length;
        const logprobs = shifted(chunk.logprobs, echoed[index] ?? 0);
        const piece = format.delta(index, {
          text: chunk.text,
          ...(logprobs ? { logprobs } : {}),
          ...(chunk.toolCalls?.length ? { toolCalls: toolCallDeltas(chunk.toolCalls, idsOf(index)) } : {}),
          ...(prompt ? { echo: prompt } : {}),
        });
        return piece ? sseFrame(piece) : undefined;
      },
      finish: (index, result) => {
        const chunk = format.finish(index, openAIFinishReason(result.finishReason, result.toolCalls?.length ?? 0));
        // A streamed choice's violations ride on its finish chunk (the headers are long gone).
        const violations = violationsBlock([result]).schema_violations?.map((v) => ({ ...v, choice: index }));
        return sseFrame(violations ? { ...chunk, switchyard: { schema_violations: violations } } : chunk);
      },
      close: (summary) => (includeUsage ? sseFrame(format.usage(summary.usage, extraOf(summary))) : "") + DONE,
      error: (err) => sseFrame(errorBody(err)) + DONE,
    },
  };
}
