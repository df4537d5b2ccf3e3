/**
 * The pool of backends (shards) serving one model: a bounded priority queue,
 * slot accounting, slot choice by prefix/session affinity then load, one
 * circuit breaker per backend, and the gateway's one retry loop.
 */
import { ShardError } from "../engine/shard-process.js";
import {
  GatewayError,
  engineFailure,
  invalidRequest,
  overloaded,
  timeout as timeoutError,
  unavailable,
} from "../errors.js";
import type { SwitchyardConfig } from "../config/index.js";
import type { GenerationInput, GenerationOptions, GenerationResult, SamplingParams } from "../types.js";
import type { Backend, BackendState } from "./backend.js";
import { ShardBreaker, type BreakerState } from "./breaker.js";
import { RetryBudget } from "./retry-budget.js";
import { commonPrefixLength, prefixChain } from "./affinity.js";
import { childController, linkAbort } from "../util/link-abort.js";

/** Raised when the client went away; nobody will read the response. */
export class ClientAbortError extends Error {
  constructor() {
    super("The client closed the request.");
    this.name = "AbortError";
  }
}

interface SlotState {
  busy: boolean;
  chain: string[];
  session: string | undefined;
  lastUsed: number;
}

interface Member {
  backend: Backend;
  breaker: ShardBreaker;
  slots: SlotState[];
}

interface Lease {
  member: Member;
  slot: number;
  queueMs: number;
}

interface Waiter {
  priority: number;
  seq: number;
  enqueuedAt: number;
  chain: string[];
  session: string | undefined;
  exclude: ReadonlySet<string>;
  grant: (lease: Lease) => void;
  fail: (err: Error) => void;
}

export interface PoolRequestOptions extends GenerationOptions {
  requestId: string;
  /** Higher runs first; FIFO within a priority. Default 0. */
  priority?: number;
  /** `user` or `x-session-id`: keeps a conversation on the slot holding its prefix. */
  sessionKey?: string;
  /** Overall deadline for this request in ms (queue + generation). */
  timeoutMs?: number;
  traceparent?: string;
  /** Called once a slot is granted (queue wait known) and at the first token. */
  onAdmitted?: (info: { shard: string; queueMs: number }) => void;
}

/** Everything a status page or /metrics wants to know about a pool, at one instant. */
export interface PoolSnapshot {
  model: string;
  waiting: number;
  running: number;
  shards: Array<{
    id: string;
    kind: "local" | "remote";
    state: BackendState;
    breaker: BreakerState;
    slotsBusy: number;
    slotsTotal: number;
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
}

/** Errors that are the client's own (never trip a breaker, never retried). */
export function isClientFault(err: unknown): boolean {
  if (err instanceof ClientAbortError) return true;
  if (err instanceof GatewayError) return err.isClientError;
  if (err instanceof ShardError) return ["context_length_exceeded", "invalid_grammar", "invalid_request", "aborted"].includes(err.code);
  return false;
}

/** Maps a backend failure to the one error envelope. */
export function toClientError(err: unknown): Error {
  if (err instanceof GatewayError || err instanceof ClientAbortError) return err;
  if (err instanceof ShardError) {
    switch (err.code) {
      case "context_length_exceeded":
        return invalidRequest(err.message, { param: "messages", code: "context_length_exceeded" });
      case "invalid_grammar":
        return invalidRequest(err.message, { param: err.param ?? "response_format", code: err.param?.startsWith("tools") ? "invalid_tools" : "invalid_response_format" });
      case "invalid_request":
        return invalidRequest(err.message, err.param ? { param: err.param } : {});
      case "crashed":
      case "not_ready":
        return unavailable("The model shard serving this request failed; please retry.", 1000);
      case "timeout":
        return timeoutError(err.message);
      default:
        return engineFailure(undefined, err); // the shard's own message goes to the log, not to the client
    }
  }
  if (isBreakerTimeoutError(err)) return timeoutError("The model shard did not produce a first token in time; please retry.");
  return engineFailure(undefined, err);
}

/**
 * @example
 * ```ts
 * const pool = new ModelPool({ model: "tiny", backends, queue, breaker, retry, requestTimeoutMs: 60_000 });
 * await pool.start();
 * const result = await pool.generate({ kind: "chat", messages }, params, { requestId, onChunk });
 * ```
 */
export class ModelPool {
  readonly model: string;
  private readonly members: Member[];
  private waiters: Waiter[] = [];
  private seq = 0;
  private running = 0;
  private disposing: Promise<void> | undefined;
  private readonly budget: RetryBudget;
  private avgServiceMs = 1000;

  constructor(private readonly opts: ModelPoolOptions) {
    this.model = opts.model;
    this.budget = new RetryBudget(opts.retry.budgetRatio);
    this.members = opts.backends.map((backend) => {
      const member: Member = {
        backend,
        breaker: new ShardBreaker({
          config: opts.breaker,
          isClientError: isClientFault,
          onStateChange: (state) => {
            opts.onBreakerChange?.(backend.id, state);
            this.dispatch();
          },
        }),
        slots: Array.from({ length: backend.capacity }, () => ({ busy: false, chain: [], session: undefined, lastUsed: 0 })),
      };
      backend.onStateChange.createListener((state) => {
        // A restarted process has an empty KV cache: forget what the slots held.
        if (state !== "ready") for (const s of member.slots) s.chain = [];
        this.dispatch();
      });
      return member;
    });
  }

  /** Starts every backend; resolves once all have settled, rejects only if none could start. */
  async start(): Promise<void> {
    const results = await Promise.allSettled(this.members.map((m) => m.backend.start()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failures.length === results.length && failures[0]) throw failures[0].reason;
  }

  get backends(): readonly Backend[] {
    return this.members.map((m) => m.backend);
  }

  /** Ready = at least one backend can take work. */
  get ready(): boolean {
    return this.members.some((m) => m.backend.state === "ready");
  }

  /** Context size per slot of the first ready backend. */
  get contextSize(): number | undefined {
    return this.members.find((m) => m.backend.contextSize !== undefined)?.backend.contextSize;
  }

  snapshot(): PoolSnapshot {
    return {
      model: this.model,
      waiting: this.waiters.length,
      running: this.running,
      shards: this.members.map((m) => ({
        id: m.backend.id,
        kind: m.backend.kind,
        state: m.backend.state,
        breaker: m.breaker.state,
        slotsBusy: m.slots.filter((s) => s.busy).length,
        slotsTotal: m.slots.length,
        restarts: m.backend.restarts,
        lastError: m.backend.lastError,
      })),
    };
  }

  /**
   * Runs one generation: queue → slot → backend, retrying once on another
   * backend if it fails before the first token. Errors are GatewayErrors (or
   * ClientAbortError); after the first chunk was delivered they are final.
   */
  async generate(input: GenerationInput, params: SamplingParams, opts: PoolRequestOptions): Promise<GenerationResult> {
    const deadlineMs = opts.timeoutMs ?? this.opts.requestTimeoutMs;
    const deadline = AbortSignal.timeout(deadlineMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    const abortError = () => (opts.signal?.aborted ? new ClientAbortError() : timeoutError(`Request timed out after ${deadlineMs} ms.`));
    const chain = prefixChain(input);
    const exclude = new Set<string>();
    this.budget.recordRequest();
    // A prompt that cannot fit must not wait in the queue to learn so.
    if (!this.hasFreeSlot()) await this.rejectIfTooLong(input, signal, abortError);

    for (let attempt = 0; ; attempt++) {
      let lease: Lease;
      try {
        lease = await this.acquire(chain, opts.sessionKey, opts.priority ?? 0, exclude, signal);
      } catch (err) {
        if (signal.aborted) throw abortError();
        throw err;
      }
      const { member, slot, queueMs } = lease;
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
          ...(opts.traceparent ? { traceparent: opts.traceparent } : {}),
          onChunk: (chunk) => {
            if (!delivered) {
              delivered = true;
              firstToken();
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
        };
      } catch (err) {
        member.slots[slot]!.chain = [];
        if (signal.aborted) throw abortError();
        const retryable = !delivered && !isClientFault(err) && attempt < this.opts.retry.attempts && this.members.length > 1;
        if (retryable && this.budget.tryRetry()) {
          exclude.add(member.backend.id);
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

  private hasFreeSlot(): boolean {
    return this.members.some((m) => m.backend.state === "ready" && m.breaker.admits && m.slots.some((s) => !s.busy));
  }

  /** 400 `context_length_exceeded` before queueing, counted by a ready local shard (no slot needed). */
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
  async embed(texts: string[], signal?: AbortSignal): Promise<{ vectors: number[][]; tokens: number }> {
    const ready = this.members.filter((m) => m.backend.state === "ready" && m.breaker.admits);
    const member = ready.sort((a, b) => busyCount(a) - busyCount(b))[0];
    if (!member) throw unavailable(`No shard of model '${this.model}' is ready.`, this.retryAfterMs());
    try {
      return await member.backend.embed(texts, signal);
    } catch (err) {
      throw toClientError(err);
    }
  }

  private acquire(chain: string[], session: string | undefined, priority: number, exclude: ReadonlySet<string>, signal: AbortSignal): Promise<Lease> {
    const enqueuedAt = performance.now();
    if (signal.aborted) return Promise.reject(new ClientAbortError());
    const candidates = this.members.filter((m) => !exclude.has(m.backend.id));
    const live = candidates.filter((m) => m.backend.state !== "failed" && m.backend.state !== "stopped");
    if (live.length === 0) throw unavailable(`No shard of model '${this.model}' is available.`, this.retryAfterMs());
    if (live.every((m) => m.breaker.state === "open")) {
      throw overloaded(`Every shard of model '${this.model}' is out of rotation; retry later.`, Math.min(...live.map((m) => m.breaker.msUntilHalfOpen)));
    }
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        priority,
        seq: this.seq++,
        enqueuedAt,
        chain,
        session,
        exclude,
        grant: (lease) => {
          cleanup();
          resolve(lease);
        },
        fail: (err) => {
          cleanup();
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.remove(waiter);
        waiter.fail(overloaded(`Timed out after ${this.opts.queue.maxWaitMs} ms waiting for a free slot of model '${this.model}'.`, this.retryAfterMs()));
      }, this.opts.queue.maxWaitMs);
      if (signal.aborted) {
        clearTimeout(timer);
        return reject(new ClientAbortError());
      }
      const link = linkAbort(signal, () => {
        this.remove(waiter);
        waiter.fail(new ClientAbortError());
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
        return waiter.fail(overloaded(`The queue for model '${this.model}' is full; retry later.`, this.retryAfterMs()));
      }
      this.insert(waiter);
    });
  }

  private insert(waiter: Waiter): void {
    // Priority desc, then FIFO: find the first waiter with lower priority.
    const at = this.waiters.findIndex((w) => w.priority < waiter.priority);
    if (at === -1) this.waiters.push(waiter);
    else this.waiters.splice(at, 0, waiter);
  }

  private remove(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i !== -1) this.waiters.splice(i, 1);
  }

  /** Chooses a free slot: longest prefix match, then same session, then the least loaded backend, then the least recently used slot. */
  private pick(waiter: Waiter): Lease | undefined {
    let best: { member: Member; slot: number; score: [number, number, number, number] } | undefined;
    for (const member of this.members) {
      if (waiter.exclude.has(member.backend.id) || member.backend.state !== "ready" || !member.breaker.admits) continue;
      const load = busyCount(member);
      // A half-open breaker gets exactly one probe.
      if (member.breaker.state === "half_open" && load > 0) continue;
      member.slots.forEach((s, slot) => {
        if (s.busy) return;
        const score: [number, number, number, number] = [
          commonPrefixLength(s.chain, waiter.chain),
          waiter.session !== undefined && s.session === waiter.session ? 1 : 0,
          -load,
          -s.lastUsed,
        ];
        if (!best || greater(score, best.score)) best = { member, slot, score };
      });
    }
    if (!best) return undefined;
    const s = best.member.slots[best.slot]!;
    s.busy = true;
    s.session = waiter.session;
    s.lastUsed = performance.now();
    return { member: best.member, slot: best.slot, queueMs: performance.now() - waiter.enqueuedAt };
  }

  /** Frees the slot once the backend confirms nothing runs on it any more (an abort may outlive the request). */
  private release(member: Member, slot: number, session: string | undefined): void {
    const s = member.slots[slot]!;
    s.session = session;
    const free = () => {
      s.busy = false;
      this.dispatch();
    };
    const confirmed = member.backend.whenSlotFree?.(slot);
    if (confirmed) void confirmed.then(free);
    else free();
  }

  /** Continuous batching at the gateway: every freed slot takes the next waiter it can serve. */
  private dispatch(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const lease = this.pick(waiter);
      if (lease) {
        this.waiters.splice(i, 1);
        waiter.grant(lease);
      } else i++;
    }
  }

  private retryAfterMs(): number {
    const capacity = Math.max(1, this.members.reduce((n, m) => n + m.slots.length, 0));
    return Math.max(1000, Math.ceil((this.avgServiceMs * (this.waiters.length + 1)) / capacity));
  }

  /** Stops every backend. Waiters are failed with 503. Idempotent. */
  dispose(): Promise<void> {
    return (this.disposing ??= (async () => {
      for (const w of this.waiters.splice(0)) w.fail(unavailable("The server is shutting down."));
      for (const m of this.members) m.breaker.shutdown();
      await Promise.all(this.members.map((m) => m.backend.dispose()));
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

/** opossum's own timeout (admission through first token took longer than `breaker.timeoutMs`). */
function isBreakerTimeoutError(err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: string }).code === "ETIMEDOUT";
}

function isBreakerOpenError(err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: string }).code === "EOPENBREAKER";
}
