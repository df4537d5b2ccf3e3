/**
 * Process lifecycle: build the registry, start shards, listen, and shut down
 * in order (stop accepting → drain in-flight → dispose shards → close).
 */
import { ConfigError, type SwitchyardConfig } from "../config/index.js";
import { ModelRegistry, type HostResolver, type ServedModel } from "../router/index.js";
import { createLogger, type Logger } from "../telemetry/logger.js";
import path from "node:path";
import { createApp, metricsAccess } from "./http/app.js";
import { type RagService, ragServiceFromConfig } from "../rag/index.js";
import { VectorStoreService } from "../rag/vector-stores/index.js";
import { registryModelHandle } from "./embedding-model-handle.js";
import { LruCacheStore, ResponseCache } from "../cache/index.js";
import type { GenerationResult } from "../types.js";
import { listen } from "../util/listen.js";
import type { NodeBindings } from "../util/node-bindings.js";
import { TeardownStack } from "../util/teardown.js";
import { Holders } from "../util/holders.js";
import { RequestDrain } from "./http/drain.js";
// --- observability and security ---
import { connectSharedState } from "./shared-state.js";
import { assertReloadable, configHash, Generation, watchConfigFile, type ConfigVersion, type ReloadResult } from "./config-reload.js";
import { MemoryResponseStore } from "./responses/index.js";
import { Guardrails } from "../guardrails/index.js";
import { semanticCacheFromConfig } from "./semantic-cache.js";
import { cacheLookupObserver, createMetrics, instrumentSharedState, piiObserver, poolObserver, retrievalObserver, serveMetrics, type GatewayMetrics, type MetricsServer } from "../telemetry/index.js";

export interface Gateway {
  /** `http://host:port` actually bound (port 0 → ephemeral). */
  url: string;
  /** The models of the config served now (a reload replaces it). */
  readonly registry: ModelRegistry;
  logger: Logger;
  readonly cache: ResponseCache<GenerationResult> | undefined;
  readonly rag: RagService;
  /** The config served now: version (1 at start, +1 per applied reload) and hash. */
  readonly configVersion: ConfigVersion;
  /**
   * Applies a new config without a restart (see config-reload.ts): `config`, else the one `reloadConfig`
   * loads. A config that fails validation or changes a restart-only key rejects with a {@link ConfigError}
   * naming the key, and the running config stays. Reloads run one at a time.
   */
  reload(config?: SwitchyardConfig): Promise<ReloadResult>;
  /** Prometheus metrics of this gateway (its own registry). */
  metrics: GatewayMetrics;
  /** `/metrics` on its own listener when `telemetry.metricsPort` > 0. */
  metricsUrl: string | undefined;
  /**
   * Graceful: readiness 503 and new API requests 503 + `Retry-After` at once; running requests finish
   * within `server.drainTimeoutMs`, then those left are ended (streams with their API's error event and
   * terminator, queued requests with 503 + `Retry-After`); then everything started is disposed in reverse
   * order (listeners, vector stores, retrieval, shards, Redis). Idempotent.
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
  /** Loads the config again for a reload (SIGHUP, `POST /v1/admin/reload`, the file watch). Absent: those reloads are refused. */
  reloadConfig?: () => SwitchyardConfig;
  /** The config file, watched when `server.watchConfig` is true. */
  configFile?: string;
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
export async function startGateway({ config, logger = createLogger({ level: config.telemetry.logLevel }), waitReady = true, resolver, reloadConfig, configFile }: StartGatewayOptions): Promise<Gateway> {
  // Everything acquired below is pushed here; it is undone last-first on close or on a failed start.
  const teardown = new TeardownStack();
  try {
    return await startInto(teardown, { config, logger, waitReady, resolver, ...(reloadConfig ? { reloadConfig } : {}), ...(configFile ? { configFile } : {}) });
  } catch (err) {
    await teardown.dispose();
    throw err;
  }
}

async function startInto(
  teardown: TeardownStack,
  { config, logger, waitReady, resolver, reloadConfig, configFile }: Required<Omit<StartGatewayOptions, "reloadConfig" | "configFile">> & Pick<StartGatewayOptions, "reloadConfig" | "configFile">,
): Promise<Gateway> {
  const metricsSource: { registry?: ModelRegistry } = {};
  // Shared state across replicas (config `redis.url`): the cache store, its single-flight, limits, revocations,
  // remote breakers and affinity, stored Responses.
  const shared = await connectSharedState(config, logger);
  if (shared) teardown.push(shared);
  // --- observability: telemetry hooks in through the observer seams of the pool, cache and retrieval ---
  const cacheFor = (c: SwitchyardConfig) =>
    c.cache.enabled
      ? new ResponseCache<GenerationResult>({
          store: shared?.cacheStore ?? new LruCacheStore({ maxBytes: c.cache.maxBytes, ttlMs: c.cache.ttlMs }),
          ...(shared ? { crossReplica: shared.crossReplica } : {}),
          onLookup: cacheLookupObserver(),
        })
      : undefined;
  const firstCache = cacheFor(config);
  // The cache counters are read from the cache the gateway started with (a reload that changes `cache` starts a new one).
  const metrics = createMetrics({ pools: () => metricsSource.registry?.snapshot() ?? [], ...(firstCache ? { cache: firstCache } : {}) });
  if (shared) instrumentSharedState(metrics, shared.redis);
  // SIGTERM: readiness 503 and new requests refused at once, running ones until the deadline, then ended.
  const drain = new RequestDrain({ timeoutMs: config.server.drainTimeoutMs });
  // Stored Responses outlive a reload: one store for every generation.
  const responses =
    shared?.responses ??
    new MemoryResponseStore({ maxPerTenant: config.responses.maxStoredPerTenant, maxBytesPerTenant: config.responses.maxStoredBytesPerTenant, ttlMs: config.responses.storeTtlMs });
  if (config.auth.keys.length === 0) logger.warn({}, "no API keys configured: open local mode, every request runs as tenant 'default'");
  let current: Generation | undefined;
  let reload: Gateway["reload"] = () => Promise.reject(new ConfigError("config: the gateway is still starting"));

  interface Parts {
    cache: ResponseCache<GenerationResult> | undefined;
    semanticCache: ReturnType<typeof semanticCacheFromConfig>;
    rag: RagService;
    vectorStores: VectorStoreService;
  }
  const parts = new Map<Generation, Parts>();
  /**
   * Which generations hold which pools and retrieval services: a reload keeps some of the previous generation's,
   * so one can be held by several generations at once (one current, others still draining after reloads). It is
   * disposed when the last of them retires, never under a generation whose requests still run on it.
   */
  const holders = { models: new Holders<ServedModel, Generation>(), rag: new Holders<RagService, Generation>(), vectorStores: new Holders<VectorStoreService, Generation>() };
  // Observers register their metrics once; every generation shares them.
  const piiMetrics = piiObserver(metrics.registry);
  const onSearch = retrievalObserver({ metrics });
  /** Builds a generation's registry (unstarted new pools), retrieval, cache and app; reuses what did not change in `previous`. */
  const build = async (cfg: SwitchyardConfig, version: ConfigVersion, previous: Generation | undefined): Promise<Generation> => {
    const registry = await ModelRegistry.create({
      config: cfg,
      logger,
      shardEnv: { LANCEDB_LOG: "error" },
      ...(resolver ? { resolver } : {}),
      observer: poolObserver({ metrics, recordContent: cfg.telemetry.recordContent }),
      onScale: (decision) => metrics.observeScaling(decision),
      ...(shared ? { shared: { breakers: shared.breakers, affinity: shared.affinity } } : {}),
      ...(previous ? { previous: previous.registry } : {}),
    });
    // What this build made, undone if it fails: the new pools (kept ones stay with `previous`), a new retrieval service.
    const undo = new TeardownStack();
    undo.defer(() => (previous ? registry.retire(previous.registry) : registry.dispose()));
    try {
      return await buildOver(registry, undo, cfg, version, previous);
    } catch (err) {
      await undo.dispose();
      throw err;
    }
  };
  const buildOver = async (registry: ModelRegistry, undo: TeardownStack, cfg: SwitchyardConfig, version: ConfigVersion, previous: Generation | undefined): Promise<Generation> => {
    const before = previous ? parts.get(previous) : undefined;
    const same = (pick: (c: SwitchyardConfig) => unknown) => previous !== undefined && JSON.stringify(pick(previous.config)) === JSON.stringify(pick(cfg));
    const cache = before && same((c) => c.cache) ? before.cache : previous ? cacheFor(cfg) : firstCache;
    let rag: RagService;
    let vectorStores: VectorStoreService;
    if (before && same((c) => c.rag)) ({ rag, vectorStores } = before);
    else {
      // Retrieval: a configured embedding model, else the offline embedder (never a chat model by default).
      const built = ragServiceFromConfig(cfg, {
        resolve: (name) => registryModelHandle(current?.registry ?? registry, name),
        warn: (fields, msg) => logger.warn(fields, msg),
        onBackgroundError: (err, collection) => logger.error({ err, collection }, "background vector index build failed"),
        onSearch,
      });
      rag = undo.push(built.rag);
      // A configured reranker loads now: a file that cannot rank fails the start (or the reload), not every search.
      await rag.loadReranker();
      if (rag.rerankerId !== undefined) logger.info({ reranker: rag.rerankerId, topN: cfg.rag.rerankTopN }, "retrieval reranker");
      logger.info({ embedder: rag.embedderId, source: built.chosen.source }, "retrieval embedder");
      vectorStores = new VectorStoreService({
        rag,
        dir: path.join(cfg.dataDir, "vector-stores"),
        maxFileBytes: cfg.rag.maxUploadBytes,
        onError: (err, context) => logger.error({ err, ...context }, "vector store file ingestion failed"),
      });
    }
    const guardrails = new Guardrails({ config: cfg, observer: piiMetrics });
    const semanticCache =
      before && same((c) => c.cache)
        ? before.semanticCache
        : semanticCacheFromConfig(cfg, {
            store: shared?.semanticStore,
            resolve: (name) => registryModelHandle(current?.registry ?? registry, name),
            warn: (fields, msg) => logger.warn(fields, msg),
          });
    if (semanticCache && semanticCache !== before?.semanticCache) logger.info({ embedder: semanticCache.embedderId }, "semantic cache embedder");
    const app = createApp(
      {
        config: cfg,
        registry,
        logger,
        cache,
        rag,
        guardrails,
        ...(semanticCache ? { semanticCache } : {}),
        vectorStores,
        responses,
        configVersion: version,
        reload: () => reload(),
        drain,
        ...(shared ? { limiter: shared.limiter, revocations: shared.revocations } : {}),
      },
      { metrics, mountMetricsRoute: cfg.telemetry.metricsPort === 0 },
    );
    const generation = new Generation(app, cfg, registry, version);
    parts.set(generation, { cache, semanticCache, rag, vectorStores });
    holders.models.hold(generation, registry.models);
    holders.rag.hold(generation, [rag]);
    holders.vectorStores.hold(generation, [vectorStores]);
    return generation;
  };
  /**
   * Lets go of what `old` held once its requests drained (or a failed reload's candidate): each pool, retrieval
   * service and vector store no other generation still holds is disposed through its own dispose. Once per generation.
   */
  const retirements = new Map<Generation, Promise<void>>();
  /** Generations replaced by a reload whose requests are still draining. */
  const replaced = new Set<Generation>();
  const retire = (old: Generation): Promise<void> => {
    let done = retirements.get(old);
    if (!done) {
      // Released at once (synchronously), so a later retirement counts this one's holds as gone.
      const free = { vectorStores: holders.vectorStores.release(old), rag: holders.rag.release(old), models: holders.models.release(old) };
      done = (async () => {
        for (const v of free.vectorStores) await v.dispose();
        for (const r of free.rag) await r.dispose();
        await ModelRegistry.disposeModels(free.models);
        parts.delete(old);
        replaced.delete(old);
      })();
      retirements.set(old, done);
    }
    return done;
  };

  current = await build(config, { version: 1, hash: configHash(config), appliedAt: new Date().toISOString() }, undefined);
  // At close the listener has already drained (or cut) every request: generations replaced by a reload and still
  // waiting for theirs go first, then the generation current *then* (not the one the gateway started with).
  teardown.defer(async () => {
    await Promise.all([...replaced].map(retire));
    await retire(current!);
    // The host budget, shared by every generation's registry.
    await current!.registry.dispose();
  });
  metricsSource.registry = current.registry;

  const started = current.registry.start();
  if (waitReady) await started;
  else started.catch((err: unknown) => logger.error({ err }, "a model failed to start"));

  let reloading: Promise<unknown> = Promise.resolve();
  const applyReload = async (next: SwitchyardConfig): Promise<ReloadResult> => {
    const old = current!;
    assertReloadable(old.config, next);
    const hash = configHash(next);
    const names = (g: Generation) => g.registry.models.map((m) => m.config.name);
    if (hash === old.version.hash) return { config: old.version, changed: false, models: { started: [], kept: names(old), retired: [] } };
    const version = { version: old.version.version + 1, hash, appliedAt: new Date().toISOString() };
    const candidate = await build(next, version, old);
    const fresh = candidate.registry.models.filter((m) => !old.registry.models.some((o) => o.pool === m.pool));
    try {
      // New shards first (pools, autoscalers, DNS discoveries): the switch happens once every changed model can serve.
      await candidate.registry.start(old.registry);
    } catch (err) {
      await retire(candidate);
      throw new ConfigError(`config: a model of the new config failed to start (the running config stays): ${err instanceof Error ? err.message : String(err)}`);
    }
    current = candidate;
    metricsSource.registry = candidate.registry;
    replaced.add(old);
    const retired = old.registry.replacedBy(candidate.registry).map((m) => m.config.name);
    logger.info({ version: version.version, hash, started: fresh.map((m) => m.config.name), retired }, "config reloaded");
    // The old generation's requests finish on the pools they started on; then what no generation holds any more
    // goes (a pool `old` kept from an older generation still draining stays until that one retires too).
    void old.drained(config.server.drainTimeoutMs).then(async (clean) => {
      if (!clean) logger.warn({ version: old.version.version }, "config reload: requests of the previous config still running after the drain timeout; stopping its replaced shards");
      await retire(old);
    });
    return { config: version, changed: true, models: { started: fresh.map((m) => m.config.name), kept: names(candidate).filter((n) => !fresh.some((m) => m.config.name === n)), retired } };
  };
  reload = (given) => {
    const run = reloading.then(async () => {
      if (drain.draining) throw new ConfigError("config: the gateway is shutting down");
      let next = given;
      if (!next) {
        if (!reloadConfig) throw new ConfigError("config: this gateway was started without a config source to reload from");
        next = reloadConfig();
      }
      return applyReload(next);
    });
    reloading = run.catch(() => undefined);
    return run.catch((err: unknown) => {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, "config reload refused; the running config stays");
      throw err;
    });
  };
  if (config.server.watchConfig && configFile) {
    const watcher = watchConfigFile(configFile, () => void reload().catch(() => undefined));
    teardown.defer(() => watcher.close());
  }

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
  // Each request runs on the generation current when it arrives.
  const { server, url } = await listen({ fetch: (request: Request, env?: NodeBindings) => current!.fetch(request, env), port: config.server.port, hostname: config.server.host });
  teardown.defer(() => drain.close(server));
  for (const m of current.registry.models) {
    if (m.tiny) logger.warn({ model: m.config.name }, "serving the generated tiny model: its text is meaningless (see models/README.md)");
  }
  logger.info({ url, metricsUrl: metricsServer?.url, models: current.registry.models.map((m) => m.config.name) }, "switchyard listening");
  logger.info({ metricsUrl: metricsServer?.url ?? `${url}/metrics` }, metricsAccess(config));

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Readiness flips and new requests are refused at once; the drain's deadline runs from here.
      void drain.close(server);
      await reloading;
      await teardown.dispose();
      logger.info({}, "switchyard stopped");
    })());
  return {
    url,
    get registry() {
      return current!.registry;
    },
    get cache() {
      return parts.get(current!)?.cache;
    },
    get rag() {
      return parts.get(current!)!.rag;
    },
    get configVersion() {
      return current!.version;
    },
    reload: (given) => reload(given),
    logger,
    metrics,
    metricsUrl: metricsServer?.url,
    close,
    [Symbol.asyncDispose]: close,
  };
}
