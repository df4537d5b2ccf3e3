/**
 * The pool of backends (shards) serving one model: a bounded priority queue,
 * slot accounting, slot choice by prefix/session affinity then load, one
 * circuit breaker per backend, and the gateway's one retry loop.
 */
import { AbortError, invalidRequest, overloaded, timeout as timeoutError, unavailable } from "../errors.js";
import type { SwitchyardConfig } from "../config/index.js";
import type { GenerationInput, GenerationOptions, GenerationResult, SamplingParams } from "../types.js";
import type { Backend, BackendState } from "./backend.js";
import type { KvCells } from "../engine/protocol.js";
import { ShardBreaker, type BreakerState } from "./breaker.js";
import { RetryBudget } from "./retry-budget.js";
import { commonPrefixLength, prefixChain } from "./affinity.js";
import { childController, linkAbort } from "../util/link-abort.js";
import { isClientFault, toClientError } from "./backend-errors.js";
import { FairShare, evictionFor, type FairTagged } from "./fair-share.js";
import { SlotHeadroom, type SlotUsage } from "./slot-headroom.js";
import type { SharedRouting } from "./shared-routing.js";
import type { BudgetedModel, HostBudget } from "./host-budget.js";

const clientAborted = () => new AbortError(undefined, "The client closed the request.");

interface SlotState {
  busy: boolean;
  /** The tenant whose request holds the slot (while busy). */
  tenant: string | undefined;
  chain: string[];
  session: string | undefined;
  lastUsed: number;
}

interface Member {
  backend: Backend;
  breaker: ShardBreaker;
  slots: SlotState[];
  /** Leaving the pool: takes no new request; removed once its in-flight ones finish. */
  draining: boolean;
  /** Called when a draining member's last slot frees. */
  onIdle: (() => void) | undefined;
  stopListening: () => void;
}

interface Lease {
  member: Member;
  slot: number;
  queueMs: number;
}

interface Waiter extends FairTagged {
  priority: number;
  seq: number;
  enqueuedAt: number;
  chain: string[];
  session: string | undefined;
  exclude: ReadonlySet<string>;
  /** The remote backend this session is pinned to across replicas (shared affinity), if any. */
  pinned: string | undefined;
  grant: (lease: Lease) => void;
  fail: (err: Error) => void;
  /** Starts the queue wait limit (at once, or when the model has loaded). */
  arm?: () => void;
}

export interface PoolRequestOptions extends GenerationOptions {
  requestId: string;
  /** Higher runs first; within a priority, tenants share fairly (see fair-share.ts). Default 0. */
  priority?: number;
  /** Who the request is for: tenants share the queue fairly by their weights. Default `default`. */
  tenant?: string;
  /** The tenant's (key's) share weight. Default 1. */
  weight?: number;
  /** `user` or `x-session-id`: keeps a conversation on the slot holding its prefix. */
  sessionKey?: string;
  /** Overall deadline for this request in ms (queue + generation). */
  timeoutMs?: number;
  traceparent?: string;
  /** The id of the response the client will get (`chatcmpl-…`), for telemetry. */
  responseId?: string;
  /** False when the client takes the answer whole (see `BackendGenerateOptions.stream`). Default true. */
  stream?: boolean;
  /** Called once a slot is granted (queue wait known); again on a retry. */
  onAdmitted?: (info: { shard: string; queueMs: number }) => void;
  /** The form of the answer telemetry may record (the PII guardrails' stored form); absent = as generated. */
  redactContent?: (text: string) => string;
}

/** What an observer is told about one generation request. */
export interface PoolRequestInfo {
  model: string;
  requestId: string;
  responseId: string | undefined;
  input: GenerationInput;
  params: SamplingParams;
  /** See {@link PoolRequestOptions.redactContent}. */
  redactContent?: (text: string) => string;
}

/**
 * One generation request as the pool reports it, from admission to its end.
 * Called synchronously from the pool's own code paths: keep them cheap, never throw.
 */
export interface PoolRequestObserver {
  /** W3C traceparent the backend should continue (the observer's span), if any. */
  readonly traceparent?: string | undefined;
  /** A slot was granted after `queueMs` in the queue (once per attempt). */
  admitted(info: { shard: string; queueMs: number }): void;
  /** The first chunk reached the caller (at most once: nothing is retried after it). */
  firstChunk(): void;
  /** The attempt on `shard` failed before its first chunk and the pool retries on another shard. */
  retry(info: { shard: string; error: unknown }): void;
  end(result: GenerationResult): void;
  /** The request failed for good (the error the caller gets, an {@link AbortError} included). */
  fail(err: unknown): void;
}

/** One embeddings call as the pool reports it. */
export interface PoolEmbedObserver {
  end(info: { tokens: number }): void;
  fail(err: unknown): void;
}

/**
 * Observer seam of a {@link ModelPool} (telemetry hooks in here). Passed in
 * the pool's options; the pool calls it, nobody replaces the pool's methods.
 *
 * @example
 * ```ts
 * const observer: PoolObserver = {
 *   generation: (info) => ({ admitted() {}, firstChunk() {}, retry() {}, end() {}, fail() {} }),
 * };
 * new ModelPool({ ...options, observer });
 * ```
 */
export interface PoolObserver {
  /** A generation request entered the pool; the handle (if any) sees its events. */
  generation(info: PoolRequestInfo): PoolRequestObserver | undefined;
  /** An embeddings call was routed to a backend. */
  embedding?(info: { model: string; texts: number }): PoolEmbedObserver | undefined;
}

/**
 * Where a pool's shards are: `unloaded` (no process), `loading` (waiting for room in the host
 * budget, then starting shards), `loaded`, `unloading` (stopping its shards; a request arriving
 * now waits and loads it again).
 */
export type LoadState = "unloaded" | "loading" | "loaded" | "unloading";

/** The pool's load lifecycle, for /v1/status and /v1/models. */
export interface LoadSnapshot {
  /** `startup`: loaded when the gateway starts; `on-demand`: on its first request. */
  policy: "startup" | "on-demand";
  state: LoadState;
  /** While loading: `waiting for room` (host budget full) or `starting shards`, with shards ready so far. */
  progress: { phase: "waiting for room" | "starting shards"; shardsReady: number; shardsTotal: number; elapsedMs: number } | null;
  /** Unloaded after this long without requests; 0 = never. */
  idleUnloadMs: number;
  /** Epoch ms of the last request, or null. */
  lastUsedAt: number | null;
  /** Duration of the last completed load. */
  lastLoadMs: number | null;
  loads: number;
  unloads: number;
}

/** Logger of load lifecycle events. */
export interface PoolLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

/** Loading on demand and idle unloading of a pool (config `models[].load`, `idleUnloadMs`, `loading`). */
export interface PoolLoadOptions {
  /** True: no shard starts until the first request (which waits in the queue). Default false: {@link ModelPool.start}. */
  onDemand: boolean;
  /** Stop the shards after this long with no request (none running, none waiting); 0 = never. */
  idleUnloadMs: number;
  /** Host-wide room for loaded models; absent = unlimited. */
  budget?: HostBudget;
  /** Memory estimate of the loaded model for the budget's `maxLoadedBytes`. Default 0. */
  loadedBytes?: number;
  /** Load, unload and eviction events. */
  logger?: PoolLogger;
}

/** Everything a status page or /metrics wants to know about a pool, at one instant. */
export interface PoolSnapshot {
  model: string;
  /** For an adapter alias's pool: the model whose weights its shards adapt (set by the registry). */
  base?: string;
  waiting: number;
  running: number;
  /** The load lifecycle (absent in snapshots built by hand, e.g. in tests). */
  load?: LoadSnapshot;
  shards: Array<{
    id: string;
    kind: "local" | "remote";
    state: BackendState;
    breaker: BreakerState;
    slotsBusy: number;
    slotsTotal: number;
    /** KV cache cells in use and in all, when the backend reports them (local shards). */
    kvCells?: KvCells;
    /** Present (true) while leaving the pool (gone from discovery): no new requests, in-flight ones finish. */
    draining?: true;
    restarts: number;
    lastError: string | undefined;
  }>;
}

export interface ModelPoolOptions {
  model: string;
  backends: Backend[];
  queue: SwitchyardConfig["queue"];
  breaker: SwitchyardConfig["breaker"];
  retry: SwitchyardConfig["retry"];
  /** Default per-request deadline. */
  requestTimeoutMs: number;
  onBreakerChange?: (shard: string, state: BreakerState) => void;
  /** Sees every generation and embeddings call (telemetry). Default: none. */
  observer?: PoolObserver;
  /**
   * State shared with other gateway replicas (config `redis.url`): breaker state of remote
   * upstreams and session → remote backend affinity. Default: both local to this replica.
   */
  shared?: SharedRouting;
  /** On-demand loading and idle unloading. Default: loaded by {@link ModelPool.start}, never unloaded. */
  load?: PoolLoadOptions;
}

/**
 * @example
 * ```ts
 * const pool = new ModelPool({ model: "tiny", backends, queue, breaker, retry, requestTimeoutMs: 60_000 });
 * await pool.start();
 * const result = await pool.generate({ kind: "chat", messages }, params, { requestId, onChunk });
 * ```
 */
export class ModelPool implements BudgetedModel {
  readonly model: string;
  private readonly members: Member[] = [];
  /** Re-dispatch once a remote upstream's shared open period ends. */
  private sharedOpenTimer: NodeJS.Timeout | undefined;
  private waiters: Waiter[] = [];
  private seq = 0;
  private readonly fair = new FairShare();
  private readonly headroom: SlotHeadroom;
  /** Re-dispatch once another tenant's activity window ends (a waiter was held back by the headroom). */
  private headroomTimer: NodeJS.Timeout | undefined;
  private running = 0;
  private disposing: Promise<void> | undefined;
  private readonly budget: RetryBudget;
  private avgServiceMs = 1000;
  // --- load lifecycle ---
  private _loadState: LoadState = "unloaded";
  private loadPhase: "waiting for room" | "starting shards" = "waiting for room";
  private loadStartedAt = 0;
  private loadingPromise: Promise<void> | undefined;
  private unloadingPromise: Promise<void> | undefined;
  /** Requests (generations, embeddings, counts) inside the pool now. */
  private active = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private everLoaded = false;
  private lastUsedEpoch: number | null = null;
  private lastLoadMs: number | null = null;
  private loads = 0;
  private unloads = 0;
  lastUsed = 0;

  constructor(private readonly opts: ModelPoolOptions) {
    this.model = opts.model;
    this.budget = new RetryBudget(opts.retry.budgetRatio);
    this.headroom = new SlotHeadroom({ reserveSlots: opts.queue.reserveSlots, activeWindowMs: opts.queue.activeWindowMs });
    for (const backend of opts.backends) this.members.push(this.memberOf(backend));
  }

  private memberOf(backend: Backend): Member {
    const shared = this.opts.shared?.breakers;
    const upstream = backend.upstream;
    if (shared && upstream !== undefined) shared.watch([upstream]);
    const member: Member = {
      backend,
      breaker: new ShardBreaker({
        config: this.opts.breaker,
        isClientError: isClientFault,
        onStateChange: (state) => {
          this.opts.onBreakerChange?.(backend.id, state);
          // What this replica learnt about a remote upstream, every replica skips (or takes back).
          if (shared && upstream !== undefined && state === "open") void shared.markOpen(upstream, this.opts.breaker.resetTimeoutMs);
          if (shared && upstream !== undefined && state === "closed") void shared.markClosed(upstream);
          this.dispatch();
        },
      }),
      slots: Array.from({ length: backend.capacity }, () => ({ busy: false, tenant: undefined, chain: [], session: undefined, lastUsed: 0 })),
      draining: false,
      onIdle: undefined,
      stopListening: () => undefined,
    };
    const listener = backend.onStateChange.createListener((state) => {
      // A restarted process has an empty KV cache: forget what the slots held.
      if (state !== "ready") for (const s of member.slots) s.chain = [];
      this.dispatch();
    });
    member.stopListening = () => listener.dispose();
    return member;
  }

  /** Loads the pool now (startup): starts every backend; resolves once all have settled, rejects only if none could start. */
  start(): Promise<void> {
    return this.ensureLoaded();
  }

  private async startBackends(): Promise<void> {
    const results = await Promise.allSettled(this.members.map((m) => m.backend.start()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failures.length === results.length && failures[0]) throw failures[0].reason;
  }

  /**
   * Adds a backend at run time (discovery found a new address) and starts it; it takes
   * requests once ready. Resolves once its start settled (never rejects: a backend that
   * cannot start says so in its state and the pool routes around it). A backend whose id
   * is already in the pool is ignored (undefined).
   */
  addBackend(backend: Backend): Promise<void> | undefined {
    if (this.disposing || this.members.some((m) => m.backend.id === backend.id)) return undefined;
    const member = this.memberOf(backend);
    this.members.push(member);
    return backend.start().then(
      () => this.dispatch(),
      () => undefined,
    );
  }

  /**
   * Drains a backend out of the pool (discovery lost its address): no new request goes to it,
   * requests running on it finish, then it is disposed and removed. Resolves once gone;
   * false when no backend has this id.
   */
  async removeBackend(id: string): Promise<boolean> {
    const member = this.members.find((m) => m.backend.id === id);
    if (!member) return false;
    if (!member.draining) {
      member.draining = true;
      if (member.backend.upstream !== undefined) this.opts.shared?.breakers?.unwatch(member.backend.upstream);
      if (busyCount(member) > 0) await new Promise<void>((resolve) => (member.onIdle = resolve));
      const at = this.members.indexOf(member);
      if (at !== -1) this.members.splice(at, 1);
      member.stopListening();
      member.breaker.shutdown();
      await member.backend.dispose();
      this.dispatch(); // Waiters that excluded it may now find nothing else: let them time out honestly.
    }
    return true;
  }

  /** Whether `member` may take a new request now: in the pool, ready, admitted by its own and the shared breaker. */
  private routable(member: Member): boolean {
    return !member.draining && member.backend.state === "ready" && member.breaker.admits && !this.sharedOpen(member);
  }

  /** True while another replica (or this one) reported this remote upstream open. */
  private sharedOpen(member: Member): boolean {
    const upstream = member.backend.upstream;
    return upstream !== undefined && (this.opts.shared?.breakers?.isOpen(upstream) ?? false);
  }

  get loadState(): LoadState {
    return this._loadState;
  }

  get loadedBytes(): number {
    return this.opts.load?.loadedBytes ?? 0;
  }

  /** Loaded, nothing running or waiting: the host budget may evict it. */
  get evictable(): boolean {
    return this._loadState === "loaded" && this.active === 0 && this.waiters.length === 0 && this.running === 0;
  }

  /**
   * Loads the pool if it is not loaded: waits for an unload in progress, then for room in the
   * host budget (which may evict the least recently used idle model), then starts the shards.
   * Rejects (and the pool is `unloaded` again) when no shard could start.
   */
  ensureLoaded(): Promise<void> {
    if (this._loadState === "loaded") return Promise.resolve();
    return (this.loadingPromise ??= this.load().finally(() => (this.loadingPromise = undefined)));
  }

  private async load(): Promise<void> {
    if (this.unloadingPromise) await this.unloadingPromise;
    if (this.disposing) throw unavailable("The server is shutting down.");
    const log = this.opts.load?.logger;
    this._loadState = "loading";
    this.loadPhase = "waiting for room";
    this.loadStartedAt = performance.now();
    const budget = this.opts.load?.budget;
    try {
      await budget?.admit(this);
    } catch (err) {
      this._loadState = "unloaded";
      const failure = unavailable(`Model '${this.model}' cannot be loaded: ${err instanceof Error ? err.message : String(err)}.`);
      for (const w of this.waiters.splice(0)) w.fail(failure);
      throw failure;
    }
    this.loadPhase = "starting shards";
    log?.info({ model: this.model, shards: this.members.length, waitedMs: Math.round(performance.now() - this.loadStartedAt) }, "model loading");
    try {
      await this.startBackends();
    } catch (err) {
      // No shard started (a partial start counts as loaded: the others restart or stay failed, as at startup).
      this._loadState = "unloaded";
      budget?.release(this);
      const message = err instanceof Error ? err.message : String(err);
      log?.error({ model: this.model, err: message }, "model failed to load");
      const failure = unavailable(`Model '${this.model}' failed to load: ${message}`);
      for (const w of this.waiters.splice(0)) w.fail(failure);
      throw err;
    }
    if (this.disposing) return;
    this._loadState = "loaded";
    this.everLoaded = true;
    this.loads++;
    this.lastLoadMs = performance.now() - this.loadStartedAt;
    log?.info({ model: this.model, loadMs: Math.round(this.lastLoadMs) }, "model loaded");
    for (const w of this.waiters) w.arm?.();
    this.dispatch();
    this.maybeIdle();
  }

  /**
   * Stops the shards of an idle pool (nothing running or waiting); a no-op otherwise. A request
   * that arrives while it unloads waits and loads the pool again.
   */
  unload(reason: "idle" | "evicted"): Promise<void> {
    if (!this.evictable) return this.unloadingPromise ?? Promise.resolve();
    this.clearIdleTimer();
    this._loadState = "unloading";
    const log = this.opts.load?.logger;
    log?.info({ model: this.model, reason }, "model unloading");
    return (this.unloadingPromise = (async () => {
      await Promise.all(this.members.map((m) => m.backend.dispose()));
      for (const m of this.members) for (const s of m.slots) s.chain = [];
      this._loadState = "unloaded";
      this.unloads++;
      this.unloadingPromise = undefined;
      this.opts.load?.budget?.release(this);
      log?.info({ model: this.model, reason }, "model unloaded");
      // Someone asked while the shards stopped: load again for them.
      if ((this.waiters.length > 0 || this.active > 0) && !this.disposing) this.ensureLoaded().catch(() => undefined);
    })());
  }

  /**
   * Loads on request: an on-demand pool, or one loaded before and since unloaded. A startup pool that
   * is still starting (or failed to) is served as its shards' states say.
   */
  private get lazy(): boolean {
    return this.opts.load?.onDemand === true || this.everLoaded;
  }

  /** Runs `fn` as one of the pool's requests: loads the pool first if needed, keeps it from idling meanwhile. */
  private async withLoaded<T>(fn: () => Promise<T>, waitForLoad: boolean): Promise<T> {
    this.enter();
    try {
      if (this._loadState !== "loaded" && this.lazy) {
        if (waitForLoad) await this.ensureLoaded();
        else this.ensureLoaded().catch(() => undefined); // the queued request learns of a failure as a waiter
      }
      return await fn();
    } finally {
      this.exit();
    }
  }

  private enter(): void {
    this.active++;
    this.lastUsed = performance.now();
    this.lastUsedEpoch = Date.now();
    this.clearIdleTimer();
  }

  private exit(): void {
    this.active--;
    this.maybeIdle();
  }

  /** An idle loaded pool: tell the budget (a waiting load may evict it) and arm the idle unload. */
  private maybeIdle(): void {
    if (!this.evictable || this.disposing) return;
    this.opts.load?.budget?.changed();
    const idleMs = this.opts.load?.idleUnloadMs ?? 0;
    if (idleMs > 0 && !this.idleTimer && this.evictable) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        void this.unload("idle");
      }, idleMs);
      this.idleTimer.unref();
    }
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  get backends(): readonly Backend[] {
    return this.members.map((m) => m.backend);
  }

  /**
   * Ready = at least one backend can take work, or the pool loads on demand (an on-demand model,
   * or one loaded once and since unloaded) and so can take work after a load.
   */
  get ready(): boolean {
    if (this._loadState !== "loaded" && this.lazy) return true;
    return this.members.some((m) => m.backend.state === "ready");
  }

  private loadSnapshot(): LoadSnapshot {
    return {
      policy: this.opts.load?.onDemand ? "on-demand" : "startup",
      state: this._loadState,
      progress:
        this._loadState === "loading"
          ? {
              phase: this.loadPhase,
              shardsReady: this.members.filter((m) => m.backend.state === "ready").length,
              shardsTotal: this.members.length,
              elapsedMs: Math.round(performance.now() - this.loadStartedAt),
            }
          : null,
      idleUnloadMs: this.opts.load?.idleUnloadMs ?? 0,
      lastUsedAt: this.lastUsedEpoch,
      lastLoadMs: this.lastLoadMs === null ? null : Math.round(this.lastLoadMs),
      loads: this.loads,
      unloads: this.unloads,
    };
  }

  snapshot(): PoolSnapshot {
    return {
      model: this.model,
      waiting: this.waiters.length,
      running: this.running,
      load: this.loadSnapshot(),
      shards: this.members.map((m) => ({
        id: m.backend.id,
        kind: m.backend.kind,
        state: m.backend.state,
        breaker: m.breaker.state === "closed" && this.sharedOpen(m) ? "open" : m.breaker.state,
        ...(m.draining ? { draining: true as const } : {}),
        slotsBusy: m.slots.filter((s) => s.busy).length,
        slotsTotal: m.slots.length,
        ...(m.backend.kvCells ? { kvCells: m.backend.kvCells } : {}),
        restarts: m.backend.restarts,
        lastError: m.backend.lastError,
      })),
    };
  }

  /**
   * Runs one generation: queue → slot → backend, retrying once on another
   * backend if it fails before the first token. Errors are GatewayErrors (or
   * AbortError); after the first chunk was delivered they are final.
   */
  async generate(input: GenerationInput, params: SamplingParams, opts: PoolRequestOptions): Promise<GenerationResult> {
    const observer = this.opts.observer?.generation({
      model: this.model,
      requestId: opts.requestId,
      responseId: opts.responseId,
      input,
      params,
      ...(opts.redactContent ? { redactContent: opts.redactContent } : {}),
    });
    // The request waits in the queue while the model loads (not before it: the queue's deadline and fairness apply).
    const run = () => this.withLoaded(() => this.runAttempts(input, params, opts, observer), false);
    if (!observer) return run();
    try {
      const result = await run();
      observer.end(result);
      return result;
    } catch (err) {
      observer.fail(err);
      throw err;
    }
  }

  private async runAttempts(input: GenerationInput, params: SamplingParams, opts: PoolRequestOptions, observer: PoolRequestObserver | undefined): Promise<GenerationResult> {
    const deadlineMs = opts.timeoutMs ?? this.opts.requestTimeoutMs;
    // One controller for the client's signal and the deadline (one timer, one listener, both
    // removed when the request ends): AbortSignal.timeout + AbortSignal.any cost more per request.
    const request = childController(opts.signal);
    const deadline = setTimeout(() => request.abort(), deadlineMs);
    deadline.unref();
    try {
      return await this.runAttemptsUntil(input, params, opts, observer, request.signal, deadlineMs);
    } finally {
      clearTimeout(deadline);
      request[Symbol.dispose]();
    }
  }

  private async runAttemptsUntil(
    input: GenerationInput,
    params: SamplingParams,
    opts: PoolRequestOptions,
    observer: PoolRequestObserver | undefined,
    signal: AbortSignal,
    deadlineMs: number,
  ): Promise<GenerationResult> {
    const traceparent = opts.traceparent ?? observer?.traceparent;
    const abortError = () => (opts.signal?.aborted ? clientAborted() : timeoutError(`Request timed out after ${deadlineMs} ms.`));
    const chain = prefixChain(input);
    const exclude = new Set<string>();
    this.budget.recordRequest();
    // Shared affinity: the remote backend this session used last, whichever replica served it.
    const affinity = this.opts.shared?.affinity;
    const session = opts.sessionKey;
    const sharedSession = affinity !== undefined && session !== undefined && this.members.filter((m) => m.backend.kind === "remote").length > 1;
    const pinned = sharedSession ? await affinity.get(this.model, session) : undefined;
    // A prompt that cannot fit must not wait in the queue to learn so.
    if (!this.hasFreeSlot(opts.tenant ?? "default")) await this.rejectIfTooLong(input, signal, abortError);

    for (let attempt = 0; ; attempt++) {
      let lease: Lease;
      try {
        lease = await this.acquire(chain, opts, params.maxTokens, exclude, pinned, signal);
      } catch (err) {
        if (signal.aborted) throw abortError();
        throw err;
      }
      const { member, slot, queueMs } = lease;
      if (sharedSession) void affinity.set(this.model, session, member.backend.id);
      observer?.admitted({ shard: member.backend.id, queueMs });
      opts.onAdmitted?.({ shard: member.backend.id, queueMs });
      let delivered = false;
      const started = performance.now();
      const attemptController = childController(signal);
      this.running++;
      try {
        let firstToken!: () => void;
        const admitted = new Promise<void>((resolve) => (firstToken = resolve));
        const generation = member.backend.generate(slot, input, params, {
          requestId: opts.requestId,
          signal: attemptController.signal,
          ...(traceparent ? { traceparent } : {}),
          ...(opts.stream === false ? { stream: false } : {}),
          onChunk: (chunk) => {
            if (!delivered) {
              delivered = true;
              firstToken();
              observer?.firstChunk();
            }
            opts.onChunk?.(chunk);
          },
        });
        generation.catch(() => undefined); // settled below or abandoned after a breaker timeout
        // The breaker watches admission through first token (or completion, for empty outputs).
        const untilFirstToken = Promise.race([admitted, generation.then(() => undefined)]);
        await member.breaker.run(() => untilFirstToken).catch((err: unknown) => {
          // opossum's own timeout: stop the stuck generation before retrying elsewhere.
          attemptController.abort();
          throw err;
        });
        const done = await generation;
        const s = member.slots[slot]!;
        s.chain = prefixChain(input, done.text);
        this.avgServiceMs = 0.8 * this.avgServiceMs + 0.2 * (performance.now() - started);
        return {
          text: done.text,
          finishReason: done.finishReason,
          usage: done.usage,
          shard: member.backend.id,
          timings: { queueMs, ttftMs: done.ttftMs, decodeMs: done.decodeMs, cachedPromptTokens: done.cachedPromptTokens },
          ...(done.toolCalls ? { toolCalls: done.toolCalls } : {}),
          ...(done.logprobs ? { logprobs: done.logprobs } : {}),
          ...(done.promptLogprobs ? { promptLogprobs: done.promptLogprobs } : {}),
          ...(done.stopSequence === undefined ? {} : { stopSequence: done.stopSequence }),
        };
      } catch (err) {
        member.slots[slot]!.chain = [];
        if (signal.aborted) throw abortError();
        const retryable = !delivered && !isClientFault(err) && attempt < this.opts.retry.attempts && this.members.length > 1;
        if (retryable && this.budget.tryRetry()) {
          exclude.add(member.backend.id);
          observer?.retry({ shard: member.backend.id, error: err });
          continue;
        }
        if (isBreakerOpenError(err)) throw unavailable(`Shard ${member.backend.id} is out of rotation.`, 1000);
        throw toClientError(err);
      } finally {
        this.running--;
        attemptController[Symbol.dispose]();
        this.release(member, slot, opts.sessionKey);
      }
    }
  }

  /** A routable shard has a free slot (that `tenant`, if given, may take under the headroom rule). */
  private hasFreeSlot(tenant?: string): boolean {
    const free = this.members.some((m) => this.routable(m) && m.slots.some((s) => !s.busy));
    return free && (tenant === undefined || this.headroomAdmits(tenant));
  }

  /** The slots as the headroom rule counts them: across every routable shard of the pool. */
  private slotUsage(): SlotUsage {
    let total = 0;
    let free = 0;
    const running = new Map<string, number>();
    for (const m of this.members) {
      for (const s of m.slots) if (s.busy && s.tenant !== undefined) running.set(s.tenant, (running.get(s.tenant) ?? 0) + 1);
      if (!this.routable(m)) continue;
      total += m.slots.length;
      // A half-open breaker takes one probe only: its other free slots are not free.
      if (m.breaker.state !== "half_open" || busyCount(m) === 0) free += m.slots.length - busyCount(m);
    }
    return { total, free, running, queued: new Set(this.waiters.map((w) => w.tenant)) };
  }

  private headroomAdmits(tenant: string): boolean {
    return this.headroom.admits(tenant, this.slotUsage(), performance.now());
  }

  /** 400 `context_length_exceeded` before queueing, counted by a ready local shard (no slot needed). */
  /**
   * The exact prompt size of `input` as a ready local shard's tokenizer and chat template give it
   * (the `usage.prompt_tokens` the same request would report). 503 when no shard can count now.
   */
  countTokens(input: GenerationInput, signal?: AbortSignal): Promise<number> {
    return this.withLoaded(() => this.countTokensLoaded(input, signal), true);
  }

  /** A text's token ids (`special`: BOS first when the model adds one), from a ready shard that can tell; 503 when none can now. */
  tokenize(prompt: string, special: boolean, signal?: AbortSignal): Promise<number[]> {
    return this.withLoaded(async () => {
      const member = this.members.find((m) => !m.draining && m.backend.state === "ready" && m.backend.tokenize);
      if (!member) throw unavailable(`No shard of model '${this.model}' can tokenize right now.`, this.retryAfterMs());
      try {
        return await member.backend.tokenize!(prompt, special, signal);
      } catch (err) {
        throw toClientError(err);
      }
    }, true);
  }

  /**
   * The text of token ids (special tokens give none), from a ready shard; 503 when none can now, 400 when no
   * backend of this model can ever tell (remote upstreams).
   */
  detokenize(tokens: number[], signal?: AbortSignal): Promise<string> {
    if (!this.members.some((m) => m.backend.detokenize)) {
      return Promise.reject(invalidRequest(`Model '${this.model}' cannot read token-id prompts back as text; send the prompt as text.`, { param: "prompt" }));
    }
    return this.withLoaded(async () => {
      const member = this.members.find((m) => !m.draining && m.backend.state === "ready" && m.backend.detokenize);
      if (!member) throw unavailable(`No shard of model '${this.model}' can detokenize right now.`, this.retryAfterMs());
      try {
        return await member.backend.detokenize!(tokens, signal);
      } catch (err) {
        throw toClientError(err);
      }
    }, true);
  }

  private async countTokensLoaded(input: GenerationInput, signal?: AbortSignal): Promise<number> {
    const member = this.members.find((m) => !m.draining && m.backend.state === "ready" && m.backend.countTokens);
    if (!member) throw unavailable(`No shard of model '${this.model}' can count tokens right now.`, this.retryAfterMs());
    try {
      return await member.backend.countTokens!(input, signal);
    } catch (err) {
      throw toClientError(err);
    }
  }

  private async rejectIfTooLong(input: GenerationInput, signal: AbortSignal, abortError: () => Error): Promise<void> {
    const member = this.members.find((m) => m.backend.state === "ready" && m.backend.countTokens && m.backend.contextSize !== undefined);
    if (!member) return;
    const contextSize = member.backend.contextSize!;
    let tokens: number;
    try {
      tokens = await member.backend.countTokens!(input, signal);
    } catch {
      if (signal.aborted) throw abortError();
      return; // The shard checks again when the request runs (a count past its deadline included).
    }
    if (tokens >= contextSize) {
      throw invalidRequest(`This model's maximum context length is ${contextSize} tokens. However, your messages resulted in ${tokens} tokens.`, {
        param: "messages",
        code: "context_length_exceeded",
      });
    }
  }

  /** Embeddings go to the least busy ready backend; they do not use a generation slot. */
  embed(texts: string[], signal?: AbortSignal): Promise<{ vectors: number[][]; tokens: number }> {
    return this.withLoaded(() => this.embedLoaded(texts, signal), true);
  }

  private async embedLoaded(texts: string[], signal?: AbortSignal): Promise<{ vectors: number[][]; tokens: number }> {
    const ready = this.members.filter((m) => this.routable(m));
    const member = ready.sort((a, b) => busyCount(a) - busyCount(b))[0];
    if (!member) throw unavailable(`No shard of model '${this.model}' is ready.`, this.retryAfterMs());
    const observer = this.opts.observer?.embedding?.({ model: this.model, texts: texts.length });
    try {
      const out = await member.backend.embed(texts, signal);
      observer?.end({ tokens: out.tokens });
      return out;
    } catch (err) {
      const clientError = toClientError(err, { inputParam: "input" });
      observer?.fail(clientError);
      throw clientError;
    }
  }

  private acquire(chain: string[], opts: PoolRequestOptions, cost: number, exclude: ReadonlySet<string>, pinned: string | undefined, signal: AbortSignal): Promise<Lease> {
    const priority = opts.priority ?? 0;
    const session = opts.sessionKey;
    const enqueuedAt = performance.now();
    if (signal.aborted) return Promise.reject(clientAborted());
    // While the model loads (or unloads, to load again) its shards are not live yet: wait in the queue.
    if (this._loadState === "loaded" || !this.lazy) {
      const candidates = this.members.filter((m) => !exclude.has(m.backend.id) && !m.draining);
      const live = candidates.filter((m) => m.backend.state !== "failed" && m.backend.state !== "stopped");
      if (live.length === 0) throw unavailable(`No shard of model '${this.model}' is available.`, this.retryAfterMs());
      const shared = this.opts.shared?.breakers;
      const openFor = (m: Member) =>
        Math.max(m.breaker.state === "open" ? m.breaker.msUntilHalfOpen : 0, m.backend.upstream !== undefined && shared ? shared.msUntilClosed(m.backend.upstream) : 0);
      if (live.every((m) => m.breaker.state === "open" || this.sharedOpen(m))) {
        throw overloaded(`Every shard of model '${this.model}' is out of rotation; retry later.`, Math.min(...live.map(openFor)));
      }
    }
    const tenant = opts.tenant ?? "default";
    this.headroom.seen(tenant, enqueuedAt);
    return new Promise<Lease>((resolve, reject) => {
      const weight = opts.weight ?? 1;
      const waiter: Waiter = {
        tenant,
        weight,
        ...this.fair.tag(tenant, weight, cost),
        priority,
        seq: this.seq++,
        enqueuedAt,
        chain,
        session,
        exclude,
        pinned,
        grant: (lease) => {
          cleanup();
          this.fair.served(waiter.start);
          resolve(lease);
        },
        fail: (err) => {
          cleanup();
          reject(err);
        },
      };
      let timer: NodeJS.Timeout | undefined;
      // The queue's wait limit counts once the model is loaded (a load may take long); the request's deadline bounds the whole.
      waiter.arm = () => {
        timer ??= setTimeout(() => {
          this.remove(waiter);
          waiter.fail(overloaded(`Timed out after ${this.opts.queue.maxWaitMs} ms waiting for a free slot of model '${this.model}'.`, this.retryAfterMs()));
          this.dispatch(); // it may have been the tenant the headroom kept a slot for
        }, this.opts.queue.maxWaitMs);
      };
      if (this._loadState === "loaded" || !this.lazy) waiter.arm();
      if (signal.aborted) {
        clearTimeout(timer);
        return reject(clientAborted());
      }
      const link = linkAbort(signal, () => {
        this.remove(waiter);
        waiter.fail(clientAborted());
        this.dispatch();
      });
      const cleanup = () => {
        clearTimeout(timer);
        link.unlink();
      };
      // Grant at once when a slot is free and nobody of equal or higher priority waits.
      if (!this.waiters.some((w) => w.priority >= priority)) {
        const lease = this.pick(waiter);
        if (lease) return waiter.grant(lease);
      }
      if (this.waiters.length >= this.opts.queue.maxDepth) {
        // A flood from one tenant fills its own share of the queue, never another's.
        const victim = evictionFor(this.waiters, waiter);
        const full = () => overloaded(`The queue for model '${this.model}' is full; retry later.`, this.retryAfterMs());
        if (!victim) return waiter.fail(full());
        this.remove(victim);
        victim.fail(full());
      }
      this.insert(waiter);
      // Waiters ahead of it may be held back by the headroom from a slot this one may take.
      if (this.hasFreeSlot()) this.dispatch();
    });
  }

  private insert(waiter: Waiter): void {
    // Priority desc, then the fair finish tag, then FIFO: find the first waiter that runs after it.
    const after = (w: Waiter) => w.priority < waiter.priority || (w.priority === waiter.priority && w.finish > waiter.finish);
    const at = this.waiters.findIndex(after);
    if (at === -1) this.waiters.push(waiter);
    else this.waiters.splice(at, 0, waiter);
  }

  private remove(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i !== -1) this.waiters.splice(i, 1);
  }

  /**
   * Chooses a free slot: the remote backend the session is pinned to across replicas, then the
   * longest prefix match, then same session, then the least loaded backend, then the least recently used slot.
   * None when the headroom keeps the free slots for another tenant (slot-headroom.ts); `admits` answers
   * that (dispatch passes one that reads the slot usage once per pass, not once per waiter).
   */
  private pick(waiter: Waiter, admits: (tenant: string) => boolean = (tenant) => this.headroomAdmits(tenant)): Lease | undefined {
    if (this._loadState === "unloading") return undefined;
    let best: { member: Member; slot: number; score: [number, number, number, number, number] } | undefined;
    for (const member of this.members) {
      if (waiter.exclude.has(member.backend.id)) continue;
      if (!this.routable(member)) {
        if (this.sharedOpen(member)) this.dispatchWhenSharedCloses(member);
        continue;
      }
      const load = busyCount(member);
      // A half-open breaker gets exactly one probe.
      if (member.breaker.state === "half_open" && load > 0) continue;
      const pinned = waiter.pinned !== undefined && member.backend.id === waiter.pinned ? 1 : 0;
      member.slots.forEach((s, slot) => {
        if (s.busy) return;
        const score: [number, number, number, number, number] = [
          pinned,
          commonPrefixLength(s.chain, waiter.chain),
          waiter.session !== undefined && s.session === waiter.session ? 1 : 0,
          -load,
          -s.lastUsed,
        ];
        if (!best || greater(score, best.score)) best = { member, slot, score };
      });
    }
    if (!best || !admits(waiter.tenant)) return undefined;
    const s = best.member.slots[best.slot]!;
    s.busy = true;
    s.tenant = waiter.tenant;
    s.session = waiter.session;
    s.lastUsed = performance.now();
    return { member: best.member, slot: best.slot, queueMs: performance.now() - waiter.enqueuedAt };
  }

  /** Frees the slot once the backend confirms nothing runs on it any more (an abort may outlive the request). */
  private release(member: Member, slot: number, session: string | undefined): void {
    const s = member.slots[slot]!;
    s.session = session;
    const free = () => {
      if (s.tenant !== undefined) this.headroom.seen(s.tenant, performance.now());
      s.busy = false;
      s.tenant = undefined;
      if (member.draining && busyCount(member) === 0) member.onIdle?.();
      this.dispatch();
    };
    const confirmed = member.backend.whenSlotFree?.(slot);
    if (confirmed) void confirmed.then(free);
    else free();
  }

  /**
   * Continuous batching at the gateway: every freed slot takes the next waiter it can serve. A waiter
   * the headroom holds back (or whose shards are excluded) is skipped, never blocks those behind it.
   */
  private dispatch(): void {
    // The slot usage the headroom rule reads, built once per pass (it walks every slot and waiter) and again after a grant.
    let usage: SlotUsage | undefined;
    const admits = (tenant: string) => this.headroom.admits(tenant, (usage ??= this.slotUsage()), performance.now());
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const lease = this.pick(waiter, admits);
      if (lease) {
        this.waiters.splice(i, 1);
        waiter.grant(lease);
        usage = undefined;
        i = 0; // a grant changes whom the headroom holds back: look again from the front
      } else i++;
    }
    this.recheckHeadroomLater();
  }

  /** Waiters held back by the headroom while a slot is free: look again when the other tenants' activity window ends. */
  private recheckHeadroomLater(): void {
    if (this.headroomTimer || this.waiters.length === 0 || !this.hasFreeSlot()) return;
    const usage = this.slotUsage();
    const now = performance.now();
    let at = Infinity;
    for (const tenant of usage.queued) {
      if (!this.headroom.admits(tenant, usage, now)) at = Math.min(at, this.headroom.othersWaitingUntil(tenant, usage, now));
    }
    if (at === Infinity) return; // none held back, or held back for a queued tenant: its grant or timeout dispatches
    this.headroomTimer = setTimeout(() => {
      this.headroomTimer = undefined;
      this.dispatch();
    }, Math.ceil(at - now) + 1);
    this.headroomTimer.unref();
  }

  /** Waiters skipped a remote upstream another replica found dead: look again when its shared open period ends. */
  private dispatchWhenSharedCloses(member: Member): void {
    if (this.sharedOpenTimer || this.waiters.length === 0 || !member.backend.upstream) return;
    const ms = this.opts.shared?.breakers?.msUntilClosed(member.backend.upstream) ?? 0;
    this.sharedOpenTimer = setTimeout(() => {
      this.sharedOpenTimer = undefined;
      this.dispatch();
    }, ms + 1);
    this.sharedOpenTimer.unref();
  }

  private retryAfterMs(): number {
    const capacity = Math.max(1, this.members.reduce((n, m) => n + m.slots.length, 0));
    return Math.max(1000, Math.ceil((this.avgServiceMs * (this.waiters.length + 1)) / capacity));
  }

  /** Stops every backend. Waiters are failed with 503. Idempotent. */
  dispose(): Promise<void> {
    return (this.disposing ??= (async () => {
      this.clearIdleTimer();
      clearTimeout(this.sharedOpenTimer);
      clearTimeout(this.headroomTimer);
      for (const w of this.waiters.splice(0)) w.fail(unavailable("The server is shutting down."));
      for (const m of this.members) {
        m.stopListening();
        m.breaker.shutdown();
      }
      await this.unloadingPromise;
      await Promise.all(this.members.map((m) => m.backend.dispose()));
      this._loadState = "unloaded";
      this.opts.load?.budget?.release(this);
    })());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

function busyCount(m: Member): number {
  let n = 0;
  for (const s of m.slots) if (s.busy) n++;
  return n;
}

function greater(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  }
  return false;
}

function isBreakerOpenError(err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: string }).code === "EOPENBREAKER";
}
