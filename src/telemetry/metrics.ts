/**
 * Prometheus metrics on a registry of our own (never prom-client's global one,
 * so two gateways in one process — tests — never collide).
 *
 * Event metrics (latencies, token counts, HTTP requests) are observed by the
 * code that sees the event; state metrics (running/waiting requests, slots,
 * breakers, restarts, cache size) are read from the pools' {@link PoolSnapshot}
 * and the response cache at scrape time, so they can never drift from the truth.
 *
 * Labels are bounded by configuration: `model`, `shard`, `operation`, `route`
 * (the route pattern), `status_class` (`2xx`…`5xx`), cache `result`. Never a
 * request id, a raw path, a tenant or a key.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Hono, type MiddlewareHandler } from "hono";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { CacheCounters, CacheStoreStats } from "../cache/index.js";
import { errorBody, unauthorized } from "../errors.js";
import type { BreakerState, PoolSnapshot } from "../router/index.js";
import { routePattern, statusClass } from "./http.js";
import { listen } from "../util/listen.js";

/** What the cache collector needs; a `ResponseCache` satisfies it as is. */
export interface CacheMetricsSource {
  counters(): CacheCounters;
  stats(): CacheStoreStats;
}

export interface CreateMetricsOptions {
  /** Every pool's snapshot, e.g. `() => registry.snapshot()`. */
  pools?: () => readonly PoolSnapshot[];
  /** The response cache, when there is one. */
  cache?: CacheMetricsSource;
  /** Also export prom-client's process and Node.js metrics (CPU, memory, event loop). Default true. */
  defaultMetrics?: boolean;
}

/** `gen_ai.operation.name` values, as a label. */
export type OperationLabel = "chat" | "text_completion" | "embeddings";

export interface GenerationObservation {
  model: string;
  operation?: OperationLabel;
  /** Arrival at the pool to the last token (or the error). */
  durationMs: number;
  promptTokens: number;
  completionTokens: number;
  /** First token to last: with `completionTokens` it gives the time per output token. */
  decodeMs: number;
}

export interface EmbeddingObservation {
  model: string;
  durationMs: number;
  tokens: number;
}

export interface HttpObservation {
  /** The route pattern (`/v1/models/:id`), never the raw path. */
  route: string;
  status: number;
  durationMs: number;
}

/** The gateway's metrics: typed observers for events, collectors for state. */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Prometheus text exposition content type. */
  readonly contentType: string;
  /** Time a request waited in the model's queue for a slot. */
  observeQueueWait(model: string, ms: number): void;
  /** Arrival at the pool (queue included) to the first generated token: what a streaming client feels. */
  observeTimeToFirstToken(model: string, ms: number): void;
  /** A completed generation: request duration, tokens, time per output token. */
  observeGeneration(o: GenerationObservation): void;
  observeEmbedding(o: EmbeddingObservation): void;
  observeRetrieval(ms: number): void;
  /** A shard autoscaling decision (config `models[].autoscale`). */
  observeScaling(o: { model: string; direction: "up" | "down" }): void;
  observeHttp(o: HttpObservation): void;
  /** Completion tokens generated since start, all models (for a tokens/s readout). */
  completionTokensTotal(): Promise<number>;
  /** The exposition text, as served on `/metrics`. */
  metricsText(): Promise<string>;
}

/** Buckets in seconds. LLM latencies span four orders of magnitude: dense low, sparse high. */
export const BUCKETS = {
  timeToFirstToken: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80],
  timePerOutputToken: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5],
  requestDuration: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600],
  queueWait: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  retrieval: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  http: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
} as const;

/** `switchyard_shard_breaker_state` values. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

const seconds = (ms: number) => Math.max(0, ms) / 1000;

/**
 * @example
 * ```ts
 * const metrics = createMetrics({ pools: () => registry.snapshot(), cache: responseCache });
 * metrics.observeTimeToFirstToken("tiny", 42);
 * const text = await metrics.metricsText();
 * ```
 */
export function createMetrics({ pools = () => [], cache, defaultMetrics = true }: CreateMetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  // One snapshot per scrape, shared by every pool collector.
  let scrape: readonly PoolSnapshot[] | undefined;
  const snapshots = () => scrape ?? pools();

  const ttft = new Histogram({
    name: "switchyard_time_to_first_token_seconds",
    help: "Arrival at the model's queue to the first generated token.",
    labelNames: ["model"] as const,
    buckets: [...BUCKETS.timeToFirstToken],
    registers,
  });
  const tpot = new Histogram({
    name: "switchyard_time_per_output_token_seconds",
    help: "Decode time per output token after the first, per request.",
    labelNames: ["model"] as const,
    buckets: [...BUCKETS.timePerOutputToken],
    registers,
  });
  const duration = new Histogram({
    name: "switchyard_request_duration_seconds",
    help: "Model request duration: arrival at the pool to the last token (generations) or the vectors (embeddings).",
    labelNames: ["model", "operation"] as const,
    buckets: [...BUCKETS.requestDuration],
    registers,
  });
  const promptTokens = new Counter({
    name: "switchyard_prompt_tokens_total",
    help: "Prompt (input) tokens processed, embeddings included.",
    labelNames: ["model"] as const,
    registers,
  });
  const completionTokens = new Counter({
    name: "switchyard_completion_tokens_total",
    help: "Completion (output) tokens generated.",
    labelNames: ["model"] as const,
    registers,
  });
  const queueWait = new Histogram({
    name: "switchyard_queue_wait_seconds",
    help: "Time a request waited for a free slot.",
    labelNames: ["model"] as const,
    buckets: [...BUCKETS.queueWait],
    registers,
  });
  new Gauge({
    name: "switchyard_requests_running",
    help: "Generations holding a slot now.",
    labelNames: ["model"] as const,
    registers,
    collect() {
      this.reset();
      for (const p of snapshots()) this.set({ model: p.model }, p.running);
    },
  });
  new Gauge({
    name: "switchyard_requests_waiting",
    help: "Generations queued for a slot now.",
    labelNames: ["model"] as const,
    registers,
    collect() {
      this.reset();
      for (const p of snapshots()) this.set({ model: p.model }, p.waiting);
    },
  });
  // The model-server protocol of the Kubernetes Gateway API Inference Extension, in vLLM's names, so an
  // endpoint picker can route to a shard host: one series per served model (`model_name`, as vLLM labels it),
  // an adapter alias's shards counted with the model they adapt (vLLM serves LoRA requests in the base engine).
  // Local shards only: a remote upstream exports its own.
  const served = () => {
    const byModel = new Map<string, PoolSnapshot[]>();
    for (const p of snapshots()) {
      if (!p.shards.some((s) => s.kind === "local")) continue;
      const model = p.base ?? p.model;
      byModel.set(model, [...(byModel.get(model) ?? []), p]);
    }
    return byModel;
  };
  const perServedModel = (pick: (pools: PoolSnapshot[]) => number) =>
    function collect(this: Gauge<"model_name">) {
      this.reset();
      for (const [model, pools] of served()) this.set({ model_name: model }, pick(pools));
    };
  const sum = (pools: PoolSnapshot[], of: (p: PoolSnapshot) => number) => pools.reduce((n, p) => n + of(p), 0);
  /** KV cells held by running generations over all cells of the model's ready shards (0 when none reported). */
  const kvUsage = (pools: PoolSnapshot[]) => {
    let used = 0;
    let total = 0;
    for (const s of pools.flatMap((p) => p.shards)) {
      used += s.kvCells?.used ?? 0;
      total += s.kvCells?.total ?? 0;
    }
    return total > 0 ? Math.min(1, used / total) : 0;
  };
  new Gauge({
    name: "vllm:num_requests_waiting",
    help: "Inference Extension TotalQueuedRequests: generations queued for a slot now (same as switchyard_requests_waiting).",
    labelNames: ["model_name"] as const,
    registers,
    collect: perServedModel((pools) => sum(pools, (p) => p.waiting)),
  });
  new Gauge({
    name: "vllm:num_requests_running",
    help: "Inference Extension TotalRunningRequests: generations holding a slot now (same as switchyard_requests_running).",
    labelNames: ["model_name"] as const,
    registers,
    collect: perServedModel((pools) => sum(pools, (p) => p.running)),
  });
  for (const [name, deprecated] of [
    ["vllm:kv_cache_usage_perc", ""],
    ["vllm:gpu_cache_usage_perc", " Older name of vllm:kv_cache_usage_perc, read by earlier endpoint pickers."],
  ] as const) {
    new Gauge({
      name,
      help: `Inference Extension KVCacheUtilization: KV cache cells held by running generations over slots x context per slot of the ready local shards; 1 means 100 percent.${deprecated}`,
      labelNames: ["model_name"] as const,
      registers,
      collect: perServedModel(kvUsage),
    });
  }
  new Gauge({
    name: "vllm:lora_requests_info",
    help: "Inference Extension LoRA adapters per served model: max_lora = its adapter aliases, running_lora_adapters = those with a ready shard, waiting_lora_adapters = those with requests waiting and no ready shard; the value is the scrape time (s).",
    labelNames: ["max_lora", "running_lora_adapters", "waiting_lora_adapters"] as const,
    registers,
    collect() {
      this.reset();
      const now = Date.now() / 1000;
      for (const pools of served().values()) {
        const aliases = pools.filter((p) => p.base !== undefined);
        if (aliases.length === 0) continue;
        const ready = (p: PoolSnapshot) => p.shards.some((s) => s.state === "ready");
        this.set(
          {
            max_lora: String(aliases.length),
            running_lora_adapters: aliases.filter(ready).map((p) => p.model).join(","),
            waiting_lora_adapters: aliases.filter((p) => !ready(p) && p.waiting > 0).map((p) => p.model).join(","),
          },
          now,
        );
      }
    },
  });
  const perShard = (fn: (g: Gauge<"model" | "shard">, p: PoolSnapshot, s: PoolSnapshot["shards"][number]) => void) =>
    function collect(this: Gauge<"model" | "shard">) {
      this.reset();
      for (const p of snapshots()) for (const s of p.shards) fn(this, p, s);
    };
  new Gauge({
    name: "switchyard_shard_slots_busy",
    help: "Slots generating now, per shard.",
    labelNames: ["model", "shard"] as const,
    registers,
    collect: perShard((g, p, s) => g.set({ model: p.model, shard: s.id }, s.slotsBusy)),
  });
  new Gauge({
    name: "switchyard_shard_slots_total",
    help: "Slots per shard.",
    labelNames: ["model", "shard"] as const,
    registers,
    collect: perShard((g, p, s) => g.set({ model: p.model, shard: s.id }, s.slotsTotal)),
  });
  new Gauge({
    name: "switchyard_shard_breaker_state",
    help: "Circuit breaker per shard: 0 closed, 1 half-open, 2 open.",
    labelNames: ["model", "shard"] as const,
    registers,
    collect: perShard((g, p, s) => g.set({ model: p.model, shard: s.id }, BREAKER_STATE_VALUE[s.breaker])),
  });
  new Gauge({
    name: "switchyard_model_shards",
    help: "Shards in the model's pool (draining ones excluded): follows the autoscaler.",
    labelNames: ["model"] as const,
    registers,
    collect() {
      this.reset();
      for (const p of snapshots()) this.set({ model: p.model }, p.shards.filter((s) => s.draining !== true).length);
    },
  });
  const scalingDecisions = new Counter({
    name: "switchyard_shard_scaling_total",
    help: "Shard autoscaling decisions by direction (up: added on a sustained queue; down: an idle added shard drained and removed).",
    labelNames: ["model", "direction"] as const,
    registers,
  });
  new Gauge({
    name: "switchyard_shard_ready",
    help: "1 when the shard can take work.",
    labelNames: ["model", "shard"] as const,
    registers,
    collect: perShard((g, p, s) => g.set({ model: p.model, shard: s.id }, s.state === "ready" ? 1 : 0)),
  });
  new Gauge({
    name: "switchyard_shard_unhealthy",
    help: "1 while the shard process misses its heartbeat (out of rotation; restarted after the grace period).",
    labelNames: ["model", "shard"] as const,
    registers,
    collect: perShard((g, p, s) => g.set({ model: p.model, shard: s.id }, s.state === "unhealthy" ? 1 : 0)),
  });
  new Counter({
    name: "switchyard_shard_restarts_total",
    help: "Shard process restarts after a crash.",
    labelNames: ["model", "shard"] as const,
    registers,
    collect() {
      // The shards count their own restarts; mirror the monotonic count.
      this.reset();
      for (const p of snapshots()) for (const s of p.shards) this.inc({ model: p.model, shard: s.id }, s.restarts);
    },
  });

  const cacheCounter = (name: string, help: string, pick: (c: CacheCounters) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        if (!cache) return;
        this.reset();
        this.inc(pick(cache.counters()));
      },
    });
  new Counter({
    name: "switchyard_cache_lookups_total",
    help: "Response cache lookups by result (hit, miss, bypass = not consulted).",
    labelNames: ["result"] as const,
    registers,
    collect() {
      if (!cache) return;
      const c = cache.counters();
      this.reset();
      this.inc({ result: "hit" }, c.hit);
      this.inc({ result: "miss" }, c.miss);
      this.inc({ result: "bypass" }, c.bypass);
    },
  });
  cacheCounter("switchyard_cache_coalesced_total", "Requests that joined an identical in-flight generation.", (c) => c.coalesced);
  cacheCounter("switchyard_cache_stored_total", "Answers written to the response cache.", (c) => c.stored);
  cacheCounter("switchyard_cache_errors_total", "Response cache store failures (served as misses).", (c) => c.errors);
  const cacheStat = (name: string, help: string, pick: (s: CacheStoreStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        if (cache) this.set(pick(cache.stats()));
      },
    });
  cacheStat("switchyard_cache_entries", "Entries in the response cache.", (s) => s.entries);
  cacheStat("switchyard_cache_bytes", "Estimated bytes held by the response cache.", (s) => s.bytes);
  cacheStat("switchyard_cache_max_bytes", "Response cache budget in bytes.", (s) => s.maxBytes);
  new Counter({
    name: "switchyard_cache_evictions_total",
    help: "Entries evicted to make room (not expiries).",
    registers,
    collect() {
      if (!cache) return;
      this.reset();
      this.inc(cache.stats().evictions);
    },
  });

  const retrieval = new Histogram({
    name: "switchyard_retrieval_duration_seconds",
    help: "Retrieval (embed + hybrid search) latency.",
    buckets: [...BUCKETS.retrieval],
    registers,
  });
  const httpRequests = new Counter({
    name: "switchyard_http_requests_total",
    help: "HTTP requests by route pattern and status class.",
    labelNames: ["route", "status_class"] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: "switchyard_http_request_duration_seconds",
    help: "HTTP handling time until the response starts, by route pattern.",
    labelNames: ["route"] as const,
    buckets: [...BUCKETS.http],
    registers,
  });

  return {
    registry,
    contentType: registry.contentType,
    observeQueueWait: (model, ms) => queueWait.observe({ model }, seconds(ms)),
    observeTimeToFirstToken: (model, ms) => ttft.observe({ model }, seconds(ms)),
    observeGeneration({ model, operation = "chat", durationMs, promptTokens: prompt, completionTokens: completion, decodeMs }) {
      duration.observe({ model, operation }, seconds(durationMs));
      promptTokens.inc({ model }, prompt);
      completionTokens.inc({ model }, completion);
      // The first token's time is TTFT; the rest share the decode time.
      if (completion > 1) tpot.observe({ model }, seconds(decodeMs) / (completion - 1));
    },
    observeEmbedding({ model, durationMs, tokens }) {
      duration.observe({ model, operation: "embeddings" }, seconds(durationMs));
      promptTokens.inc({ model }, tokens);
    },
    observeRetrieval: (ms) => retrieval.observe(seconds(ms)),
    observeScaling: ({ model, direction }) => scalingDecisions.inc({ model, direction }),
    observeHttp({ route, status, durationMs }) {
      httpRequests.inc({ route, status_class: statusClass(status) });
      httpDuration.observe({ route }, seconds(durationMs));
    },
    async completionTokensTotal() {
      const { values } = await completionTokens.get();
      return values.reduce((n, v) => n + v.value, 0);
    },
    async metricsText() {
      scrape = pools();
      try {
        return await registry.metrics();
      } finally {
        scrape = undefined;
      }
    },
  };
}

export interface HttpMetricsOptions {
  metrics: GatewayMetrics;
}

/**
 * Hono middleware counting requests by route pattern and status class.
 *
 * @example
 * ```ts
 * app.use(httpMetrics({ metrics }));
 * ```
 */
export function httpMetrics({ metrics }: HttpMetricsOptions): MiddlewareHandler {
  return async function httpMetricsMiddleware(c, next) {
    const started = performance.now();
    await next();
    metrics.observeHttp({ route: routePattern(c), status: c.res.status, durationMs: performance.now() - started });
  };
}

export interface MetricsRouteOptions {
  metrics: GatewayMetrics;
  /** Require `Authorization: Bearer <key>` (config `telemetry.metricsKey`). */
  key?: string;
  /**
   * Also admit a bearer this accepts (the gateway passes its admin API keys).
   * With `authorize` set a bearer is always required: `key` or one it accepts.
   * Neither set = open.
   */
  authorize?: (bearer: string) => boolean;
  /** Default `/metrics`. */
  path?: string;
}

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest();

/**
 * `GET /metrics` in the Prometheus text format, optionally behind a bearer key
 * (compared in constant time). Errors are answered here, so the route works on
 * a bare app too (the separate metrics port).
 *
 * @example
 * ```ts
 * app.route("/", metricsRoute({ metrics, key: config.telemetry.metricsKey }));
 * ```
 */
export function metricsRoute({ metrics, key, authorize, path = "/metrics" }: MetricsRouteOptions): Hono {
  const app = new Hono();
  const expected = key === undefined ? undefined : sha256(key);
  const admits = (presented: string) => (expected !== undefined && timingSafeEqual(sha256(presented), expected)) || authorize?.(presented) === true;
  app.get(path, async function serveMetrics(c) {
    if (expected || authorize) {
      const presented = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim();
      if (!presented || !admits(presented)) {
        const err = unauthorized(authorize ? "An admin API key or the metrics key is required for /metrics." : "A valid bearer key is required for /metrics.");
        return c.json(errorBody(err), 401, err.headers);
      }
    }
    return c.body(await metrics.metricsText(), 200, { "content-type": metrics.contentType, "cache-control": "no-store" });
  });
  return app;
}

export interface ServeMetricsOptions extends MetricsRouteOptions {
  /** Config `telemetry.metricsPort`; 0 picks an ephemeral port. */
  port: number;
  hostname?: string;
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` on its own listener, so it can be firewalled apart from the API.
 *
 * @example
 * ```ts
 * if (config.telemetry.metricsPort > 0) {
 *   const ms = await serveMetrics({ metrics, port: config.telemetry.metricsPort, hostname: config.server.host });
 * }
 * ```
 */
export async function serveMetrics({ port, hostname = "127.0.0.1", ...route }: ServeMetricsOptions): Promise<MetricsServer> {
  const app = metricsRoute(route);
  const { url, close } = await listen({ fetch: app.fetch, port, hostname });
  return { url, close };
}
