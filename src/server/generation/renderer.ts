/**
 * The renderer seam: how one wire API (OpenAI chat or completions, and later
 * OpenAI Responses or Anthropic Messages) turns the pipeline's wire-neutral
 * results into its bodies and stream events. The pipeline runs the
 * generation; the renderer only formats.
 */
import type { GatewayError } from "../../errors.js";
import type { CacheServed } from "../../cache/index.js";
import type { Citation, GeneratedChunk, GenerationResult, RetrievedPassage, TokenUsage } from "../../types.js";

/** The whole answer, once every choice finished (for a body or the stream's closing events). */
export interface ResponseSummary {
  /** Usage of all choices: the prompt counted once, completions summed. */
  usage: TokenUsage;
  /** The first choice's result, standing for all (timings, shard). */
  result: GenerationResult;
  cache: CacheServed;
  /** Cosine similarity of a semantic-cache hit to the question whose answer it replays. */
  similarity?: number;
  /** Sources of a grounded answer. */
  citations?: Citation[];
}

/**
 * Stream events of one response, as ready-to-write SSE text (one or more
 * `data: …\n\n` frames, with `event:` lines where the wire API has them).
 * `undefined` means "nothing to send". `index` is the choice's (0 unless `n > 1`).
 * Called in order: `open` once at the first chunk, `start` before a choice's
 * first delta, `delta` per chunk, `finish` as each choice ends, then `close`
 * (or `error` when the generation failed after the stream started).
 */
export interface StreamRenderer {
  open(): string | undefined;
  start(index: number): string | undefined;
  delta(index: number, chunk: GeneratedChunk): string | undefined;
  finish(index: number, result: GenerationResult): string | undefined;
  close(summary: ResponseSummary): string;
  /** The last frames of a stream whose generation failed (never a fabricated finish). */
  error(err: GatewayError): string;
}

/** One wire API's view of one response: built per request (it may keep per-response state, e.g. tool-call ids). */
export interface GenerationRenderer {
  /** The non-streamed JSON body: one result per choice, in choice order. */
  body(choices: readonly GenerationResult[], summary: ResponseSummary): object;
  stream: StreamRenderer;
}

/** What a renderer factory learns once retrieval ran (see `GenerationPlan.renderer`). */
export interface RenderContext {
  citations: Citation[] | undefined;
  /** What retrieval searched for and found (numbered as the prompt cites them); absent without grounding. */
  retrieval?: { query: string; passages: RetrievedPassage[] } | undefined;
}

/**
 * One SSE frame: `data: <json>\n\n`, with an `event:` line when given.
 *
 * @example
 * ```ts
 * sseFrame({ type: "message_stop" }, "message_stop"); // 'event: message_stop\ndata: {"type":"message_stop"}\n\n'
 * ```
 */
export function sseFrame(data: object | string, event?: string): string {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  return event === undefined ? `data: ${payload}\n\n` : `event: ${event}\ndata: ${payload}\n\n`;
}
