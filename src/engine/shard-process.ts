/**
 * The gateway's handle on one shard process: forks it, waits for `ready`,
 * multiplexes generations by id and turns the IPC protocol back into promises.
 * It knows nothing about routing; slot accounting is the caller's (the router's).
 */
import { fork, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { fileURLToPath } from "node:url";
import type { GenerationInput, GenerationOptions, SamplingParams } from "../types.js";
import type { ChildMessage, KvCells, ParentMessage, ShardInfo, ShardSpec, WireDone, WireError } from "./protocol.js";
import { linkAbort } from "../util/link-abort.js";

/** A failure reported by (or about) a shard. `code` says whose fault it was. */
export class ShardError extends Error {
  constructor(
    /**
     * `aborted`: the gateway itself aborted the call (client gone or request deadline), classified here in the
     * parent, never inferred from the child's error text. `timeout`: the shard did not answer within the call's
     * deadline.
     */
    readonly code: WireError["code"] | "crashed" | "load_failed" | "not_ready" | "timeout",
    message: string,
    /** The request field at fault, for client errors. */
    readonly param?: string,
  ) {
    super(message);
    this.name = "ShardError";
  }
}

interface Pending {
  resolve: (value: never) => void;
  reject: (err: Error) => void;
  onChunk?: GenerationOptions["onChunk"];
  /** The slot a generation runs on (absent for tokenize/embed). */
  slot?: number;
  /** The caller already has its answer (a parent-side abort or deadline); the entry now waits for the shard's own. */
  answered: boolean;
  /** Resolves when the shard answered or exited: the work is over inside the shard. */
  ended: Promise<void>;
  end: () => void;
  timer?: NodeJS.Timeout | undefined;
  /** Counted in `unconfirmedAborts` (the shard missed `abortConfirmMs`). */
  unconfirmed?: boolean;
}

export interface ShardProcessOptions {
  /** How long loading may take before the process is killed. Default 120 s. */
  loadTimeoutMs?: number;
  /** Extra environment for the child (e.g. LANCEDB_LOG, OTEL vars). */
  env?: NodeJS.ProcessEnv;
  /** Parent-side deadline of a tokenize or embed call: past it the call fails with `timeout`. Default 30 s. */
  callTimeoutMs?: number;
  /** A heartbeat `ping` goes out this often (0 = no heartbeat). Default 1 s. */
  heartbeatIntervalMs?: number;
  /** No `pong` for this long marks the shard unresponsive (`health` event). Default 5 s. */
  heartbeatTimeoutMs?: number;
  /** An aborted generation the shard has not confirmed within this long marks it unresponsive. Default 5 s. */
  abortConfirmMs?: number;
}

/** Where the worker entry lives: compiled `.js` next to us, or `.ts` run through tsx in development. */
function workerEntry(): { path: string; execArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith(".ts")) {
    return { path: fileURLToPath(new URL("./shard-worker.ts", here)), execArgv: ["--import", "tsx"] };
  }
  return { path: fileURLToPath(new URL("./shard-worker.js", here)), execArgv: [] };
}

/**
 * @example
 * ```ts
 * const shard = await ShardProcess.start(spec);
 * const done = await shard.generate(0, { kind: "completion", prompt: "Hi" }, params, { onChunk: console.log });
 * await shard.dispose();
 * ```
 * Emits `exit` (code, signal) when the process ends for any reason, and `health` (responsive, reason) when it
 * stops answering its heartbeat or confirming aborts, and again when it recovers.
 *
 * Every call has a deadline kept here in the parent, so a stopped or wedged child never hangs a caller: an
 * aborted generation is answered at once with `aborted`; tokenize and embed fail with `timeout` after
 * `callTimeoutMs`. The work may still run inside the child: {@link whenSlotFree} says when its slot is truly free.
 */
export class ShardProcess extends EventEmitter<{
  exit: [code: number | null, signal: NodeJS.Signals | null];
  health: [responsive: boolean, reason: string];
}> {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private exited = false;
  private disposing: Promise<void> | undefined;
  private stderrTail = "";
  private heartbeat: NodeJS.Timeout | undefined;
  private pingSeq = 0;
  private lastPongAt = Date.now();
  private lastKv: KvCells | undefined;
  /** Aborted generations the shard has not confirmed within `abortConfirmMs`. */
  private unconfirmedAborts = 0;
  private responsive = true;
  private readonly callTimeoutMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly abortConfirmMs: number;

  private constructor(
    readonly spec: ShardSpec,
    private readonly child: ChildProcess,
    readonly info: ShardInfo,
    opts: ShardProcessOptions,
  ) {
    super();
    this.callTimeoutMs = opts.callTimeoutMs ?? 30_000;
    this.heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? 5_000;
    this.abortConfirmMs = opts.abortConfirmMs ?? 5_000;
    const every = opts.heartbeatIntervalMs ?? 1_000;
    if (every > 0) {
      this.heartbeat = setInterval(() => this.beat(), every);
      this.heartbeat.unref();
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** KV cache occupancy from the last heartbeat answer (at most `heartbeatIntervalMs` old); undefined before the first. */
  get kvCells(): KvCells | undefined {
    return this.lastKv;
  }

  /** False while the shard misses its heartbeat or leaves an abort unconfirmed. */
  get healthy(): boolean {
    return this.responsive;
  }

  static async start(spec: ShardSpec, opts: ShardProcessOptions = {}): Promise<ShardProcess> {
    const { loadTimeoutMs = 120_000, env = {} } = opts;
    const entry = workerEntry();
    const child = fork(entry.path, [], {
      execArgv: entry.execArgv,
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "pipe", "ipc"],
      serialization: "json",
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const info = await new Promise<ShardInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new ShardError("load_failed", `Shard ${spec.shardId} did not load model '${spec.model}' within ${loadTimeoutMs} ms.`));
      }, loadTimeoutMs);
      const onMessage = (msg: ChildMessage) => {
        if (msg.type === "ready") {
          cleanup();
          resolve(msg.info);
        } else if (msg.type === "fatal") {
          cleanup();
          reject(new ShardError("load_failed", msg.message));
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        cleanup();
        const tail = stderr.trim().split("\n").slice(-3).join(" | ");
        reject(
          new ShardError(
            "load_failed",
            `Shard ${spec.shardId} for model '${spec.model}' (${spec.modelPath}) exited during load (code ${code}, signal ${signal})${tail ? `: ${tail}` : ""}`,
          ),
        );
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      child.on("message", onMessage);
      child.on("exit", onExit);
      child.send({ type: "init", spec } satisfies ParentMessage);
    });
    const shard = new ShardProcess(spec, child, info, opts);
    shard.stderrTail = stderr;
    shard.attach();
    return shard;
  }

  private attach(): void {
    this.child.stderr?.on("data", (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
    });
    this.child.on("message", (msg: ChildMessage) => this.onMessage(msg));
    this.child.on("exit", (code, signal) => {
      this.exited = true;
      this.stopHeartbeat();
      const err = new ShardError("crashed", `Shard ${this.spec.shardId} exited (code ${code}, signal ${signal}).`);
      for (const p of this.pending.values()) this.finish(p, () => p.reject(err));
      this.pending.clear();
      this.emit("exit", code, signal);
    });
    // A dead channel surfaces as an 'error' on send; the exit handler does the cleanup.
    this.child.on("error", () => undefined);
  }

  private beat(): void {
    if (this.exited) return this.stopHeartbeat();
    this.send({ type: "ping", seq: ++this.pingSeq });
    this.updateHealth();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private updateHealth(): void {
    const silentMs = Date.now() - this.lastPongAt;
    const heartbeatOk = this.heartbeat === undefined || silentMs <= this.heartbeatTimeoutMs;
    const responsive = heartbeatOk && this.unconfirmedAborts === 0;
    if (responsive === this.responsive || this.exited) return;
    this.responsive = responsive;
    const reason = responsive
      ? "answering again"
      : !heartbeatOk
        ? `no heartbeat answer for ${silentMs} ms`
        : `${this.unconfirmedAborts} aborted generation(s) not confirmed within ${this.abortConfirmMs} ms`;
    this.emit("health", responsive, reason);
  }

  private send(msg: ParentMessage): void {
    if (this.exited) return;
    try {
      this.child.send(msg);
    } catch {
      // Channel closed: the exit handler fails what is pending.
    }
  }

  /** The shard answered (or exited): the entry ends; the caller gets `answer` unless it already has its answer. */
  private finish(p: Pending, answer: () => void): void {
    if (p.timer) clearTimeout(p.timer);
    if (p.unconfirmed) this.unconfirmedAborts--; // late, but confirmed now
    p.end();
    if (!p.answered) {
      p.answered = true;
      answer();
    }
    this.updateHealth();
  }

  private onMessage(msg: ChildMessage): void {
    if (msg.type === "ready" || msg.type === "fatal") return;
    if (msg.type === "pong") {
      this.lastPongAt = Date.now();
      this.lastKv = msg.kv;
      return this.updateHealth();
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === "chunk") {
      if (p.answered) return; // nobody is listening any more
      const { type: _type, id: _id, ...chunk } = msg;
      p.onChunk?.(chunk);
      return;
    }
    this.pending.delete(msg.id);
    switch (msg.type) {
      case "done":
        return this.finish(p, () => (p.resolve as (v: WireDone) => void)(msg.result));
      case "embedded":
        return this.finish(p, () => (p.resolve as (v: { vectors: number[][]; tokens: number }) => void)({ vectors: msg.vectors, tokens: msg.tokens }));
      case "tokenized":
        return this.finish(p, () => (p.resolve as (v: number | number[]) => void)(msg.ids ?? msg.tokens));
      case "detokenized":
        return this.finish(p, () => (p.resolve as (v: string) => void)(msg.text));
      case "error":
        return this.finish(p, () => p.reject(new ShardError(msg.error.code, msg.error.message, msg.error.param)));
    }
  }

  private request<T>(
    build: (id: number) => ParentMessage,
    extra: { onChunk?: GenerationOptions["onChunk"]; slot?: number; timeoutMs?: number; what?: string } = {},
  ): { id: number; pending: Pending | undefined; promise: Promise<T> } {
    const id = this.nextId++;
    let entry: Pending | undefined;
    const promise = new Promise<T>((resolve, reject) => {
      if (this.exited) return reject(new ShardError("crashed", `Shard ${this.spec.shardId} is not running.`));
      let end!: () => void;
      const ended = new Promise<void>((r) => (end = r));
      const p: Pending = {
        resolve: resolve,
        reject,
        answered: false,
        ended,
        end,
        ...(extra.onChunk ? { onChunk: extra.onChunk } : {}),
        ...(extra.slot !== undefined ? { slot: extra.slot } : {}),
      };
      if (extra.timeoutMs !== undefined) {
        p.timer = setTimeout(() => {
          p.timer = undefined;
          this.answer(p, new ShardError("timeout", `Shard ${this.spec.shardId} did not answer ${extra.what ?? "a call"} within ${extra.timeoutMs} ms.`));
        }, extra.timeoutMs);
      }
      entry = p;
      this.pending.set(id, p);
      this.send(build(id));
    });
    return { id, pending: entry, promise };
  }

  /** Answers the caller now (parent side); the entry stays until the shard answers too. */
  private answer(p: Pending, err: Error): void {
    if (p.answered) return;
    p.answered = true;
    p.reject(err);
  }

  /**
   * Runs one generation on `slot`. Aborting the signal answers the caller at once with `aborted` (the parent
   * knows it aborted) and asks the shard to stop; the slot stays taken until the shard confirms
   * ({@link whenSlotFree}), and a shard that does not confirm within `abortConfirmMs` is reported unresponsive.
   */
  generate(slot: number, input: GenerationInput, params: SamplingParams, opts: GenerationOptions & { requestId: string; traceparent?: string }): Promise<WireDone> {
    const { id, pending, promise } = this.request<WireDone>(
      (id) => ({
        type: "generate",
        id,
        slot,
        request: { input, params, requestId: opts.requestId, ...(opts.traceparent ? { traceparent: opts.traceparent } : {}) },
      }),
      { slot, ...(opts.onChunk ? { onChunk: opts.onChunk } : {}) },
    );
    const signal = opts.signal;
    if (!signal || !pending) return promise;
    const onAbort = () => {
      if (pending.answered || this.exited) return;
      this.send({ type: "abort", id });
      this.answer(pending, new ShardError("aborted", "Generation aborted."));
      pending.timer = setTimeout(() => {
        pending.unconfirmed = true;
        this.unconfirmedAborts++;
        this.updateHealth();
      }, this.abortConfirmMs);
    };
    const link = linkAbort(signal, onAbort);
    return promise.finally(() => link.unlink());
  }

  /** Resolves once no generation runs on `slot` inside the shard (it confirmed the end, or exited). */
  whenSlotFree(slot: number): Promise<void> {
    const running = [...this.pending.values()].filter((p) => p.slot === slot).map((p) => p.ended);
    return Promise.all(running).then(() => undefined);
  }

  embed(input: string[]): Promise<{ vectors: number[][]; tokens: number }> {
    return this.request<{ vectors: number[][]; tokens: number }>((id) => ({ type: "embed", id, input }), { timeoutMs: this.callTimeoutMs, what: "an embedding call" })
      .promise;
  }

  /** Prompt tokens after templating; fails with `timeout` after `callTimeoutMs`, or with `aborted` when `signal` aborts. */
  countTokens(input: GenerationInput, signal?: AbortSignal): Promise<number> {
    const { pending, promise } = this.request<number>((id) => ({ type: "tokenize", id, input }), { timeoutMs: this.callTimeoutMs, what: "a token count" });
    if (!signal || !pending) return promise;
    const link = linkAbort(signal, () => this.answer(pending, new ShardError("aborted", "Token count aborted.")));
    return promise.finally(() => link.unlink());
  }

  /** A text's token ids as a completion prompt has them (`special`: BOS first when the model adds one); fails like {@link countTokens}. */
  tokenize(prompt: string, special: boolean, signal?: AbortSignal): Promise<number[]> {
    const input: GenerationInput = { kind: "completion", prompt };
    const { pending, promise } = this.request<number[]>((id) => ({ type: "tokenize", id, input, ids: special ? "special" : "text" }), { timeoutMs: this.callTimeoutMs, what: "a tokenization" });
    if (!signal || !pending) return promise;
    const link = linkAbort(signal, () => this.answer(pending, new ShardError("aborted", "Tokenization aborted.")));
    return promise.finally(() => link.unlink());
  }

  /** The text of token ids (special tokens give none); fails like {@link countTokens}. */
  detokenize(tokens: number[], signal?: AbortSignal): Promise<string> {
    const { pending, promise } = this.request<string>((id) => ({ type: "detokenize", id, tokens }), { timeoutMs: this.callTimeoutMs, what: "a detokenization" });
    if (!signal || !pending) return promise;
    const link = linkAbort(signal, () => this.answer(pending, new ShardError("aborted", "Detokenization aborted.")));
    return promise.finally(() => link.unlink());
  }

  /** Last lines the process wrote to stderr, for crash reports. */
  get recentStderr(): string {
    return this.stderrTail;
  }

  /** Kills the process at once (tests, crash simulation). */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (!this.exited) this.child.kill(signal);
  }

  /** Asks the shard to free its model, then kills it if it has not exited after `graceMs`. Idempotent. */
  dispose(graceMs = 5_000): Promise<void> {
    return (this.disposing ??= this.shutdown(graceMs));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.stopHeartbeat();
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    try {
      this.child.send({ type: "shutdown" } satisfies ParentMessage);
    } catch {
      // Channel already closed; fall through to the kill below.
    }
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
