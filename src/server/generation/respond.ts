/**
 * Turns a generation into an OpenAI response, streamed or not. A generation is
 * a {@link Producer}: the model pool, or a cache replay — both render the same.
 * With `n > 1` there is one producer per choice; they run at once (each on its
 * own slot, so they batch together on a shard) and their chunks interleave in
 * the stream, each carrying its choice index.
 */
import type { Context } from "hono";
import { GatewayError, toGatewayError } from "../../errors.js";
import type { Citation, GeneratedChunk, GenerationResult, TokenUsage } from "../../types.js";
import type { AppEnv } from "../http/env.js";
import { settleTokens } from "../http/middleware/rate-limit.js";
import { openAIFinishReason, timingsBlock, type ChoiceBody, type Renderer } from "../openai/openai-format.js";
import { createSseWriter, SSE_HEADERS } from "../http/sse.js";
import { ToolCallIds, toolCallDeltas, withIds } from "../openai/tool-calls.js";

/** Runs a generation, reporting chunks as they come; rejects with GatewayError/ClientAbortError. */
export type Producer = (onChunk: (chunk: GeneratedChunk) => void, signal: AbortSignal) => Promise<GenerationResult>;

export interface RespondOptions {
  stream: boolean;
  includeUsage: boolean;
  renderer: Renderer;
  /** One producer, or one per choice (`n`). */
  produce: Producer | readonly Producer[];
  cache: "hit" | "miss" | "bypass";
  citations?: Citation[];
  /** Called with the complete result of a successful, non-aborted generation (all choices merged: usage summed). */
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

/**
 * The usage of n choices of one prompt: the prompt is counted once, completions are summed.
 *
 * @example
 * ```ts
 * mergedUsage([{ promptTokens: 10, completionTokens: 4 }, { promptTokens: 10, completionTokens: 6 }]);
 * // { promptTokens: 10, completionTokens: 10 }
 * ```
 */
export function mergedUsage(usages: readonly TokenUsage[]): TokenUsage {
  return {
    promptTokens: usages[0]?.promptTokens ?? 0,
    completionTokens: usages.reduce((n, u) => n + u.completionTokens, 0),
  };
}

/** One result standing for all choices (for timings, the shard header and onComplete): the first choice's, with merged usage. */
function mergedResult(results: readonly GenerationResult[]): GenerationResult {
  const first = results[0]!;
  return results.length === 1 ? first : { ...first, usage: mergedUsage(results.map((r) => r.usage)) };
}

function choiceBody(index: number, result: GenerationResult): ChoiceBody {
  const calls = result.toolCalls ?? [];
  return {
    index,
    text: result.text,
    finishReason: openAIFinishReason(result.finishReason, calls.length),
    ...(calls.length ? { toolCalls: withIds(calls, new ToolCallIds()) } : {}),
    ...(result.logprobs ? { logprobs: result.logprobs } : {}),
  };
}

interface RunHandlers {
  onChunk: (index: number, chunk: GeneratedChunk) => void;
  /** A choice finished (the others may still run). */
  onResult?: (index: number, result: GenerationResult) => void;
}

/** Runs every producer; the first failure aborts the others and is the one reported. */
function runAll(producers: readonly Producer[], { onChunk, onResult }: RunHandlers, signal: AbortSignal): Promise<GenerationResult[]> {
  const siblings = new AbortController();
  const onAbort = () => siblings.abort();
  if (signal.aborted) siblings.abort();
  else signal.addEventListener("abort", onAbort, { once: true });
  // The first failure in time: the siblings it aborts then fail too, with less useful errors.
  let firstError: { err: unknown } | undefined;
  const runs = producers.map((produce, i) =>
    produce((chunk) => onChunk(i, chunk), siblings.signal).then(
      (result) => {
        onResult?.(i, result);
        return result;
      },
      (err: unknown) => {
        firstError ??= { err };
        siblings.abort();
        throw err;
      },
    ),
  );
  // Wait for every run to settle so no generation outlives the response.
  return Promise.allSettled(runs).then((settled) => {
    signal.removeEventListener("abort", onAbort);
    if (firstError) throw firstError.err;
    return settled.map((s) => (s as PromiseFulfilledResult<GenerationResult>).value);
  });
}

export async function respond(c: Context<AppEnv>, opts: RespondOptions): Promise<Response> {
  const { renderer } = opts;
  const producers: readonly Producer[] = typeof opts.produce === "function" ? [opts.produce] : opts.produce;
  const abort = clientSignal(c);
  const chunks: GeneratedChunk[] = [];
  c.header("x-switchyard-cache", opts.cache);

  const extraOf = (result: GenerationResult) => ({
    switchyard: timingsBlock(result.timings, result.shard, opts.cache),
    ...(opts.citations ? { citations: opts.citations } : {}),
  });
  const finishOk = (results: readonly GenerationResult[]) => {
    const merged = mergedResult(results);
    c.set("modelMs", Math.max(...results.map((r) => r.timings.ttftMs + r.timings.decodeMs)));
    // Tokens-per-minute limits reserved an estimate at admission; charge what was really used.
    settleTokens(c, merged.usage);
    opts.onComplete?.(merged, chunks);
    return merged;
  };

  if (!opts.stream) {
    const results = await runAll(producers, { onChunk: (_i, chunk) => chunks.push(chunk) }, abort.signal);
    const merged = finishOk(results);
    c.header("x-switchyard-shard", merged.shard);
    return c.json(renderer.body(results.map((r, i) => choiceBody(i, r)), merged.usage, extraOf(merged)));
  }

  const sse = createSseWriter(() => abort.abort());
  const started = producers.map(() => false);
  const ids = producers.map(() => new ToolCallIds());
  const startChoice = (index: number) => {
    if (started[index]) return;
    started[index] = true;
    const head = renderer.start(index);
    if (head) sse.send(head);
  };
  let firstChunk!: () => void;
  const first = new Promise<void>((resolve) => (firstChunk = resolve));
  const generation = runAll(
    producers,
    {
      onChunk: (index, chunk) => {
        chunks.push(chunk);
        startChoice(index);
        firstChunk();
        const piece = renderer.delta(index, {
          text: chunk.text,
          ...(chunk.logprobs ? { logprobs: chunk.logprobs } : {}),
          ...(chunk.toolCalls?.length ? { toolCalls: toolCallDeltas(chunk.toolCalls, ids[index]!) } : {}),
        });
        if (piece) sse.send(piece);
      },
      // Each choice ends with its own finish chunk as soon as it is done.
      onResult: (index, res) => {
        startChoice(index);
        sse.send(renderer.finish(index, openAIFinishReason(res.finishReason, res.toolCalls?.length ?? 0)));
      },
    },
    abort.signal,
  );

  // Start the response at the first token: failures before it (full queue, every retry spent,
  // deadline) are ordinary HTTP errors an SDK maps to its exception classes.
  const result = await Promise.race([first.then(() => undefined), generation]);
  if (result) c.header("x-switchyard-shard", result[0]!.shard);
  // A replayed hit streams before its result object exists; say where it came from all the same.
  else if (opts.cache === "hit") c.header("x-switchyard-shard", "cache");

  void generation.then(
    (results) => {
      const merged = finishOk(results);
      if (opts.includeUsage) sse.send(renderer.usage(merged.usage, extraOf(merged)));
      sse.done();
    },
    (err: unknown) => {
      if (abort.signal.aborted) return sse.done();
      sse.fail(err instanceof GatewayError ? err : toGatewayError(err));
    },
  );
  return c.body(sse.stream, 200, SSE_HEADERS);
}
