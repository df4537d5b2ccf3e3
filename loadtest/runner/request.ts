/**
 * Sends one scenario request and measures it from the client's side: TTFT is
 * the first chunk carrying text, ITL the gaps between such chunks, e2e the last
 * byte. The gateway's own timings (switchyard block) are kept alongside.
 */
import type { Scenario, Slo } from "../scenarios/types.js";
import { buildBody, traitsOf } from "./body.js";
import { errorOf, failedChecks, isObject, switchyardOf, textOf, usageOf, type ResponseFacts, type Usage } from "./contract.js";
import { sseEvents } from "../../src/util/sse-events.js";
import type { RequestRecord, SwitchyardBlock } from "./types.js";

export interface Target {
  /** Origin without `/v1`. */
  baseUrl: string;
  apiKey?: string;
  /** Overrides the scenario body's `model`. */
  model?: string;
}

export interface RequestContext {
  i: number;
  scheduledMs: number;
  /** performance.now() at the start of the run. */
  t0: number;
  inFlight: number;
  /** Aborted at the end of the graceful stop. */
  signal: AbortSignal;
  /** Receives every inter-token gap (ms) of streamed responses. */
  itl?: number[];
}

/** No single request may outlive this, whatever the scenario. */
const REQUEST_TIMEOUT_MS = 300_000;

/** @example requestHeaders({ baseUrl, apiKey: "sk-1" }) // { "content-type": "application/json", authorization: "Bearer sk-1" } */
export function requestHeaders(target: Target): Record<string, string> {
  return { "content-type": "application/json", ...(target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}) };
}

/**
 * TTFT and TPOT as the SLO judges them: the client's view where it has one, else the gateway's.
 * @example sloTimings(record) // { ttft: 41.2, tpot: 3.1 }
 */
export function sloTimings(r: Pick<RequestRecord, "ttftMs" | "tpotMs" | "switchyard" | "outputTokens" | "e2eMs">): { ttft: number; tpot: number | undefined } {
  const b = r.switchyard;
  const ttft = r.ttftMs ?? (b ? b.queue_ms + b.ttft_ms : r.e2eMs);
  const tpot = r.tpotMs ?? (b && r.outputTokens > 1 ? b.decode_ms / (r.outputTokens - 1) : undefined);
  return { ttft, tpot };
}

/** @example meetsSlo(record, scenario.slo) // true when ok and within every bound */
export function meetsSlo(r: Pick<RequestRecord, "ok" | "ttftMs" | "tpotMs" | "switchyard" | "outputTokens" | "e2eMs">, slo: Slo): boolean {
  if (!r.ok) return false;
  const { ttft, tpot } = sloTimings(r);
  return ttft <= slo.ttftMs && (tpot === undefined || tpot <= slo.tpotMs) && (slo.e2eMs === undefined || r.e2eMs <= slo.e2eMs);
}

interface StreamRead {
  text: string;
  chunks: number;
  firstAt: number | undefined;
  gaps: number[];
  usage: Usage | undefined;
  switchyard: SwitchyardBlock | undefined;
  endedWithDone: boolean;
  chunksAreJson: boolean;
  error: { message: string; code?: string } | undefined;
}

async function readStream(body: ReadableStream<Uint8Array>): Promise<StreamRead> {
  const out: StreamRead = { text: "", chunks: 0, firstAt: undefined, gaps: [], usage: undefined, switchyard: undefined, endedWithDone: false, chunksAreJson: true, error: undefined };
  let last = 0;
  for await (const { data, at } of sseEvents(body)) {
    if (data === "[DONE]") {
      out.endedWithDone = true;
      continue;
    }
    out.endedWithDone = false;
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      out.chunksAreJson = false;
      continue;
    }
    if (!isObject(chunk)) out.chunksAreJson = false;
    out.error ??= errorOf(chunk);
    out.usage = usageOf(chunk) ?? out.usage;
    out.switchyard = switchyardOf(chunk) ?? out.switchyard;
    const piece = textOf(chunk);
    if (!piece) continue;
    out.text += piece;
    out.chunks++;
    if (out.firstAt === undefined) out.firstAt = at;
    else out.gaps.push(at - last);
    last = at;
  }
  return out;
}

/**
 * Never rejects: failures are records with `ok: false`.
 * @example const record = await sendRequest(scenario, { baseUrl: gw.url }, { i: 0, scheduledMs: 0, t0: performance.now(), inFlight: 1, signal });
 */
export async function sendRequest(scenario: Scenario, target: Target, ctx: RequestContext): Promise<RequestRecord> {
  const body = buildBody(scenario.request, ctx.i, target.model);
  const traits = traitsOf(body);
  const started = performance.now();
  const base = { i: ctx.i, scheduledMs: ctx.scheduledMs, startMs: started - ctx.t0, inFlight: ctx.inFlight, stream: traits.stream };
  const facts: ResponseFacts = {
    status: 0,
    retryAfter: undefined,
    errorEnvelope: false,
    ...traits,
    endedWithDone: false,
    chunksAreJson: true,
    errorEvent: false,
    objectKind: undefined,
    text: "",
    usage: undefined,
    switchyard: undefined,
  };
  let error: { message: string; code?: string } | undefined;
  let ttftMs: number | undefined;
  let gaps: number[] = [];
  let chunks = 0;
  try {
    const res = await fetch(`${target.baseUrl}${scenario.request.path}`, {
      method: "POST",
      headers: requestHeaders(target),
      body: JSON.stringify(body),
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
    facts.status = res.status;
    facts.retryAfter = res.headers.get("retry-after") ?? undefined;
    const isSse = (res.headers.get("content-type") ?? "").startsWith("text/event-stream");
    if (res.ok && isSse && res.body) {
      const read = await readStream(res.body);
      Object.assign(facts, { endedWithDone: read.endedWithDone, chunksAreJson: read.chunksAreJson, errorEvent: read.error !== undefined, text: read.text, usage: read.usage, switchyard: read.switchyard });
      error = read.error;
      chunks = read.chunks;
      gaps = read.gaps;
      if (read.firstAt !== undefined) ttftMs = read.firstAt - started;
    } else {
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (res.ok) {
        facts.objectKind = isObject(json) && typeof json.object === "string" ? json.object : undefined;
        // If a stream was asked for but a plain body came, the stream checks below fail it.
        Object.assign(facts, { text: textOf(json), usage: usageOf(json), switchyard: switchyardOf(json) });
      } else {
        error = errorOf(json) ?? { message: text.slice(0, 200) || res.statusText };
        facts.errorEnvelope = errorOf(json) !== undefined;
      }
    }
  } catch (err) {
    const interrupted = ctx.signal.aborted;
    return {
      ...base,
      // A stream cut after its headers keeps its status: the checks below then flag the broken stream.
      status: facts.status,
      ok: false,
      interrupted,
      error: interrupted ? "interrupted at the end of the run" : describeFetchError(err),
      e2eMs: performance.now() - started,
      chunks: 0,
      outputTokens: 0,
      sloMet: false,
      violations: interrupted ? [] : failedChecks(facts, scenario.expect),
    };
  }
  const e2eMs = performance.now() - started;
  const ok = scenario.expect.okStatuses.includes(facts.status) && !facts.errorEvent;
  const outputTokens = facts.usage?.completion_tokens ?? chunks;
  const tpotMs = traits.stream && ttftMs !== undefined && outputTokens > 1 ? (e2eMs - ttftMs) / (outputTokens - 1) : undefined;
  if (ctx.itl) for (const g of gaps) ctx.itl.push(g);
  const record: RequestRecord = {
    ...base,
    status: facts.status,
    ok,
    interrupted: false,
    ...(error ? { error: error.message, ...(error.code ? { errorCode: error.code } : {}) } : {}),
    ...(facts.retryAfter ? { retryAfter: facts.retryAfter } : {}),
    ...(ttftMs !== undefined ? { ttftMs } : {}),
    e2eMs,
    ...(tpotMs !== undefined ? { tpotMs } : {}),
    ...(gaps.length ? { itlMeanMs: gaps.reduce((a, b) => a + b, 0) / gaps.length, itlMaxMs: Math.max(...gaps) } : {}),
    chunks,
    ...(facts.usage ? { promptTokens: facts.usage.prompt_tokens } : {}),
    outputTokens: ok ? outputTokens : 0,
    ...(facts.switchyard ? { switchyard: facts.switchyard } : {}),
    sloMet: false,
    violations: failedChecks(facts, scenario.expect),
  };
  record.sloMet = meetsSlo(record, scenario.slo);
  return record;
}

/** fetch's "fetch failed" hides the useful part in `cause`. */
function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === "TimeoutError") return `no response within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const cause = err.cause instanceof Error ? `: ${(err.cause as NodeJS.ErrnoException).code ?? err.cause.message}` : "";
  return `${err.message}${cause}`;
}
