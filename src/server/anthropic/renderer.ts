/**
 * Anthropic's Messages API as a {@link GenerationRenderer} of the generation
 * pipeline: {@link AnthropicRenderer}'s message and events as SSE frames with
 * `event:` lines (Anthropic's SDK dispatches on them).
 */
import { sseFrame, type GenerationRenderer } from "../generation/index.js";
import { AnthropicRenderer, type AnthropicEvent } from "./render.js";

const frames = (events: readonly AnthropicEvent[]) => events.map((e) => sseFrame(e, e.type)).join("");

/**
 * @param inputTokens the prompt's token count for `message_start` (the final count also ends the stream, in `message_delta`)
 *
 * @example
 * ```ts
 * runGeneration(c, deps, { ...plan, renderer: () => messagesRenderer({ id, model: req.model }, promptTokens) });
 * ```
 */
export function messagesRenderer(ctx: { id: string; model: string }, inputTokens: number): GenerationRenderer {
  const renderer = new AnthropicRenderer(ctx);
  return {
    body: (choices, summary) => renderer.finish({ ...choices[0]!, usage: summary.usage }).message,
    stream: {
      open: () => frames(renderer.start(inputTokens)),
      start: () => undefined,
      delta: (_index, chunk) => {
        const events = renderer.chunk(chunk);
        return events.length ? frames(events) : undefined;
      },
      finish: () => undefined,
      close: (summary) => frames(renderer.finish({ ...summary.result, usage: summary.usage }).events),
      error: (err) => frames(renderer.fail(err)),
    },
  };
}
