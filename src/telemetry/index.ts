/**
 * Observability: structured logs, Prometheus metrics, OpenTelemetry traces.
 *
 * @example
 * ```ts
 * import { createMetrics, startTracing, traceRequests } from "../telemetry/index.js";
 * ```
 */
export { createLogger, type Logger, type CreateLoggerOptions } from "./logger.js";
export * from "./semconv.js";
export {
  startTracing,
  shutdownTracing,
  tracer,
  withSpan,
  traceparentOf,
  recordSpanError,
  traceRequests,
  TRACER_NAME,
  SPAN_CACHE_LOOKUP,
  SPAN_RETRIEVAL,
  SPAN_QUEUE_WAIT,
  type StartTracingOptions,
  type TracingStatus,
  type TraceRequestsOptions,
} from "./tracing.js";
export {
  createMetrics,
  httpMetrics,
  metricsRoute,
  serveMetrics,
  BUCKETS,
  BREAKER_STATE_VALUE,
  type GatewayMetrics,
  type CreateMetricsOptions,
  type CacheMetricsSource,
  type GenerationObservation,
  type EmbeddingObservation,
  type HttpObservation,
  type OperationLabel,
  type HttpMetricsOptions,
  type MetricsRouteOptions,
  type ServeMetricsOptions,
  type MetricsServer,
} from "./metrics.js";
export {
  startGeneration,
  poolObserver,
  cacheLookupObserver,
  retrievalObserver,
  traceRetrieval,
  type GenerationHandle,
  type GenerationSpanInit,
  type GenerationTelemetryOptions,
  type PoolObserverOptions,
} from "./generation.js";
export { routePattern, statusClass, UNMATCHED_ROUTE } from "./http.js";
export { instrumentSharedState, type SharedStateHealthSource } from "./state-metrics.js";
export { piiObserver } from "./pii-metrics.js";
