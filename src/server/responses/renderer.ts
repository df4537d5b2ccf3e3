/**
 * The Responses API as a {@link GenerationRenderer} of the generation pipeline:
 * {@link ResponseRenderer}'s objects and events as SSE frames (`event:` lines
 * named by each event's type), and a hook that receives the final response
 * object (the route stores it).
 */
import { sseFrame, type GenerationRenderer } from "../generation/index.js";
import type { GenerationResult } from "../../types.js";
import { ResponseRenderer, type ResponseEvent, type ResponseObject, type ResponseRenderContext } from "./render.js";

const frames = (events: readonly ResponseEvent[]) => events.map((e) => sseFrame(e, e.type)).join("");

/**
 * @param onResponse called once with the finished response object (completed or incomplete)
 *
 * @example
 * ```ts
 * runGeneration(c, deps, { ...plan, renderer: () => responsesRenderer(ctx, (r) => store.put(tenant, …)) });
 * ```
 */
export function responsesRenderer(ctx: ResponseRenderContext, onResponse: (response: ResponseObject) => void): GenerationRenderer {
  const renderer = new ResponseRenderer(ctx);
  const finish = (result: GenerationResult) => {
    const done = renderer.finish(result);
    onResponse(done.response);
    return done;
  };
  return {
    body: (choices, summary) => finish({ ...choices[0]!, usage: summary.usage }).response,
    stream: {
      open: () => frames(renderer.start()),
      start: () => undefined,
      delta: (_index, chunk) => {
        const events = renderer.chunk(chunk);
        return events.length ? frames(events) : undefined;
      },
      finish: () => undefined,
      close: (summary) => frames(finish({ ...summary.result, usage: summary.usage }).events),
      error: (err) => frames(renderer.fail(err)),
    },
  };
}
