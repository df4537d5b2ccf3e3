/**
 * Builds one {@link ModelPool} per configured model and resolves names and
 * aliases to them. The registry is the router's public face to the server.
 */
import path from "node:path";
import { stat } from "node:fs/promises";
import type { BotConfig, ModelConfig, SwitchyardConfig } from "../config/index.js";
import { adapterAliases, plainAliases, threadsPerShard } from "../config/index.js";
import { resolveAdapter, resolveModel, type ResolvedModelFile } from "../engine/model-files.js";
import type { AdapterSpec, ShardSpec } from "../engine/protocol.js";
import type { Backend } from "./backend.js";
import { LocalBackend } from "./local-backend.js";
import { RemoteBackend } from "./remote-backend.js";
import { DnsDiscovery, isDnsUpstream, type HostResolver } from "./dns-discovery.js";
import { ModelPool, type PoolObserver, type PoolSnapshot } from "./model-pool.js";
import type { BreakerState } from "./breaker.js";
import type { SharedRouting } from "./shared-routing.js";
import { HostBudget } from "./host-budget.js";
import { ShardAutoscaler, type ScalingDecision } from "./shard-autoscaler.js";
import { hostRoomForShard } from "./host-room.js";

export interface ServedModel {
  config: ModelConfig;
  pool: ModelPool;
  /** Identity of the weights (file name, size, mtime) or the upstream URL: part of cache keys. */
  identity: string;
  /** True when serving the generated tiny model. */
  tiny: boolean;
  created: number;
  /** Scales the model's local shards with its load (config `autoscale`); absent = a fixed shard count. */
  autoscaler?: ShardAutoscaler;
  /** For a `dns+` upstream: keeps the pool's backends in step with DNS. */
  discovery?: DnsDiscovery;
  /** For an adapter alias: the model whose weights it adapts. */
  base?: string;
  /** For an adapter alias: the LoRA adapters its shards apply, with their scales. */
  adapters?: AdapterSpec[];
}

export interface RegistryLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export interface CreateRegistryOptions {
  config: SwitchyardConfig;
  logger: RegistryLogger;
  onBreakerChange?: (model: string, shard: string, state: BreakerState) => void;
  /** Observer of every pool's generations and embeddings (telemetry). Default: none. */
  observer?: PoolObserver;
  /** Environment for shard processes. */
  shardEnv?: NodeJS.ProcessEnv;
  /** Resolves `dns+` upstreams' host names to every address. Default: node:dns lookup (getaddrinfo, all addresses). */
  resolver?: HostResolver;
  /** Breaker state and session affinity of remote backends shared across replicas (config `redis.url`). Default: local. */
  shared?: SharedRouting;
  /** Host-wide room for loaded models; default: a new one from config `loading`. */
  budget?: HostBudget;
  /** Every shard autoscaling decision (config `models[].autoscale`), after it was logged. */
  onScale?: (decision: ScalingDecision) => void;
  /**
   * The running registry, at a config reload: a model whose settings (its own and the pool-wide
   * `queue`, `breaker`, `retry`, `health`, `limits.requestTimeoutMs`) did not change keeps its
   * pool and shards; a changed or new model gets a new pool. Its budget is kept (limits updated).
   */
  previous?: ModelRegistry;
}

/** Stops the models' discoveries and autoscalers, then disposes their pools in parallel (each dispose is idempotent). */
async function disposeModels(models: ServedModel[]): Promise<void> {
  for (const m of models) m.discovery?.dispose();
  await Promise.all(models.map((m) => m.autoscaler?.dispose()));
  await Promise.all(models.map((m) => m.pool.dispose()));
}

/** What decides whether a model's pool can be kept across a reload. */
function poolSettings(config: SwitchyardConfig, m: ModelConfig): string {
  return JSON.stringify([m, config.queue, config.breaker, config.retry, config.health, config.limits.requestTimeoutMs, config.modelsDir, config.dataDir]);
}

export class ModelRegistry {
  private readonly byName = new Map<string, ServedModel>();
  private readonly bots = new Map<string, BotConfig>();
  /** Per configured model: its settings and the served entries (the model and its adapter aliases) built from it. */
  private readonly sources = new Map<string, { settings: string; served: ServedModel[] }>();
  private disposing: Promise<void> | undefined;

  private constructor(
    readonly models: ServedModel[],
    readonly defaultModel: string,
    bots: BotConfig[],
    /** Host-wide room for loaded models, shared by every pool. */
    readonly budget: HostBudget,
  ) {
    for (const m of models) for (const n of [m.config.name, ...plainAliases(m.config)]) this.byName.set(n, m);
    for (const b of bots) {
      const target = this.byName.get(b.model);
      if (!target) continue;
      this.byName.set(b.name, target);
      this.bots.set(b.name, b);
    }
  }

  /** The bot configured under this name (a model name that grounds every chat in a collection). */
  bot(name: string): BotConfig | undefined {
    return this.bots.get(name);
  }

  /**
   * A registry over pools built by the caller (e.g. over scripted backends in in-process tests).
   * Pools are not started: call {@link start}. `defaultModel` defaults to the first model.
   */
  static of(models: ServedModel[], { defaultModel, bots = [] }: { defaultModel?: string | undefined; bots?: BotConfig[] | undefined } = {}): ModelRegistry {
    const first = models[0];
    if (!first) throw new Error("ModelRegistry.of: no models");
    return new ModelRegistry(models, defaultModel ?? first.config.name, bots, new HostBudget({ maxLoadedModels: 0, maxLoadedBytes: 0 }));
  }

  /**
   * Resolves model files and builds the pools (not started yet: call {@link start}).
   * @example
   * ```ts
   * const registry = await ModelRegistry.create({ config, logger });
   * await registry.start();
   * registry.resolve("gpt-4o-mini")?.pool.generate(...);
   * ```
   */
  static async create({ config, logger, onBreakerChange, observer, shardEnv, shared, resolver, budget: givenBudget, onScale, previous }: CreateRegistryOptions): Promise<ModelRegistry> {
    const served: ServedModel[] = [];
    const sources = new Map<string, { settings: string; served: ServedModel[] }>();
    previous?.budget.configure(config.loading);
    const budget =
      givenBudget ??
      previous?.budget ??
      new HostBudget({
        ...config.loading,
        onEvict: (evicted, forModel) => logger.info({ model: evicted, for: forModel }, "evicting the least recently used idle model"),
      });
    const poolFor = (name: string, backends: Backend[], local?: { m: ModelConfig; bytes: number }) =>
      new ModelPool({
        model: name,
        backends,
        queue: config.queue,
        breaker: config.breaker,
        retry: config.retry,
        requestTimeoutMs: config.limits.requestTimeoutMs,
        ...(observer ? { observer } : {}),
        ...(shared ? { shared } : {}),
        ...(onBreakerChange ? { onBreakerChange: (shard: string, state: BreakerState) => onBreakerChange(name, shard, state) } : {}),
        ...(local
          ? { load: { onDemand: local.m.load === "on-demand", idleUnloadMs: local.m.idleUnloadMs, budget, loadedBytes: local.bytes * backends.length, logger } }
          : {}),
      });
    const resolveOptions = (m: ModelConfig) => ({
      modelsDir: config.modelsDir,
      dataDir: config.dataDir,
      fallbackToTiny: m.fallback === "tiny",
      model: m.name,
      warn: (msg: string) => logger.warn({ model: m.name }, msg),
    });
    const built: ServedModel[] = [];
    try {
      for (const m of config.models) {
        const settings = poolSettings(config, m);
        const kept = previous?.sources.get(m.name);
        const from = served.length;
        if (kept?.settings === settings) {
          served.push(...kept.served);
          sources.set(m.name, kept);
          continue;
        }
        await build(m);
        built.push(...served.slice(from));
        sources.set(m.name, { settings, served: served.slice(from) });
      }
    } catch (err) {
      // A model that cannot be built (a file that cannot be resolved): what was built for this registry goes, kept pools stay.
      await disposeModels(built);
      throw err;
    }
    const registry = new ModelRegistry(served, config.defaultModel ?? config.models[0]!.name, config.bots, budget);
    for (const [name, source] of sources) registry.sources.set(name, source);
    return registry;

    async function build(m: ModelConfig): Promise<void> {
      const created = Math.floor(Date.now() / 1000);
      if (m.upstream !== undefined && isDnsUpstream(m.upstream)) {
        const pool = poolFor(m.name, []);
        const discovery = new DnsDiscovery({
          upstream: m.upstream,
          pool,
          model: m.name,
          refreshMs: m.discoveryRefreshMs,
          ...(resolver ? { resolver } : {}),
          logger,
          backendFor: (baseUrl, id) =>
            new RemoteBackend({
              id,
              baseUrl,
              model: m.upstreamModel ?? m.name,
              capacity: m.maxConcurrency,
              maxConnections: m.maxConnections,
              ...(m.upstreamApiKey ? { apiKey: m.upstreamApiKey } : {}),
            }),
        });
        served.push({ config: m, pool, identity: `${m.upstream}#${m.upstreamModel ?? m.name}`, tiny: false, created, discovery });
        return;
      }
      if (m.upstream !== undefined) {
        const backends = Array.from(
          { length: m.shards },
          (_, i) =>
            new RemoteBackend({
              id: `${m.name}@${new URL(m.upstream!).host}${m.shards > 1 ? `#${i}` : ""}`,
              baseUrl: m.upstream!,
              model: m.upstreamModel ?? m.name,
              capacity: m.maxConcurrency,
              maxConnections: m.maxConnections,
              ...(m.upstreamApiKey ? { apiKey: m.upstreamApiKey } : {}),
            }),
        );
        served.push({ config: m, pool: poolFor(m.name, backends), identity: `${m.upstream}#${m.upstreamModel ?? m.name}`, tiny: false, created });
        return;
      }
      const file = await resolveModel(m.file!, resolveOptions(m));
      const fileBytes = (await stat(file.path)).size;
      const threads = threadsPerShard(config, m.threads);
      const localBackend = (name: string, i: number, adapters: AdapterSpec[]) => {
          const spec: ShardSpec = {
            shardId: `${name}#${i}`,
            model: name,
            modelPath: path.resolve(file.path),
            contextSize: m.contextSize,
            slots: m.slots,
            threads,
            gpuLayers: m.gpuLayers,
            gpu: m.gpu,
            chatWrapper: m.chatWrapper,
            ...(adapters.length ? { adapters } : {}),
          };
          return new LocalBackend(spec, {
            restartBackoffMs: config.retry.restartBackoffMs,
            restartBackoffMaxMs: config.retry.restartBackoffMaxMs,
            unhealthyGraceMs: config.health.unhealthyGraceMs,
            deadlines: {
              heartbeatIntervalMs: config.health.heartbeatIntervalMs,
              heartbeatTimeoutMs: config.health.heartbeatTimeoutMs,
              abortConfirmMs: config.health.abortConfirmMs,
              callTimeoutMs: config.health.callTimeoutMs,
            },
            ...(shardEnv ? { env: shardEnv } : {}),
            onLog: (level, msg, fields) => logger[level === "info" ? "info" : level === "warn" ? "warn" : "error"]({ model: name, ...fields }, msg),
          });
        };
      const localBackends = (name: string, shards: number, adapters: AdapterSpec[]) => Array.from({ length: shards }, (_, i) => localBackend(name, i, adapters));
      const pool = poolFor(m.name, localBackends(m.name, m.shards, []), { m, bytes: fileBytes });
      const autoscaler = m.autoscale
        ? new ShardAutoscaler({
            pool,
            newShard: (index) => localBackend(m.name, index, []),
            minShards: m.shards,
            ...m.autoscale,
            canAdd: () => hostRoomForShard({ pools: served.map((s) => s.pool), threads, modelBytes: fileBytes }),
            onDecision: (d) => {
              logger.info({ ...d }, d.direction === "up" ? "adding a shard: the queue stayed deep" : "removing an idle shard (drained first)");
              onScale?.(d);
            },
            onRefused: (model, reason) => logger.warn({ model, reason }, "the queue stays deep but the host has no room for another shard"),
          })
        : undefined;
      served.push({ config: m, pool, identity: file.identity, tiny: file.tiny, created, ...(autoscaler ? { autoscaler } : {}) });

      const adapterFiles = new Map<string, ResolvedModelFile>();
      for (const a of m.adapters) adapterFiles.set(a.name, await resolveAdapter(a.file, { ...resolveOptions(m), baseTiny: file.tiny }));
      for (const alias of adapterAliases(m)) {
        const adapters: AdapterSpec[] = alias.adapters.map((ref) => {
          const offered = m.adapters.find((a) => a.name === ref.name)!;
          return { name: ref.name, path: path.resolve(adapterFiles.get(ref.name)!.path), scale: ref.scale ?? offered.scale };
        });
        served.push({
          config: { ...m, name: alias.name, aliases: [], shards: alias.shards },
          pool: poolFor(alias.name, localBackends(alias.name, alias.shards, adapters), { m, bytes: fileBytes }),
          // Part of cache keys: the base weights plus each adapter's file identity and scale, in order.
          identity: `${file.identity}+${adapters.map((a) => `${adapterFiles.get(a.name)!.identity}@${a.scale}`).join("+")}`,
          tiny: file.tiny,
          created,
          base: m.name,
          adapters,
        });
      }
    }
  }

  /**
   * Starts the pools of `load: startup` models (on-demand ones load on their first request), then their
   * autoscalers and DNS discoveries; rejects (naming model and file) if a model has no shard that could load.
   * With `running` (a config reload), only the models whose pools `running` does not already serve start.
   */
  async start(running?: ModelRegistry): Promise<void> {
    const started = new Set(running?.models.map((m) => m.pool));
    const models = this.models.filter((m) => !started.has(m.pool));
    await Promise.all(models.filter((m) => m.config.upstream !== undefined || m.config.load !== "on-demand").map((m) => m.pool.start()));
    for (const m of models) m.autoscaler?.start();
    // DNS-discovered backends join the (started, empty) pools: the first resolution and their probes, then a refresh timer.
    await Promise.all(models.map((m) => m.discovery?.start()));
  }

  resolve(name: string): ServedModel | undefined {
    return this.byName.get(name);
  }

  /**
   * Whether a per-key model list (config `auth.keys[].models`) lets a caller use
   * `name`. A model's names (canonical and plain aliases) are interchangeable:
   * listing any one of them allows all of them. A bot is allowed by its own
   * name or by any name of the model it runs on. An adapter alias is a model
   * of its own (other weights): only its own name allows it. No list = all.
   *
   * @example
   * ```ts
   * registry.allows(["default"], "tiny"); // true when `default` is an alias of `tiny`
   * ```
   */
  allows(allowed: readonly string[] | undefined, name: string): boolean {
    if (allowed === undefined || allowed.includes(name)) return true;
    const bot = this.bots.get(name);
    const target = this.byName.get(bot ? bot.model : name);
    if (target === undefined) return false;
    return allowed.some((listed) => !this.bots.has(listed) && this.byName.get(listed) === target);
  }

  /** Every name and alias, for /v1/models. */
  get names(): Array<{ id: string; model: ServedModel }> {
    return [...this.byName.entries()].map(([id, model]) => ({ id, model }));
  }

  /** Ready when every configured model has at least one ready shard. */
  get ready(): boolean {
    return this.models.every((m) => m.pool.ready);
  }

  snapshot(): PoolSnapshot[] {
    return this.models.map((m) => (m.base === undefined ? m.pool.snapshot() : { ...m.pool.snapshot(), base: m.base }));
  }

  /** Models of this registry whose pools `successor` does not keep (a reload replaced or removed them). */
  replacedBy(successor: ModelRegistry): ServedModel[] {
    const kept = new Set(successor.models.map((m) => m.pool));
    return this.models.filter((m) => !kept.has(m.pool));
  }

  /**
   * After a reload switched to `successor` and this registry's requests drained: disposes the models
   * `successor` does not keep, each through its own idempotent disposals (discovery, autoscaler, pool
   * and its shards). The shared budget and the kept pools stay (they are `successor`'s now).
   */
  async retire(successor: ModelRegistry): Promise<void> {
    await disposeModels(this.replacedBy(successor));
  }

  /**
   * Disposes these models (discovery, autoscaler, pool and its shards, each idempotent) whatever registry
   * serves them: for a caller that counts which registries still hold a pool (config generations, see
   * `Holders`), since {@link retire} only compares two registries.
   */
  static disposeModels(models: readonly ServedModel[]): Promise<void> {
    return disposeModels([...models]);
  }

  /** Stops discoveries and autoscalers, then disposes pools in parallel; each disposes its shards (contexts, models, llama). Idempotent. */
  dispose(): Promise<void> {
    this.budget.dispose();
    return (this.disposing ??= disposeModels(this.models));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
