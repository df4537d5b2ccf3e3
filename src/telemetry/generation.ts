/**
 * Telemetry of one model call — the `chat <model>` span with GenAI attributes,
 * its `queue.wait` child, the `gen_ai.first_token` event, the W3C traceparent
 * for the shard, and the latency/token metrics — plus the observers that the
 * pool, the response cache and the retrieval service call (their `observer`,
 * `onLookup` and `onSearch` options), so neither the routes nor those modules
 * hold telemetry code, and nothing here replaces another module's methods.
 *
 * Prompt and completion text are recorded only with `recordContent: true`
 * (config `telemetry.recordContent`): they may hold personal data.
 */
import { SpanKind, context, trace, type Attributes, type Span } from "@opentelemetry/api";
import type { CacheLookupResult } from "../cache/index.js";
import type { GenerationInput, SamplingParams } from "../types.js";
import type { PoolObserver, PoolRequestObserver } from "../router/index.js";
import type { SearchObservation } from "../rag/index.js";
import type { GatewayMetrics } from "./metrics.js";
import {
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_OUTPUT_TYPE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_REQUEST_TOP_K,
  ATTR_GEN_AI_REQUEST_TOP_P,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_SWITCHYARD_CACHE_RESULT,
  ATTR_SWITCHYARD_CACHED_PROMPT_TOKENS,
  ATTR_SWITCHYARD_QUEUE_MS,
  ATTR_SWITCHYARD_REQUEST_ID,
  ATTR_SWITCHYARD_RETRIEVAL_PASSAGES,
  ATTR_SWITCHYARD_SHARD,
  ATTR_SWITCHYARD_TTFT_MS,
  EVENT_GEN_AI_FIRST_TOKEN,
  GEN_AI_OPERATION,
  GEN_AI_PROVIDER,
  type GenAiOperation,
} from "./semconv.js";
import { SPAN_CACHE_LOOKUP, SPAN_QUEUE_WAIT, SPAN_RETRIEVAL, recordSpanError, traceparentOf, tracer, withSpan } from "./tracing.js";

export interface GenerationTelemetryOptions {
  metrics?: GatewayMetrics;
  /** Record prompt and completion text on the span (config `telemetry.recordContent`). Default false. */
  recordContent?: boolean;
}

export interface GenerationSpanInit {
  /** The served model's name (a bounded metric label). */
  model: string;
  operation: GenAiOperation;
  requestId: string;
  /** What the client asked for, when it differs (an alias). Defaults to `model`. */
  requestModel?: string;
  /** The OpenAI response id (`chatcmpl-…`), when known. */
  responseId?: string;
  params?: SamplingParams;
  /** Only read when content recording is on. */
  input?: GenerationInput;
  /** Turns the answer into the form that may be recorded (the PII guardrails' stored form); absent = as is. */
  redactContent?: (text: string) => string;
}

/**
 * One model call in flight: the pool's {@link PoolRequestObserver} plus the span.
 * Every method is safe to call in any order and more than once.
 */
export interface GenerationHandle extends PoolRequestObserver {
  readonly span: Span;
  /** W3C traceparent to send to the shard (`undefined` while tracing is off). */
  readonly traceparent: string | undefined;
}

function paramAttributes(p: SamplingParams): Attributes {
  return {
    [ATTR_GEN_AI_REQUEST_MAX_TOKENS]: p.maxTokens,
    [ATTR_GEN_AI_REQUEST_TEMPERATURE]: p.temperature,
    [ATTR_GEN_AI_REQUEST_TOP_P]: p.topP,
    [ATTR_GEN_AI_REQUEST_TOP_K]: p.topK,
    [ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY]: p.presencePenalty,
    [ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY]: p.frequencyPenalty,
    ...(p.seed === undefined ? {} : { [ATTR_GEN_AI_REQUEST_SEED]: p.seed }),
    ...(p.grammar ? { [ATTR_GEN_AI_OUTPUT_TYPE]: "json" } : {}),
  };
}

/** The text as it may be recorded; a redaction that fails records a marker, never the text. */
function recordable(text: string, redact: ((text: string) => string) | undefined): string {
  if (!redact) return text;
  try {
    return redact(text);
  } catch {
    return "[not recorded: redaction failed]";
  }
}

function inputMessages(input: GenerationInput): string {
  const messages = input.kind === "chat" ? input.messages.map((m) => ({ role: m.role, content: m.content })) : [{ role: "user", content: input.prompt }];
  return JSON.stringify(messages);
}

/**
 * Starts the generation span (a child of the active span: the HTTP request)
 * and its `queue.wait` child. {@link poolObserver} starts one for every pool
 * call; code that calls a backend itself can use this directly.
 *
 * @example
 * ```ts
 * const gen = startGeneration({ model: "tiny", operation: "chat", requestId, params }, { metrics });
 * try {
 *   const result = await pool.generate(input, params, {
 *     requestId, traceparent: gen.traceparent,
 *     onAdmitted: (a) => gen.admitted(a),
 *     onChunk: (ch) => { gen.firstChunk(); send(ch); },
 *   });
 *   gen.end(result);
 * } catch (err) {
 *   gen.fail(err);
 *   throw err;
 * }
 * ```
 */
export function startGeneration(init: GenerationSpanInit, { metrics, recordContent = false }: GenerationTelemetryOptions = {}): GenerationHandle {
  const started = performance.now();
  const parent = context.active();
  const span = tracer().startSpan(
    `${init.operation} ${init.model}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        [ATTR_GEN_AI_OPERATION_NAME]: init.operation,
        [ATTR_GEN_AI_PROVIDER_NAME]: GEN_AI_PROVIDER,
        [ATTR_GEN_AI_REQUEST_MODEL]: init.requestModel ?? init.model,
        [ATTR_SWITCHYARD_REQUEST_ID]: init.requestId,
        ...(init.responseId ? { [ATTR_GEN_AI_RESPONSE_ID]: init.responseId } : {}),
        ...(init.params ? paramAttributes(init.params) : {}),
        ...(recordContent && init.input ? { [ATTR_GEN_AI_INPUT_MESSAGES]: inputMessages(init.input) } : {}),
      },
    },
    parent,
  );
  const withGeneration = trace.setSpan(parent, span);
  let queue: Span | undefined = tracer().startSpan(SPAN_QUEUE_WAIT, {}, withGeneration);
  let firstTokenMs: number | undefined;
  let settled = false;

  const endQueue = (err?: unknown) => {
    if (!queue) return;
    if (err !== undefined) recordSpanError(queue, err);
    queue.end();
    queue = undefined;
  };

  return {
    span,
    traceparent: traceparentOf(span, parent),
    admitted({ shard, queueMs: waited }) {
      if (settled) return;
      span.setAttribute(ATTR_SWITCHYARD_SHARD, shard);
      if (queue) {
        queue.setAttributes({ [ATTR_SWITCHYARD_SHARD]: shard, [ATTR_SWITCHYARD_QUEUE_MS]: waited });
        endQueue();
      }
      metrics?.observeQueueWait(init.model, waited);
    },
    retry({ shard, error }) {
      if (settled) return;
      span.addEvent("retry", { [ATTR_SWITCHYARD_SHARD]: shard, "error.type": error instanceof Error ? error.name : typeof error });
    },
    firstChunk() {
      if (settled || firstTokenMs !== undefined) return;
      firstTokenMs = performance.now() - started;
      span.addEvent(EVENT_GEN_AI_FIRST_TOKEN);
      metrics?.observeTimeToFirstToken(init.model, firstTokenMs);
    },
    end(result) {
      if (settled) return;
      settled = true;
      endQueue();
      const durationMs = performance.now() - started;
      span.setAttributes({
        [ATTR_GEN_AI_RESPONSE_MODEL]: init.model,
        [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: [result.finishReason],
        [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: result.usage.promptTokens,
        [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: result.usage.completionTokens,
        [ATTR_SWITCHYARD_SHARD]: result.shard,
        [ATTR_SWITCHYARD_QUEUE_MS]: result.timings.queueMs,
        [ATTR_SWITCHYARD_TTFT_MS]: result.timings.ttftMs,
        [ATTR_SWITCHYARD_CACHED_PROMPT_TOKENS]: result.timings.cachedPromptTokens,
        ...(recordContent
          ? { [ATTR_GEN_AI_OUTPUT_MESSAGES]: JSON.stringify([{ role: "assistant", content: recordable(result.text, init.redactContent), finish_reason: result.finishReason }]) }
          : {}),
      });
      // A generation that produced nothing still had a "first token" moment: its end.
      if (firstTokenMs === undefined) metrics?.observeTimeToFirstToken(init.model, durationMs);
      metrics?.observeGeneration({
        model: init.model,
        operation: init.operation,
        durationMs,
        promptTokens: result.usage.promptTokens,
        completionTokens: result.usage.completionTokens,
        decodeMs: result.timings.decodeMs,
      });
      span.end();
    },
    fail(err) {
      if (settled) return;
      settled = true;
      endQueue(err);
      recordSpanError(span, err);
      span.end();
    },
  };
}

/** Options of {@link poolObserver}: the metrics to record into and whether content is recorded. */
export type PoolObserverOptions = GenerationTelemetryOptions;

/**
 * The pool's observer: every `generate` becomes a `chat <model>` (or
 * `text_completion <model>`) span with its metrics, every `embed` an
 * `embeddings <model>` span — whichever route called the pool. Cache hits and
 * coalesced joiners never reach the pool, so they make no generation span and
 * count no tokens: nothing was generated for them.
 *
 * @example
 * ```ts
 * const registry = await ModelRegistry.create({ config, logger, observer: poolObserver({ metrics, recordContent }) });
 * ```
 */
export function poolObserver(options: PoolObserverOptions = {}): PoolObserver {
  const { metrics } = options;
  return {
    generation: ({ model, requestId, responseId, input, params, redactContent }) =>
      startGeneration(
        {
          model,
          operation: input.kind === "chat" ? GEN_AI_OPERATION.chat : GEN_AI_OPERATION.textCompletion,
          requestId,
          params,
          input,
          ...(responseId ? { responseId } : {}),
          ...(redactContent ? { redactContent } : {}),
        },
        options,
      ),
    embedding: ({ model }) => {
      const started = performance.now();
      const span = tracer().startSpan(`${GEN_AI_OPERATION.embeddings} ${model}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION.embeddings,
          [ATTR_GEN_AI_PROVIDER_NAME]: GEN_AI_PROVIDER,
          [ATTR_GEN_AI_REQUEST_MODEL]: model,
        },
      });
      return {
        end: ({ tokens }) => {
          span.setAttributes({ [ATTR_GEN_AI_RESPONSE_MODEL]: model, [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: tokens });
          metrics?.observeEmbedding({ model, tokens, durationMs: performance.now() - started });
          span.end();
        },
        fail: (err) => {
          recordSpanError(span, err);
          span.end();
        },
      };
    },
  };
}

/**
 * The response cache's `onLookup`: each lookup is a `cache.lookup` span with
 * its result (`hit`, `miss`, `bypass`). Counts come from the cache itself.
 *
 * @example
 * ```ts
 * new ResponseCache({ store, onLookup: cacheLookupObserver() });
 * ```
 */
export function cacheLookupObserver(): () => (result: CacheLookupResult) => void {
  return () => {
    const span = tracer().startSpan(SPAN_CACHE_LOOKUP);
    return (result) => {
      span.setAttribute(ATTR_SWITCHYARD_CACHE_RESULT, result);
      span.end();
    };
  };
}

/**
 * The retrieval service's `onSearch`: each search is a `retrieval` span (with
 * the number of passages, never the query text) and a latency observation.
 *
 * @example
 * ```ts
 * new RagService({ ...options, onSearch: retrievalObserver({ metrics }) });
 * ```
 */
export function retrievalObserver({ metrics }: { metrics?: GatewayMetrics } = {}): () => SearchObservation {
  return () => {
    const started = performance.now();
    const span = tracer().startSpan(SPAN_RETRIEVAL);
    const done = () => {
      metrics?.observeRetrieval(performance.now() - started);
      span.end();
    };
    return {
      end: ({ passages }) => {
        span.setAttribute(ATTR_SWITCHYARD_RETRIEVAL_PASSAGES, passages);
        done();
      },
      fail: (err) => {
        recordSpanError(span, err);
        done();
      },
    };
  };
}

/**
 * Runs a retrieval inside a `retrieval` span and records its latency.
 *
 * @example
 * ```ts
 * const passages = await traceRetrieval({ metrics, attributes: { "switchyard.rag.top_k": 4 } }, () =>
 *   rag.search({ tenant, collection, query, topK: 4 }),
 * );
 * ```
 */
export function traceRetrieval<T>({ metrics, attributes = {} }: { metrics?: GatewayMetrics; attributes?: Attributes }, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  return withSpan(SPAN_RETRIEVAL, attributes, async () => {
    try {
      return await fn();
    } finally {
      metrics?.observeRetrieval(performance.now() - started);
    }
  });
}
