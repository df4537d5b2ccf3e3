/**
 * Tracing: the OpenTelemetry SDK lifecycle and the span helpers the gateway uses.
 *
 * Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
 * is set; then `NodeSDK` exports OTLP and honours the standard `OTEL_*` variables
 * (protocol, headers, sampler, propagators, service name). While off, every helper
 * here is a cheap no-op through the API's no-op tracer, so the code paths are the
 * same whether tracing is on or not.
 *
 * Span tree of one generation request:
 * ```
 * POST /v1/chat/completions          (server span, traceRequests)
 * ├── retrieval                      (RagService onSearch → retrievalObserver; first: the cache key holds the collection version)
 * ├── cache.lookup                   (ResponseCache onLookup → cacheLookupObserver)
 * └── chat <model>                   (ModelPool observer → poolObserver: GenAI attributes, event gen_ai.first_token)
 *     └── queue.wait                 (until a slot was granted)
 * ```
 * The shard process records no spans of its own: the `traceparent` travels with each
 * IPC request, but the worker does not start a tracer, so the engine's time is the
 * rest of `chat <model>` after `queue.wait`.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context as OtelContext,
  type Span,
  type TextMapGetter,
  type Tracer,
} from "@opentelemetry/api";
import type { tracing } from "@opentelemetry/sdk-node";
import type { IncomingHttpHeaders } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import { nodeBindings } from "../util/node-bindings.js";
import { GatewayError } from "../errors.js";
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SWITCHYARD_REQUEST_ID,
  ATTR_URL_PATH,
} from "./semconv.js";
import { routePattern } from "./http.js";
import { whenResponseDone } from "../util/response-done.js";

/** Instrumentation scope name of every span the gateway makes. */
export const TRACER_NAME = "switchyard";

/** Span names other than the generation span (`chat <model>`, `text_completion <model>`, `embeddings <model>`). */
export const SPAN_CACHE_LOOKUP = "cache.lookup";
export const SPAN_RETRIEVAL = "retrieval";
export const SPAN_QUEUE_WAIT = "queue.wait";

export interface StartTracingOptions {
  /** `service.name`; `OTEL_SERVICE_NAME` wins when set. Default `switchyard`. */
  serviceName?: string;
  /** The environment to decide from (the CLI passes `process.env`; nothing else reads it). */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Export to these processors instead, regardless of `env` (tests: an
   * `InMemorySpanExporter` in a `SimpleSpanProcessor`; embedding hosts).
   */
  spanProcessors?: tracing.SpanProcessor[];
}

export interface TracingStatus {
  enabled: boolean;
  /** `otlp`: NodeSDK from OTEL_* variables; `custom`: the given processors; `off`. */
  exporter: "otlp" | "custom" | "off";
}

let active: { status: TracingStatus; shutdown: () => Promise<void> } | undefined;
let starting: Promise<TracingStatus> | undefined;

/**
 * Starts tracing for this process (idempotent: later calls get the first's status).
 * Call it before the gateway starts so the first request is traced. The SDK is
 * loaded only when tracing is on (it costs ~0.5 s of startup).
 *
 * @example
 * ```ts
 * // src/cli.ts, the one place that reads process.env
 * await startTracing({ serviceName: "switchyard", env: process.env });
 * const gateway = await startGateway({ config });
 * // on shutdown
 * await shutdownTracing();
 * ```
 */
export function startTracing(options: StartTracingOptions): Promise<TracingStatus> {
  if (active) return Promise.resolve(active.status);
  starting ??= start(options).finally(() => (starting = undefined));
  return starting;
}

async function start({ serviceName = "switchyard", env, spanProcessors }: StartTracingOptions): Promise<TracingStatus> {
  const name = env.OTEL_SERVICE_NAME || serviceName;
  if (spanProcessors) {
    const { node, resources } = await import("@opentelemetry/sdk-node");
    // A bare provider, not NodeSDK: NodeSDK would also start OTLP metric and log exporters from env defaults.
    const provider = new node.NodeTracerProvider({ resource: resources.resourceFromAttributes({ "service.name": name }), spanProcessors });
    provider.register();
    const status: TracingStatus = { enabled: true, exporter: "custom" };
    active = { status, shutdown: () => provider.shutdown().finally(disableGlobals) };
    return status;
  }
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true" || env.OTEL_TRACES_EXPORTER?.trim() === "none";
  if (!endpoint || disabled) return { enabled: false, exporter: "off" };
  const { NodeSDK } = await import("@opentelemetry/sdk-node");
  // NodeSDK builds the OTLP span exporter from OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_* itself.
  const sdk = new NodeSDK({ serviceName: name, logRecordProcessors: [] });
  sdk.start();
  const status: TracingStatus = { enabled: true, exporter: "otlp" };
  active = { status, shutdown: () => sdk.shutdown().finally(disableGlobals) };
  return status;
}

/**
 * Flushes pending spans and unregisters the SDK; a no-op when tracing is off.
 *
 * @example
 * ```ts
 * await gateway.close();
 * await shutdownTracing();
 * ```
 */
export async function shutdownTracing(): Promise<void> {
  await starting;
  const current = active;
  active = undefined;
  await current?.shutdown();
}

function disableGlobals(): void {
  trace.disable();
  context.disable();
  propagation.disable();
}

/** The gateway's tracer, looked up per use so a provider registered later (or re-registered in tests) is picked up. */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Marks a span failed. Only our own error messages are recorded (they carry
 * no prompt text, paths or stacks); anything else is recorded by class name.
 */
export function recordSpanError(span: Span, err: unknown): void {
  const type = err instanceof GatewayError ? (err.code ?? err.type) : err instanceof Error ? err.name : "unknown";
  span.setAttribute(ATTR_ERROR_TYPE, type);
  if (err instanceof Error && err.name === "AbortError") return; // the client left: not a failure of ours
  span.setStatus({ code: SpanStatusCode.ERROR, ...(err instanceof GatewayError ? { message: err.message } : {}) });
}

/**
 * Runs `fn` inside a new active span (children created inside nest under it),
 * ending it when `fn` settles and marking it failed if `fn` throws.
 *
 * @example
 * ```ts
 * const found = await withSpan(SPAN_CACHE_LOOKUP, {}, async (span) => {
 *   const r = await cache.lookup(key, directive);
 *   span.setAttribute(ATTR_SWITCHYARD_CACHE_RESULT, r.result);
 *   return r;
 * });
 * ```
 */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T> | T): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      recordSpanError(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * The W3C `traceparent` of `span` (or of the active span), for a process that
 * continues the trace: the pool sends it with each shard request (`PoolRequestOptions.traceparent`).
 * `undefined` when tracing is off or nothing is being traced.
 *
 * @example
 * ```ts
 * pool.generate(input, params, { requestId, traceparent: traceparentOf(span) });
 * ```
 */
export function traceparentOf(span?: Span, base: OtelContext = context.active()): string | undefined {
  const ctx = span ? trace.setSpan(base, span) : base;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/** Node's own header object (lower-case names): no WHATWG `Headers` built per request. */
const incomingHeaderGetter: TextMapGetter<IncomingHttpHeaders> = {
  get: (headers, key) => headers[key],
  keys: (headers) => Object.keys(headers),
};

function extractParent(c: Context): OtelContext {
  const node = nodeBindings(c);
  if (node) return propagation.extract(ROOT_CONTEXT, node.incoming.headers, incomingHeaderGetter);
  return propagation.extract(ROOT_CONTEXT, c.req.raw.headers, headerGetter);
}

export interface TraceRequestsOptions {
  /** Continue a caller's trace from its `traceparent` header. Default true; turn off for untrusted edges. */
  trustIncomingContext?: boolean;
}

/**
 * Hono middleware making the HTTP server span of each request, named
 * `<METHOD> <route pattern>` (never the raw path in the name), with the status.
 * Everything downstream runs with that span active, so spans made while
 * handling the request are its children. A streamed response's span ends when
 * the stream does.
 *
 * @example
 * ```ts
 * app.use(requestId());
 * app.use(traceRequests());
 * ```
 */
export function traceRequests({ trustIncomingContext = true }: TraceRequestsOptions = {}): MiddlewareHandler {
  return async function traceRequestsMiddleware(c, next) {
    const parent = trustIncomingContext ? extractParent(c) : ROOT_CONTEXT;
    const method = c.req.method;
    const span = tracer().startSpan(
      method,
      { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_PATH]: c.req.path } },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
    } catch (err) {
      recordSpanError(span, err);
      span.end();
      throw err;
    }
    const route = routePattern(c);
    const status = c.res.status;
    span.updateName(`${method} ${route}`);
    span.setAttributes({ [ATTR_HTTP_ROUTE]: route, [ATTR_HTTP_RESPONSE_STATUS_CODE]: status });
    const requestId = c.res.headers.get("x-request-id");
    if (requestId) span.setAttribute(ATTR_SWITCHYARD_REQUEST_ID, requestId);
    if (status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    // Tracing off: nothing to wait for, so leave the body alone.
    if (!span.isRecording()) return span.end();
    whenResponseDone(c, () => span.end());
  };
}
