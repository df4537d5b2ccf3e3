/**
 * The configuration schema. Every knob has a default here, so an empty file is a
 * valid config; `config/default.yaml` documents them for humans.
 */
import { z } from "zod";
import { PII_ENTITY_TYPES } from "../guardrails/types.js";

const positiveInt = z.number().int().positive();
const modelName = z.string().min(1).regex(/^[\w.:\-/]+$/, "letters, digits and . _ : - / only");

/** A LoRA adapter a model offers to its aliases. */
export const adapterSchema = z.object({
  /** Referred to by aliases' `adapters`. */
  name: modelName,
  /** A local LoRA GGUF, an `hf:` URI (downloaded into `modelsDir` like models), or `tiny` (the generated tiny model's adapter). */
  file: z.string().min(1),
  /** Default scale (llama.cpp also multiplies by the adapter's `alpha / rank`); an alias may override it. */
  scale: z.number().min(-100).max(100).default(1),
});

/** `support-lora`, `support-lora@0.5` or `{ name, scale }`: an adapter an alias applies, with an optional scale. */
const adapterRefSchema = z.union([
  // Checked in the model's refinement, so a bad string names its own key (a failed union would not).
  z
    .string()
    .min(1)
    .transform((ref) => {
      const at = ref.lastIndexOf("@");
      return at < 0 ? { name: ref } : { name: ref.slice(0, at), scale: /^-?\d+(\.\d+)?$/.test(ref.slice(at + 1)) ? Number(ref.slice(at + 1)) : Number.NaN };
    }),
  z.object({ name: modelName, scale: z.number().min(-100).max(100).optional() }),
]);

/**
 * An alias that applies LoRA adapters to its base model (`support-ft = qwen2.5 + support-lora@1.0`).
 * node-llama-cpp binds adapters to a context, so such an alias is served by shards of its own
 * (the base weights are memory-mapped, so the page cache holds them once on CPU; see README).
 */
export const adapterAliasSchema = z.object({
  name: modelName,
  adapters: z.array(adapterRefSchema).min(1, "an adapter alias needs at least one adapter (use a plain string alias otherwise)"),
  /** Processes serving this alias. Default 1. */
  shards: positiveInt.default(1),
});

export const modelSchema = z
  .object({
    /** Name clients use in `model`. */
    name: modelName,
    /**
     * Other names for this model: a plain string shares the model's shards; an object
     * `{ name, adapters }` applies LoRA adapters from `adapters` on shards of its own.
     */
    aliases: z.array(z.union([z.string().min(1), adapterAliasSchema])).default([]),
    /** LoRA adapters this model's aliases may apply (local model files only). */
    adapters: z.array(adapterSchema).default([]),
    /**
     * A local GGUF path (relative to the working directory), an `hf:` URI
     * (downloaded into `modelsDir` when online), or `tiny` for the generated test model.
     */
    file: z.string().min(1).optional(),
    /**
     * OpenAI-compatible upstream base URL (`http://host:port/v1`): the shards are remote.
     * `dns+http://shards.svc:8080/v1` resolves every address of the name (a headless Service) into one
     * remote backend each, re-resolved every `discoveryRefreshMs` (new addresses join, gone ones drain).
     */
    upstream: z.url().refine((u) => /^(dns\+)?https?:\/\//.test(u), "expected http://, https://, dns+http:// or dns+https://").optional(),
    /** `dns+` upstreams only: how often the name is resolved again (ms). */
    discoveryRefreshMs: positiveInt.default(5000),
    /** Model name to send upstream; defaults to `name`. */
    upstreamModel: z.string().optional(),
    upstreamApiKey: z.string().optional(),
    /**
     * Upstream models only: concurrent requests per remote shard (its capacity
     * in the pool; `slots` is for local shards). High by default: the upstream
     * batches, and the queue's admission and the breaker protect it.
     */
    maxConcurrency: positiveInt.default(256),
    /** Upstream models only: keep-alive connections per remote shard (undici Pool); more requests wait for one. */
    maxConnections: positiveInt.default(64),
    shards: positiveInt.default(1),
    /**
     * Local models: scale the shard count with load, from `shards` (started at boot, never removed) up to
     * `maxShards`. A shard is added when more than `queueDepth` requests per ready shard have waited for
     * `upAfterMs` and the host has the cores and memory for it; an added shard idle for `idleMs` is drained
     * (running requests finish) and removed. Absent = a fixed `shards`.
     */
    autoscale: z
      .object({
        maxShards: positiveInt,
        queueDepth: positiveInt.default(2),
        upAfterMs: positiveInt.default(5_000),
        idleMs: positiveInt.default(60_000),
        intervalMs: positiveInt.default(500),
      })
      .optional(),
    slots: positiveInt.default(4),
    /** Tokens of context per slot. */
    contextSize: positiveInt.default(2048),
    gpuLayers: z.union([z.literal("auto"), z.literal("max"), z.number().int().nonnegative()]).default("auto"),
    gpu: z.union([z.literal("auto"), z.literal("cuda"), z.literal("vulkan"), z.literal("metal"), z.literal(false)]).default("auto"),
    /** llama.cpp threads per shard; `auto` splits the machine's cores across all local shards. */
    threads: z.union([z.literal("auto"), positiveInt]).default("auto"),
    chatWrapper: z.enum(["auto", "general", "chatml", "llama2"]).default("auto"),
    /**
     * What to serve when an `hf:`/URL `file` is not on disk and cannot be downloaded: `none` (default) fails
     * startup naming the model; `tiny` serves the generated tiny model with a loud warning (the shipped default
     * config opts in, so a fresh clone with no network still starts). A local path that does not exist always
     * fails startup.
     */
    fallback: z.enum(["none", "tiny"]).default("none"),
    /**
     * Local models: `startup` (default) starts the shards with the gateway; `on-demand` starts none until
     * the first request, which waits in the queue while the model loads (progress in logs and /v1/status).
     * Adapter aliases follow their model. See `loading` for the host-wide limit.
     */
    load: z.enum(["startup", "on-demand"]).default("startup"),
    /** Local models: stop the shards after this long with no request (none running or waiting); 0 = never. */
    idleUnloadMs: z.number().int().nonnegative().default(0),
  })
  .refine((m) => m.file !== undefined || m.upstream !== undefined, { message: "a model needs `file` or `upstream`" })
  .superRefine((m, ctx) => {
    if (m.upstream !== undefined && (m.load !== "startup" || m.idleUnloadMs > 0)) {
      ctx.addIssue({ code: "custom", path: [m.load !== "startup" ? "load" : "idleUnloadMs"], message: "on-demand loading applies to local models only (an upstream is always loaded)" });
    }
    if (m.autoscale !== undefined && m.upstream !== undefined) {
      ctx.addIssue({ code: "custom", path: ["autoscale"], message: "autoscale applies to local models only (a remote upstream scales itself)" });
    }
    if (m.autoscale !== undefined && m.load === "on-demand") {
      ctx.addIssue({ code: "custom", path: ["autoscale"], message: "autoscale needs load: startup (an on-demand model's shards come and go with its loading)" });
    }
    if (m.autoscale !== undefined && m.autoscale.maxShards < m.shards) {
      ctx.addIssue({ code: "custom", path: ["autoscale", "maxShards"], message: `maxShards must be at least shards (${m.shards})` });
    }
    if (m.upstream !== undefined && m.adapters.length > 0) {
      ctx.addIssue({ code: "custom", path: ["adapters"], message: "adapters apply to local models only (an upstream serves its own)" });
    }
    const offered = new Set(m.adapters.map((a) => a.name));
    m.aliases.forEach((alias, i) => {
      if (typeof alias === "string") return;
      alias.adapters.forEach((ref, j) => {
        if (Number.isNaN(ref.scale) || (ref.scale !== undefined && Math.abs(ref.scale) > 100)) {
          ctx.addIssue({ code: "custom", path: ["aliases", i, "adapters", j], message: "expected an adapter name, optionally with @scale (e.g. support-lora@0.5, |scale| <= 100)" });
        } else if (!offered.has(ref.name)) {
          ctx.addIssue({ code: "custom", path: ["aliases", i, "adapters", j], message: `no adapter named '${ref.name}' in this model's adapters` });
        }
      });
    });
  });

/** `rag.fusion`: see src/rag/fusion.ts. */
export const fusionSchema = z.object({
  method: z.enum(["convex", "rrf"]).default("convex"),
  /**
   * Share of the vector ranking (0 = full-text only, 1 = vector only). Unless it is 0, the prior of the
   * per-collection calibration (src/rag/vector-gate.ts), which picks the weight actually used.
   */
  vectorWeight: z.number().min(0).max(1).default(0.5),
  /** Calibrate the vector weight per collection from its own pseudo-queries (false: use `vectorWeight` as is). */
  calibrate: z.boolean().default(true),
  /**
   * With calibration: the share of the full-text ranking's MRR@10 on those pseudo-queries that the vector
   * ranking must reach to be fused at all (below it the vector weight is 0). 0 turns this gate off. Unset:
   * 0.9 with the offline embedder (measured on it, BENCHMARKS.md "Retrieval"), 0 with `rag.embeddingModel`,
   * whose meaning the verbatim pseudo-queries cannot show.
   */
  relativeGate: z.number().min(0).max(1).optional(),
});

/**
 * `rag.collections.<name>.fusion`: the keys set here override `rag.fusion` for that collection. No defaults
 * (zod's `.partial()` keeps them, which made `{ vectorWeight: 0.7 }` also reset the global method).
 */
const fusionOverrideSchema = z.object({
  method: z.enum(["convex", "rrf"]).optional(),
  vectorWeight: z.number().min(0).max(1).optional(),
  calibrate: z.boolean().optional(),
  relativeGate: z.number().min(0).max(1).optional(),
});

/**
 * A PII policy override for one key or one bot: each field set here tightens the
 * server-wide `guardrails.pii` (see `effectivePiiPolicy`: the strictest level wins).
 */
export const piiOverrideSchema = z
  .object({
    /** `redact`: typed placeholders before shards, cache, retrieval, logs, traces; `block`: 400 naming the types; `off`. */
    mode: z.enum(["redact", "block", "off"]).optional(),
    entities: z.array(z.enum(PII_ENTITY_TYPES)).optional(),
    /** Map the caller's own placeholders in the answer back for that caller. */
    restore: z.boolean().optional(),
  })
  .strict();

/** Semantic-cache settings for one key or one bot (each field overrides the server-wide `cache.semantic`). */
export const semanticOverrideSchema = z
  .object({
    enabled: z.boolean().optional(),
    threshold: z.number().gt(0).max(1).optional(),
    ttlMs: positiveInt.optional(),
    allowSampled: z.boolean().optional(),
  })
  .strict();

/** What a key or a bot may set besides its own fields. */
const policyOverrides = {
  guardrails: z.object({ pii: piiOverrideSchema.optional() }).strict().optional(),
  cache: z.object({ semantic: semanticOverrideSchema.optional() }).strict().optional(),
};

export const botSchema = z.object({
  name: z.string().min(1).regex(/^[\w.:\-/]+$/, "letters, digits and . _ : - / only"),
  /** The configured model (name or alias) that answers. */
  model: z.string().min(1),
  collection: z.string().min(1),
  topK: positiveInt.max(50).default(4),
  systemPrompt: z.string().optional(),
  ...policyOverrides,
});

export const configSchema = z.object({
  server: z
    .object({
      host: z.string().default("127.0.0.1"),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Request bodies above this are refused with 413 before they are read whole. */
      bodyLimitBytes: positiveInt.default(1024 * 1024),
      /** Deepest nesting (objects and arrays) of a JSON request body; deeper is a 400 naming the parameter. */
      maxJsonDepth: positiveInt.max(10_000).default(128),
      /**
       * Graceful shutdown: how long running requests may continue after SIGTERM (readiness and new requests
       * answer 503 meanwhile); then streams end with their API's error event and queued requests get 503 + Retry-After.
       */
      drainTimeoutMs: positiveInt.default(30_000),
      /** CORS allowed origins; empty = CORS off. */
      corsOrigins: z.array(z.string()).default([]),
      /**
       * Watch the config file and apply it when it changes, as SIGHUP and `POST /v1/admin/reload` do
       * (keys, limits, bots, cache, retrieval, models; see README "Operating many models"). Opt-in.
       */
      watchConfig: z.boolean().default(false),
    })
    .prefault({}),
  /** Where LanceDB tables and generated models live. */
  dataDir: z.string().default("./data"),
  /** Where `hf:` models are downloaded to. */
  modelsDir: z.string().default("./models"),
  /** The model used when `SWITCHYARD_MODEL` etc. say "the default model"; first model when unset. */
  defaultModel: z.string().optional(),
  models: z.array(modelSchema).min(1, "at least one model must be configured"),
  /**
   * Bots: model names that ground every chat in a collection (e.g. `support-bot`),
   * served by an existing model's shards.
   */
  bots: z.array(botSchema).default([]),
  /**
   * Host-wide room for loaded local models (each adapter alias counts as a model: it has shards of its
   * own). Loading one more evicts the least recently used idle model (nothing running or waiting); with
   * none idle the load waits in the queue. Models with `load: startup` must fit at startup.
   */
  loading: z
    .object({
      /** Models loaded at once; 0 = no limit. */
      maxLoadedModels: z.number().int().nonnegative().default(0),
      /** Estimated bytes of loaded models (file size × shard processes); 0 = no limit. A model larger than this alone still loads. */
      maxLoadedBytes: z.number().int().nonnegative().default(0),
    })
    .prefault({}),
  limits: z
    .object({
      maxMessages: positiveInt.default(256),
      maxTokensCap: positiveInt.default(4096),
      defaultMaxTokens: positiveInt.default(256),
      maxStop: positiveInt.max(16).default(4),
      /** Largest `n` (choices per request); each choice takes its own slot. */
      maxN: positiveInt.max(16).default(4),
      maxEmbeddingInputs: positiveInt.default(256),
      /** Per-request deadline (ms) and the cap on a client's `timeout` extension. */
      requestTimeoutMs: positiveInt.default(120_000),
      maxRequestTimeoutMs: positiveInt.default(600_000),
      /**
       * The window (ms) of the per-key `requestsPerMinute` and `tokensPerMinute`: a sliding window log,
       * so no window of this length admits more than the limit. Keep 60 000 (tests shorten it).
       */
      rateWindowMs: positiveInt.default(60_000),
    })
    .prefault({}),
  queue: z
    .object({
      /** Requests waiting per model before 503 `server_is_overloaded`. */
      maxDepth: z.number().int().nonnegative().default(64),
      /** Longest wait for a slot before 503. */
      maxWaitMs: positiveInt.default(30_000),
      /**
       * Slot headroom between tenants: while another tenant that holds no slot has been active on a model
       * (a request queued, or one that arrived or ended within `activeWindowMs`), a tenant already running a
       * request may not take the last `reserveSlots` free slots of the model's pool (counted across its shards;
       * at most the pool's slots minus one, so a one-slot pool reserves none). A tenant with no running request
       * may always take a free slot, and a tenant alone keeps every slot. Priorities do not lift it. 0 = off.
       */
      reserveSlots: z.number().int().nonnegative().default(1),
      /** How long after its last request arrived or ended a tenant still counts as active for `reserveSlots`. */
      activeWindowMs: positiveInt.default(1_000),
    })
    .prefault({}),
  breaker: z
    .object({
      /** Admission through first token must take less than this. */
      timeoutMs: positiveInt.default(30_000),
      errorThresholdPercentage: z.number().min(1).max(100).default(50),
      volumeThreshold: positiveInt.default(5),
      rollingCountTimeoutMs: positiveInt.default(10_000),
      resetTimeoutMs: positiveInt.default(10_000),
    })
    .prefault({}),
  /** Parent-side deadlines for every call into a shard process, and the supervisor that restarts a stalled one. */
  health: z
    .object({
      /** A heartbeat goes to each shard process this often (0 = off). */
      heartbeatIntervalMs: z.number().int().nonnegative().default(1_000),
      /** No heartbeat answer for this long: the shard is unhealthy, out of rotation, reported by /readyz and metrics. */
      heartbeatTimeoutMs: positiveInt.default(5_000),
      /** A shard that does not confirm an aborted generation within this long is unhealthy too. */
      abortConfirmMs: positiveInt.default(5_000),
      /** Deadline of a token count or embedding call into a shard. */
      callTimeoutMs: positiveInt.default(30_000),
      /** An unhealthy shard that has not recovered after this long is killed and restarted. */
      unhealthyGraceMs: positiveInt.default(10_000),
    })
    .prefault({}),
  retry: z
    .object({
      /** Extra attempts on another shard before the first token (the gateway's one retry loop). */
      attempts: z.number().int().min(0).max(3).default(1),
      /** Retries allowed as a fraction of recent requests, so an outage is not amplified. */
      budgetRatio: z.number().min(0).max(1).default(0.2),
      /** Restart backoff for crashed shards. */
      restartBackoffMs: positiveInt.default(500),
      restartBackoffMaxMs: positiveInt.default(30_000),
    })
    .prefault({}),
  cache: z
    .object({
      enabled: z.boolean().default(true),
      maxBytes: positiveInt.default(64 * 1024 * 1024),
      ttlMs: positiveInt.default(10 * 60_000),
      /**
       * Semantic cache: a single-turn question close enough (cosine ≥ threshold) to one already answered in
       * the same tenant, model, system prompt, parameters and collection version gets that answer. Opt-in;
       * keys and bots may override each field (`auth.keys[].cache.semantic`, `bots[].cache.semantic`).
       */
      semantic: z
        .object({
          enabled: z.boolean().default(false),
          /** Least cosine similarity for a hit. 0.8 kept false hits under 1% on the Bitext eval with the offline embedder. */
          threshold: z.number().gt(0).max(1).default(0.8),
          ttlMs: positiveInt.default(10 * 60_000),
          /** Also serve sampled (non-deterministic) requests. */
          allowSampled: z.boolean().default(false),
          /** Questions kept per scope (tenant × model × system prompt × parameters). */
          maxEntriesPerScope: positiveInt.default(1000),
          /**
           * `hashing` (default: the best of the offline embedders on the Bitext paraphrase eval, see
           * BENCHMARKS.md), `sif`, `sif+hashing`, or the name of a configured embedding model.
           */
          embedder: z.string().default("hashing"),
        })
        .prefault({}),
    })
    .prefault({}),
  guardrails: z
    .object({
      /** PII redaction; server-wide default, tightened per key (`auth.keys[].guardrails.pii`) and per bot. */
      pii: z
        .object({
          mode: z.enum(["redact", "block", "off"]).default("off"),
          entities: z.array(z.enum(PII_ENTITY_TYPES)).default([...PII_ENTITY_TYPES]),
          restore: z.boolean().default(true),
          /** Region (ISO 3166 alpha-2) for phone numbers written without +country. */
          defaultRegion: z.string().regex(/^[A-Z]{2}$/).default("US"),
          /** Detection budget per text; past it the request fails closed with 503. */
          timeoutMs: positiveInt.default(250),
        })
        .prefault({}),
    })
    .prefault({}),
  /** OpenAI Responses API: stored responses (`store: true`, the default) for retrieve, input_items and previous_response_id. */
  responses: z
    .object({
      /** Stored responses kept per tenant; the least recently used go first. */
      maxStoredPerTenant: positiveInt.default(1000),
      /** Bytes (serialized JSON) kept per tenant. */
      maxStoredBytesPerTenant: positiveInt.default(64 * 1024 * 1024),
      /** Lifetime of a stored response (ms); 0 = until evicted. */
      storeTtlMs: z.number().int().min(0).default(24 * 60 * 60_000),
    })
    .prefault({}),
  /**
   * Shared state across gateway replicas. Without `url` every piece of state
   * stays in this process (the embedded default).
   */
  redis: z
    .object({
      /** `redis://[user:password@]host:port[/db]` or `rediss://` (TLS); env `SWITCHYARD_REDIS_URL`. */
      url: z.string().regex(/^rediss?:\/\//, "expected redis:// or rediss://").optional(),
      username: z.string().optional(),
      /** Overrides the URL's password; env `SWITCHYARD_REDIS_PASSWORD`. */
      password: z.string().optional(),
      /** TLS even with a `redis://` URL; `rediss://` turns it on too. */
      tls: z.boolean().default(false),
      /** PEM file of the CA that signed the server certificate (self-hosted TLS). */
      tlsCaFile: z.string().optional(),
      /** Every key this gateway writes starts with this; replicas of one deployment share it. */
      keyPrefix: z.string().min(1).default("switchyard:"),
      /** Deadline of one Redis call (ms): past it the call counts as failed and the piece's outage policy applies. */
      commandTimeoutMs: positiveInt.default(50),
      connectTimeoutMs: positiveInt.default(1000),
      /** Reconnect backoff: doubles from the min up to the max (ms). */
      reconnectMinMs: positiveInt.default(50),
      reconnectMaxMs: positiveInt.default(2000),
      /** Replicas expected to share the limits; during an outage each enforces 1/replicas of every limit locally. */
      replicas: positiveInt.default(2),
      /** Limits while Redis is unreachable: `local` (1/replicas of each limit, in memory) or `closed` (refuse with 503). */
      limitsOnOutage: z.enum(["local", "closed"]).default("local"),
      /** A stream lease outlives its replica by at most this (ms); live replicas renew theirs at a third of it. */
      streamLeaseTtlMs: positiveInt.default(30_000),
      /** How long a replica waits for another replica's identical in-flight generation before generating itself (ms). */
      flightWaitMs: positiveInt.default(30_000),
      /** How often shared breaker state and revocations are re-read (ms). */
      refreshMs: positiveInt.default(1000),
      /** Session → upstream affinity lifetime (ms). */
      affinityTtlMs: positiveInt.default(30 * 60_000),
    })
    .prefault({}),
  rag: z
    .object({
      /** LanceDB URI; defaults to `<dataDir>/lancedb`. `s3://...` works the same. */
      uri: z.string().optional(),
      chunkSize: positiveInt.default(800),
      chunkOverlap: z.number().int().nonnegative().default(100),
      /**
       * A configured model (name) that embeds for retrieval: an embedding GGUF such as bge-small-en-v1.5
       * (models/README.md), used with its model card's prefixes. Unset: the offline embedder below.
       * Never the generated tiny model; a chat model only when named here (with a warning).
       */
      embeddingModel: z.string().optional(),
      /**
       * Where the offline embedder keeps its word vectors converted from the npm package (40 MB, derived
       * data, shared by every data directory); default `<os tmpdir>/switchyard-embeddings`.
       */
      embeddingCacheDir: z.string().optional(),
      /** The embedder without a model file: SIF word vectors + hashing n-grams (default), one of them alone. */
      offlineEmbedder: z.enum(["sif+hashing", "sif", "hashing"]).default("sif+hashing"),
      /** Hybrid search fusion (requests may override it): `convex` normalised-score combination or weighted `rrf`. */
      fusion: fusionSchema.prefault({}),
      /** ANN vector index, built in the background once a collection has `threshold` rows (0 = only by `switchyard index`). */
      vectorIndex: z
        .object({
          threshold: z.number().int().nonnegative().default(20_000),
          /** `ivf_flat` (measured best: recall@10 0.971 of flat at 9 ms, 100k chunks), `hnsw_sq` or `ivf_pq`. */
          type: z.enum(["ivf_flat", "hnsw_sq", "ivf_pq"]).default("ivf_flat"),
          /** IVF partitions of a new index; 0 = √rows at build time. */
          partitions: z.number().int().nonnegative().default(0),
          /** Share of the IVF partitions each search scans: recall against latency (0.4 → recall@10 0.97, 0.2 → 0.92 at 100k). */
          probeFraction: z.number().gt(0).max(1).default(0.4),
        })
        .prefault({}),
      /**
       * Path of a reranker GGUF (a cross-encoder with a classification head: bge-reranker-v2-m3,
       * jina-reranker-v1-tiny-en, Qwen3-Reranker). Set: every search reorders its first `rerankTopN`
       * candidates by the reranker's score after fusion, in the gateway process. Unset (default): off.
       */
      rerankModel: z.string().min(1).optional(),
      /** Candidates the reranker scores per search (the rest keep their order after them). */
      rerankTopN: z.number().int().min(1).max(100).default(20),
      /** Tokens per (query, passage) pair for the reranker; longer passages are scored by their best window. */
      rerankContextSize: z.number().int().min(64).max(32_768).default(512),
      /** Per-collection settings, by collection name: `{ fusion: {...} }` overrides `rag.fusion` there. */
      collections: z.record(z.string(), z.object({ fusion: fusionOverrideSchema.optional() })).default({}),
      /** Passages scoring below this are not relevant; none left = "I don't know". */
      scoreFloor: z.number().default(0),
      rrfK: positiveInt.default(60),
      /** Body limit of document uploads (`POST /v1/collections/{name}/documents`). */
      maxUploadBytes: positiveInt.default(16 * 1024 * 1024),
    })
    .prefault({}),
  auth: z
    .object({
      /** API keys; none = open local mode. `key` may be plain or `sha256:<hex>`. */
      keys: z
        .array(
          z.object({
            key: z.string().min(8),
            // Tenants name partitions of the cache and of every collection: keep them to safe characters.
            tenant: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/, "letters, digits and _ . : @ - only (max 128)"),
            /** Model names, aliases or bots this key may use (any name of a model allows all its names and its bots); unset = all. Retrieval needs `rag.embeddingModel` listed when one is set. */
            models: z.array(z.string()).optional(),
            requestsPerMinute: positiveInt.optional(),
            tokensPerMinute: positiveInt.optional(),
            concurrentStreams: positiveInt.optional(),
            /** Share weight in each model's fair queue (default 1): under contention, tokens are served in proportion to weights. */
            weight: z.number().positive().max(1000).optional(),
            admin: z.boolean().default(false),
            ...policyOverrides,
          }),
        )
        .default([]),
    })
    .prefault({}),
  telemetry: z
    .object({
      logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
      /**
       * Share of successful requests written to the access log at info (0–1); errors (status ≥ 400) are
       * always logged. Sampled lines carry `sampleRate`. 1 logs every request.
       */
      accessLogSampleRate: z.number().min(0).max(1).default(0.05),
      /** Record prompt and completion text in spans and logs. Off: they may hold personal data. */
      recordContent: z.boolean().default(false),
      /** Serve /metrics on a separate port only (0 = on the main port, where API keys, when configured, guard it: an admin key or `metricsKey`). */
      metricsPort: z.number().int().min(0).max(65535).default(0),
      /** A bearer key for /metrics (scrapers), on either port; with API keys configured admin keys are accepted too. */
      metricsKey: z.string().optional(),
    })
    .prefault({}),
});

export type SwitchyardConfig = z.infer<typeof configSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type AdapterConfig = z.infer<typeof adapterSchema>;
export type AdapterAliasConfig = z.infer<typeof adapterAliasSchema>;

/** Every name a model answers to: its own, then its aliases (plain and adapter ones). */
export function modelNames(m: ModelConfig): string[] {
  return [m.name, ...m.aliases.map((a) => (typeof a === "string" ? a : a.name))];
}

/** The aliases that share the model's shards. */
export function plainAliases(m: ModelConfig): string[] {
  return m.aliases.filter((a): a is string => typeof a === "string");
}

/** The aliases that apply adapters (each served by shards of its own). */
export function adapterAliases(m: ModelConfig): AdapterAliasConfig[] {
  return m.aliases.filter((a): a is AdapterAliasConfig => typeof a !== "string");
}
export type BotConfig = z.infer<typeof botSchema>;
