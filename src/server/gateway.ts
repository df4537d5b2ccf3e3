/**
 * Process lifecycle: build the registry, start shards, listen, and shut down
 * in order (stop accepting → drain in-flight → dispose shards → close).
 */
import type { SwitchyardConfig } from "../config/index.js";
import { ModelRegistry, type HostResolver } from "../router/index.js";
import { createLogger, type Logger } from "../telemetry/logger.js";
import path from "node:path";
import { createApp, metricsAccess } from "./http/app.js";
import { type RagService, ragServiceFromConfig } from "../rag/index.js";
import { VectorStoreService } from "../rag/vector-stores/index.js";
import { registryModelHandle } from "./embedding-model-handle.js";
import { LruCacheStore, ResponseCache } from "../cache/index.js";
import type { GenerationResult } from "../types.js";
import { listen } from "../util/listen.js";
import { TeardownStack } from "../util/teardown.js";
import type { Server } from "node:http";
// --- observability and security ---
import { connectSharedState } from "./shared-state.js";
import { Guardrails } from "../guardrails/index.js";
import { semanticCacheFromConfig } from "./semantic-cache.js";
import { cacheLookupObserver, createMetrics, instrumentSharedState, piiObserver, poolObserver, retrievalObserver, serveMetrics, type GatewayMetrics, type MetricsServer } from "../telemetry/index.js";

export interface Gateway {
  /** `http://host:port` actually bound (port 0 → ephemeral). */
  url: string;
  registry: ModelRegistry;
  logger: Logger;
  cache: ResponseCache<GenerationResult> | undefined;
  rag: RagService;
  /** Prometheus metrics of this gateway (its own registry). */
  metrics: GatewayMetrics;
  /** `/metrics` on its own listener when `telemetry.metricsPort` > 0. */
  metricsUrl: string | undefined;
  /**
   * Graceful: readiness 503 at once, in-flight requests finish within the drain timeout, then everything
   * started is disposed in reverse order (listeners, vector stores, retrieval, shards, Redis). Idempotent.
   */
  close(): Promise<void>;
  /** Same as {@link Gateway.close}: `await using gw = await startGateway(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

export interface StartGatewayOptions {
  config: SwitchyardConfig;
  logger?: Logger;
  /** Wait for every model to be ready before resolving. Default true. */
  waitReady?: boolean;
  /** Resolves the host names of `dns+` upstreams to every address (tests inject one). Default: node:dns lookup. */
  resolver?: HostResolver | undefined;
}

/**
 * @example
 * ```ts
 * const gw = await startGateway({ config: loadConfig() });
 * console.log(gw.url);
 * await gw.close();
 * ```
 * A failure while starting (a model that cannot load, a port in use) disposes what was already started
 * before the error is rethrown: no shard process outlives a failed start.
 */
export async function startGateway({ config, logger = createLogger({ level: config.telemetry.logLevel }), waitReady = true, resolver }: StartGatewayOptions): Promise<Gateway> {
  // Everything acquired below is pushed here; it is undone last-first on close or on a failed start.
  const teardown = new TeardownStack();
  try {
    return await startInto(teardown, { config, logger, waitReady, resolver });
  } catch (err) {
    await teardown.dispose();
    throw err;
  }
}

async function startInto(teardown: TeardownStack, { config, logger, waitReady, resolver }: Required<StartGatewayOptions>): Promise<Gateway> {
  const metricsSource: { registry?: ModelRegistry } = {};
  // Shared state across replicas (config `redis.url`): the cache store, its single-flight, limits, revocations,
  // remote breakers and affinity, stored Responses.
  const shared = await connectSharedState(config, logger);
  if (shared) teardown.push(shared);
  // --- observability: telemetry hooks in through the observer seams of the pool, cache and retrieval ---
  const cache = config.cache.enabled
    ? new ResponseCache<GenerationResult>({
        store: shared?.cacheStore ?? new LruCacheStore({ maxBytes: config.cache.maxBytes, ttlMs: config.cache.ttlMs }),
        ...(shared ? { crossReplica: shared.crossReplica } : {}),
        onLookup: cacheLookupObserver(),
      })
    : undefined;
  const metrics = createMetrics({ pools: () => metricsSource.registry?.snapshot() ?? [], ...(cache ? { cache } : {}) });
  if (shared) instrumentSharedState(metrics, shared.redis);
  const registry = teardown.push(
    await ModelRegistry.create({
      config,
      logger,
      shardEnv: { LANCEDB_LOG: "error" },
      ...(resolver ? { resolver } : {}),
      observer: poolObserver({ metrics, recordContent: config.telemetry.recordContent }),
      onScale: (decision) => metrics.observeScaling(decision),
      ...(shared ? { shared: { breakers: shared.breakers, affinity: shared.affinity } } : {}),
    }),
  );
  metricsSource.registry = registry;
  let draining = false;
  if (config.auth.keys.length === 0) logger.warn({}, "no API keys configured: open local mode, every request runs as tenant 'default'");
  // Retrieval: a configured embedding model, else the offline embedder (never a chat model by default).
  const { rag, chosen } = ragServiceFromConfig(config, {
    resolve: (name) => registryModelHandle(registry, name),
    warn: (fields, msg) => logger.warn(fields, msg),
    onBackgroundError: (err, collection) => logger.error({ err, collection }, "background vector index build failed"),
    onSearch: retrievalObserver({ metrics }),
  });
  teardown.push(rag);
  // A configured reranker loads now: a file that cannot rank fails the start, not every search.
  await rag.loadReranker();
  if (rag.rerankerId !== undefined) logger.info({ reranker: rag.rerankerId, topN: config.rag.rerankTopN }, "retrieval reranker");
  const guardrails = new Guardrails({ config, observer: piiObserver(metrics.registry) });
  const semanticCache = semanticCacheFromConfig(config, {
    store: shared?.semanticStore,
    resolve: (name) => registryModelHandle(registry, name),
    warn: (fields, msg) => logger.warn(fields, msg),
  });
  if (semanticCache) logger.info({ embedder: semanticCache.embedderId }, "semantic cache embedder");
  logger.info({ embedder: rag.embedderId, source: chosen.source }, "retrieval embedder");
  const vectorStores = teardown.push(
    new VectorStoreService({
      rag,
      dir: path.join(config.dataDir, "vector-stores"),
      maxFileBytes: config.rag.maxUploadBytes,
      onError: (err, context) => logger.error({ err, ...context }, "vector store file ingestion failed"),
    }),
  );
  const app = createApp(
    {
      config,
      registry,
      logger,
      cache,
      rag,
      guardrails,
      ...(semanticCache ? { semanticCache } : {}),
      vectorStores,
      draining: () => draining,
      ...(shared ? { limiter: shared.limiter, responses: shared.responses, revocations: shared.revocations } : {}),
    },
    { metrics, mountMetricsRoute: config.telemetry.metricsPort === 0 },
  );

  const started = registry.start();
  if (waitReady) await started;
  else started.catch((err: unknown) => logger.error({ err }, "a model failed to start"));

  // Metrics on their own port: bound before the API (and closed after it drains), so a scrape sees the drain.
  let metricsServer: MetricsServer | undefined;
  if (config.telemetry.metricsPort > 0) {
    const bound = await serveMetrics({
      metrics,
      port: config.telemetry.metricsPort,
      hostname: config.server.host,
      ...(config.telemetry.metricsKey ? { key: config.telemetry.metricsKey } : {}),
    });
    teardown.defer(() => bound.close());
    metricsServer = bound;
  }
  const { server, url } = await listen({ fetch: app.fetch, port: config.server.port, hostname: config.server.host });
  teardown.defer(() => drain(server, config.server.drainTimeoutMs));
  for (const m of registry.models) {
    if (m.tiny) logger.warn({ model: m.config.name }, "serving the generated tiny model: its text is meaningless (see models/README.md)");
  }
  logger.info({ url, metricsUrl: metricsServer?.url, models: registry.models.map((m) => m.config.name) }, "switchyard listening");
  logger.info({ metricsUrl: metricsServer?.url ?? `${url}/metrics` }, metricsAccess(config));

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      await teardown.dispose();
      logger.info({}, "switchyard stopped");
    })());
  return { url, registry, logger, cache, rag, metrics, metricsUrl: metricsServer?.url, close, [Symbol.asyncDispose]: close };
}

/** Stops accepting, lets in-flight requests finish, and cuts what is left after `timeoutMs`. */
function drain(server: Server, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, timeoutMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
