/**
 * Runs a generation's producers and answers through a wire API's renderer,
 * streamed or not. A generation is a {@link Producer}: the model pool, or a
 * cache replay — both render the same. With `n > 1` there is one producer per
 * choice; they run at once (each on its own slot, so they batch together on a
 * shard) and their chunks interleave in the stream, each with its choice index.
 */
import type { Context } from "hono";
import { toGatewayError, type GatewayError } from "../../errors.js";
import type { CacheServed } from "../../cache/index.js";
import type { Citation, GeneratedChunk, GenerationResult, TokenUsage } from "../../types.js";
import type { AppEnv } from "../http/env.js";
import { createSseWriter, SSE_HEADERS } from "../http/sse.js";
import { childController, linkAbort } from "../../util/link-abort.js";
import { clientSignal } from "../../util/node-bindings.js";
import type { GenerationRenderer, ResponseSummary } from "./renderer.js";
import { SCHEMA_VIOLATIONS_HEADER } from "./schema-stage.js";

/** Runs a generation, reporting chunks as they come; rejects with a GatewayError or an AbortError. */
export type Producer = (onChunk: (chunk: GeneratedChunk) => void, signal: AbortSignal) => Promise<GenerationResult>;

export interface RespondOptions {
  stream: boolean;
  renderer: GenerationRenderer;
  /** One producer, or one per choice (`n`). */
  produce: Producer | readonly Producer[];
  cache: CacheServed;
  /** A semantic-cache hit's similarity: `x-switchyard-cache-similarity` and the summary. */
  similarity?: number | undefined;
  citations?: Citation[] | undefined;
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

interface RunHandlers {
  onChunk: (index: number, chunk: GeneratedChunk) => void;
  /** A choice finished (the others may still run). */
  onResult?: (index: number, result: GenerationResult) => void;
}

/** Runs every producer; the first failure aborts the others and is the one reported. */
function runAll(producers: readonly Producer[], { onChunk, onResult }: RunHandlers, signal: AbortSignal): Promise<GenerationResult[]> {
  if (producers.length === 1) {
    const produce = producers[0]!;
    return produce((chunk) => onChunk(0, chunk), signal).then((result) => {
      onResult?.(0, result);
      return [result];
    });
  }
  const siblings = childController(signal);
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
    siblings[Symbol.dispose]();
    if (firstError) throw firstError.err;
    return settled.map((s) => (s as PromiseFulfilledResult<GenerationResult>).value);
  });
}

/**
 * Answers one request: runs the producers, sets `x-switchyard-cache` and
 * `x-switchyard-shard`, leaves the real usage in the `usage` context variable
 * (the rate limiter settles from it) and renders through `opts.renderer`.
 */
export async function respond(c: Context<AppEnv>, opts: RespondOptions): Promise<Response> {
  const { renderer } = opts;
  const producers: readonly Producer[] = typeof opts.produce === "function" ? [opts.produce] : opts.produce;
  // Aborts when the client leaves (the stream body's cancel aborts it too); disposed once the generation settled.
  const abort = clientSignal(c);
  // The drain deadline of a shutdown ends the generation too, with an error the client is told (503 + Retry-After).
  let shutdown: GatewayError | undefined;
  const shutdownLink = linkAbort(c.get("shutdown"), (reason) => {
    if (abort.signal.aborted) return;
    shutdown = toGatewayError(reason);
    abort.abort();
  });
  const failure = (err: unknown): unknown => shutdown ?? err;
  /** The generation settled: detach from the client's connection and from the drain. */
  const settled = () => {
    abort[Symbol.dispose]();
    shutdownLink.unlink();
  };
  c.header("x-switchyard-cache", opts.cache);
  if (opts.similarity !== undefined) c.header("x-switchyard-cache-similarity", opts.similarity.toFixed(4));

  const summarize = (results: readonly GenerationResult[]): ResponseSummary => {
    const first = results[0]!;
    const usage = results.length === 1 ? first.usage : mergedUsage(results.map((r) => r.usage));
    c.set("modelMs", Math.max(...results.map((r) => r.timings.ttftMs + r.timings.decodeMs)));
    // Tokens-per-minute limits reserved an estimate at admission; the limiter charges what was really used.
    c.set("usage", usage);
    return {
      usage,
      result: first,
      cache: opts.cache,
      ...(opts.similarity === undefined ? {} : { similarity: opts.similarity }),
      ...(opts.citations ? { citations: opts.citations } : {}),
    };
  };

  if (!opts.stream) {
    let results: GenerationResult[];
    try {
      results = await runAll(producers, { onChunk: () => undefined }, abort.signal);
    } catch (err) {
      throw failure(err);
    } finally {
      settled();
    }
    const summary = summarize(results);
    c.header("x-switchyard-shard", summary.result.shard);
    const violations = results.reduce((n, r) => n + (r.schemaViolations?.length ?? 0), 0);
    if (violations > 0) c.header(SCHEMA_VIOLATIONS_HEADER, String(violations));
    return c.json(renderer.body(results, summary));
  }

  const events = renderer.stream;
  const sse = createSseWriter(() => abort.abort());
  let opened = false;
  const started = producers.map(() => false);
  const startChoice = (index: number) => {
    if (!opened) {
      opened = true;
      const head = events.open();
      if (head) sse.write(head);
    }
    if (started[index]) return;
    started[index] = true;
    const head = events.start(index);
    if (head) sse.write(head);
  };
  let firstChunk!: () => void;
  const first = new Promise<void>((resolve) => (firstChunk = resolve));
  const generation = runAll(
    producers,
    {
      onChunk: (index, chunk) => {
        startChoice(index);
        firstChunk();
        const piece = events.delta(index, chunk);
        if (piece) sse.write(piece);
      },
      // Each choice ends with its own finish event as soon as it is done.
      onResult: (index, result) => {
        startChoice(index);
        const tail = events.finish(index, result);
        if (tail) sse.write(tail);
      },
    },
    abort.signal,
  );

  // Start the response at the first token: failures before it (full queue, every retry spent,
  // deadline) are ordinary HTTP errors an SDK maps to its exception classes.
  const result = await Promise.race([first.then(() => undefined), generation]).catch((err: unknown) => {
    settled();
    throw failure(err);
  });
  if (result) c.header("x-switchyard-shard", result[0]!.shard);
  // A replayed hit streams before its result object exists; say where it came from all the same.
  else if (opts.cache === "hit" || opts.cache === "semantic") c.header("x-switchyard-shard", "cache");

  void generation
    .then(
      (results) => sse.end(events.close(summarize(results))),
      // A departed client reads nothing; a shutdown's deadline is told, as any other failure.
      (err: unknown) => sse.end(shutdown ? events.error(shutdown) : abort.signal.aborted ? undefined : events.error(toGatewayError(err))),
    )
    .finally(settled);
  return c.body(sse.stream, 200, SSE_HEADERS);
}
