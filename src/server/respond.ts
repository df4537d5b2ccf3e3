/**
 * Turns a generation into an OpenAI response, streamed or not. A generation is
 * a {@link Producer}: the model pool, or a cache replay — both render the same.
 */
import type { Context } from "hono";
import { GatewayError, toGatewayError } from "../errors.js";
import type { Citation, GeneratedChunk, GenerationResult } from "../types.js";
import type { AppEnv } from "./env.js";
import { timingsBlock, type Renderer } from "./openai-format.js";
import { createSseWriter, SSE_HEADERS } from "./sse.js";

/** Runs a generation, reporting chunks as they come; rejects with GatewayError/ClientAbortError. */
export type Producer = (onChunk: (chunk: GeneratedChunk) => void, signal: AbortSignal) => Promise<GenerationResult>;

export interface RespondOptions {
  stream: boolean;
  includeUsage: boolean;
  renderer: Renderer;
  produce: Producer;
  cache: "hit" | "miss" | "bypass";
  citations?: Citation[];
  /** Called with the complete result of a successful, non-aborted generation. */
  onComplete?: (result: GenerationResult, chunks: GeneratedChunk[]) => void;
}

/**
 * The request's abort signal: the client closed the connection (or the stream body was cancelled).
 */
function clientSignal(c: Context<AppEnv>): AbortController {
  const controller = new AbortController();
  const raw = c.req.raw.signal;
  if (raw.aborted) controller.abort();
  else raw.addEventListener("abort", () => controller.abort(), { once: true });
  return controller;
}

export async function respond(c: Context<AppEnv>, opts: RespondOptions): Promise<Response> {
  const { renderer, produce } = opts;
  const abort = clientSignal(c);
  const chunks: GeneratedChunk[] = [];
  c.header("x-switchyard-cache", opts.cache);

  const extraOf = (result: GenerationResult) => ({
    switchyard: timingsBlock(result.timings, result.shard, opts.cache),
    ...(opts.citations ? { citations: opts.citations } : {}),
  });
  const finishOk = (result: GenerationResult) => {
    c.set("modelMs", result.timings.ttftMs + result.timings.decodeMs);
    opts.onComplete?.(result, chunks);
  };

  if (!opts.stream) {
    const result = await produce((chunk) => chunks.push(chunk), abort.signal);
    finishOk(result);
    c.header("x-switchyard-shard", result.shard);
    return c.json(renderer.body(result.text, result.finishReason, result.usage, extraOf(result)));
  }

  const sse = createSseWriter(() => abort.abort());
  let started = false;
  let firstChunk!: () => void;
  const first = new Promise<void>((resolve) => (firstChunk = resolve));
  const generation = produce((chunk) => {
    chunks.push(chunk);
    if (!started) {
      started = true;
      const head = renderer.start();
      if (head) sse.send(head);
      firstChunk();
    }
    if (chunk.text) sse.send(renderer.delta(chunk.text));
  }, abort.signal);

  // Start the response at the first token: failures before it (full queue, every retry spent,
  // deadline) are ordinary HTTP errors an SDK maps to its exception classes.
  const result = await Promise.race([first.then(() => undefined), generation]);
  if (result) c.header("x-switchyard-shard", result.shard);

  void generation.then(
    (res) => {
      if (!started) {
        const head = renderer.start();
        if (head) sse.send(head);
      }
      finishOk(res);
      sse.send(renderer.finish(res.finishReason));
      if (opts.includeUsage) sse.send(renderer.usage(res.usage, extraOf(res)));
      sse.done();
    },
    (err: unknown) => {
      if (abort.signal.aborted) return sse.done();
      sse.fail(err instanceof GatewayError ? err : toGatewayError(err));
    },
  );
  return c.body(sse.stream, 200, SSE_HEADERS);
}
