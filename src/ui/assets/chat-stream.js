// @ts-check
/* global fetch, performance */
/**
 * One streamed chat completion over the public API, measured from the page:
 * what a user feels (time to first token, decode rate) rather than what the
 * server reports, plus the server's own facts when it sends them.
 */
import { ApiError, apiError, authHeaders } from "./api.js";
import { sseData } from "./sse.js";

/**
 * @typedef {{ index: number, document_id: string, title: string, source: string, score: number }} Citation
 * @typedef {{ queue_ms?: number, ttft_ms?: number, decode_ms?: number, cached_prompt_tokens?: number, shard?: string, cache?: string }} SwitchyardBlock
 * @typedef {{ prompt_tokens: number, completion_tokens: number }} Usage
 * @typedef {object} ChatOutcome
 * @property {string} text the answer so far (all of it unless stopped)
 * @property {string | null} finishReason `stop` / `length`, or null when stopped
 * @property {Usage | null} usage from the usage chunk (absent when stopped)
 * @property {SwitchyardBlock | null} switchyard the gateway's timings block
 * @property {Citation[]} citations
 * @property {string | null} cache `x-switchyard-cache` (hit | miss | bypass)
 * @property {string | null} shard `x-switchyard-shard`, else the usage block's
 * @property {number | null} ttftMs request sent → first text, measured here
 * @property {number | null} decodeMs first text → last text, measured here
 * @property {number} deltas content chunks received (≈ tokens when usage is missing)
 * @property {boolean} stopped the caller aborted mid-way
 */

/**
 * Citations from a chunk, keeping only well-formed entries.
 * @param {unknown} value
 * @returns {Citation[] | undefined}
 */
function citationsOf(value) {
  if (!Array.isArray(value)) return undefined;
  return value
    .filter((c) => typeof c === "object" && c !== null && typeof c.index === "number")
    .map((c) => ({
      index: c.index,
      document_id: String(c.document_id ?? ""),
      title: String(c.title ?? c.document_id ?? `Source ${c.index}`),
      source: String(c.source ?? ""),
      score: typeof c.score === "number" ? c.score : Number.NaN,
    }));
}

/**
 * @param {unknown} err
 * @param {AbortSignal} signal
 */
function isAbort(err, signal) {
  return signal.aborted || (err instanceof Error && err.name === "AbortError");
}

/**
 * Sends `request` with `stream: true` and reports the growing text through
 * `onText`. Resolves with the outcome, also when `signal` aborts (then
 * `stopped` is true and the text is what arrived); rejects with an ApiError
 * for HTTP failures and for an error event inside the stream.
 *
 * @example
 * ```js
 * const controller = new AbortController();
 * const out = await streamChat({ request: { model: "default", messages }, key: "", signal: controller.signal, onText: (t) => render(t) });
 * ```
 * @param {{ request: Record<string, unknown>, key: string, signal: AbortSignal, onText: (text: string) => void }} options
 * @returns {Promise<ChatOutcome>}
 */
export async function streamChat({ request, key, signal, onText }) {
  const started = performance.now();
  /** @type {number | null} */
  let firstAt = null;
  let lastAt = 0;
  /** @type {ChatOutcome} */
  const out = {
    text: "",
    finishReason: null,
    usage: null,
    switchyard: null,
    citations: [],
    cache: null,
    shard: null,
    ttftMs: null,
    decodeMs: null,
    deltas: 0,
    stopped: false,
  };

  try {
    const res = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", ...authHeaders(key) },
      body: JSON.stringify({ ...request, stream: true, stream_options: { include_usage: true } }),
      signal,
    });
    if (!res.ok) throw await apiError(res);
    out.cache = res.headers.get("x-switchyard-cache");
    out.shard = res.headers.get("x-switchyard-shard");
    if (!res.body) throw new ApiError(res.status, "The response has no body to stream.");

    for await (const data of sseData(res.body)) {
      if (data === "[DONE]") break;
      /** @type {{ error?: { message?: string, code?: string }, choices?: Array<{ delta?: { content?: string | null }, finish_reason?: string | null }>, usage?: Usage | null, switchyard?: SwitchyardBlock, citations?: unknown }} */
      const chunk = JSON.parse(data);
      // A failure after the first token arrives as an error event inside the 200 stream.
      if (chunk.error) throw new ApiError(res.status, chunk.error.message ?? "The stream failed.", chunk.error.code ?? null);
      const choice = chunk.choices?.[0];
      const piece = choice?.delta?.content;
      if (piece) {
        const now = performance.now();
        firstAt ??= now;
        lastAt = now;
        out.deltas++;
        out.text += piece;
        onText(out.text);
      }
      if (choice?.finish_reason) out.finishReason = choice.finish_reason;
      const citations = citationsOf(chunk.citations);
      if (citations?.length) out.citations = citations;
      if (chunk.usage) out.usage = chunk.usage;
      if (chunk.switchyard) out.switchyard = chunk.switchyard;
    }
  } catch (err) {
    if (!isAbort(err, signal)) throw err;
    out.stopped = true;
  }
  out.shard ??= out.switchyard?.shard ?? null;
  out.cache ??= out.switchyard?.cache ?? null;
  if (firstAt !== null) {
    out.ttftMs = firstAt - started;
    out.decodeMs = lastAt - firstAt;
  }
  return out;
}

/**
 * Completion tokens per second of decoding, from the page's clock. The first
 * token's time belongs to TTFT, so it is not counted in the rate.
 * @param {ChatOutcome} out
 * @returns {number | null}
 */
export function tokensPerSecond(out) {
  // A replayed cache hit arrives at once: there was no decoding to measure.
  if (out.cache === "hit") return null;
  const tokens = out.usage?.completion_tokens ?? out.deltas;
  let decodeMs = out.decodeMs ?? 0;
  // Chunks bunched up in transit (a proxy's buffer) make the page's clock useless: use the server's.
  if (decodeMs < MIN_MEASURABLE_MS) decodeMs = out.switchyard?.decode_ms ?? 0;
  if (decodeMs < MIN_MEASURABLE_MS || tokens < 2) return null;
  return (tokens - 1) / (decodeMs / 1000);
}

/** Below this a decode time is mostly timer and network jitter. */
const MIN_MEASURABLE_MS = 50;
