/**
 * The gateway's handle on one shard process: forks it, waits for `ready`,
 * multiplexes generations by id and turns the IPC protocol back into promises.
 * It knows nothing about routing; slot accounting is the caller's (the router's).
 */
import { fork, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { fileURLToPath } from "node:url";
import type { GenerationInput, GenerationOptions, SamplingParams } from "../types.js";
import type { ChildMessage, ParentMessage, ShardInfo, ShardSpec, WireDone, WireError } from "./protocol.js";

/** A failure reported by (or about) a shard. `code` says whose fault it was. */
export class ShardError extends Error {
  constructor(
    readonly code: WireError["code"] | "crashed" | "load_failed" | "not_ready",
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
}

export interface ShardProcessOptions {
  /** How long loading may take before the process is killed. Default 120 s. */
  loadTimeoutMs?: number;
  /** Extra environment for the child (e.g. LANCEDB_LOG, OTEL vars). */
  env?: NodeJS.ProcessEnv;
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
 * Emits `exit` (code, signal) when the process ends for any reason.
 */
export class ShardProcess extends EventEmitter<{ exit: [code: number | null, signal: NodeJS.Signals | null] }> {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private exited = false;
  private stderrTail = "";

  private constructor(
    readonly spec: ShardSpec,
    private readonly child: ChildProcess,
    readonly info: ShardInfo,
  ) {
    super();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  static async start(spec: ShardSpec, { loadTimeoutMs = 120_000, env = {} }: ShardProcessOptions = {}): Promise<ShardProcess> {
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
    const shard = new ShardProcess(spec, child, info);
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
      const err = new ShardError("crashed", `Shard ${this.spec.shardId} exited (code ${code}, signal ${signal}).`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.emit("exit", code, signal);
    });
    // A dead channel surfaces as an 'error' on send; the exit handler does the cleanup.
    this.child.on("error", () => undefined);
  }

  private onMessage(msg: ChildMessage): void {
    if (msg.type === "ready" || msg.type === "fatal") return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    switch (msg.type) {
      case "chunk": {
        const { type: _type, id: _id, ...chunk } = msg;
        p.onChunk?.(chunk);
        return;
      }
      case "done":
        this.pending.delete(msg.id);
        (p.resolve as (v: WireDone) => void)(msg.result);
        return;
      case "embedded":
        this.pending.delete(msg.id);
        (p.resolve as (v: { vectors: number[][]; tokens: number }) => void)({ vectors: msg.vectors, tokens: msg.tokens });
        return;
      case "tokenized":
        this.pending.delete(msg.id);
        (p.resolve as (v: number) => void)(msg.tokens);
        return;
      case "error":
        this.pending.delete(msg.id);
        p.reject(new ShardError(msg.error.code, msg.error.message, msg.error.param));
        return;
    }
  }

  private request<T>(build: (id: number) => ParentMessage, onChunk?: GenerationOptions["onChunk"]): { id: number; promise: Promise<T> } {
    const id = this.nextId++;
    const promise = new Promise<T>((resolve, reject) => {
      if (this.exited) return reject(new ShardError("crashed", `Shard ${this.spec.shardId} is not running.`));
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject, ...(onChunk ? { onChunk } : {}) });
      this.child.send(build(id));
    });
    return { id, promise };
  }

  /** Runs one generation on `slot`. Aborting the signal aborts it in the shard and frees the slot there. */
  generate(slot: number, input: GenerationInput, params: SamplingParams, opts: GenerationOptions & { requestId: string; traceparent?: string }): Promise<WireDone> {
    const { id, promise } = this.request<WireDone>(
      (id) => ({
        type: "generate",
        id,
        slot,
        request: { input, params, requestId: opts.requestId, ...(opts.traceparent ? { traceparent: opts.traceparent } : {}) },
      }),
      opts.onChunk,
    );
    const signal = opts.signal;
    if (!signal) return promise;
    const onAbort = () => {
      if (!this.exited) this.child.send({ type: "abort", id } satisfies ParentMessage);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    return promise.finally(() => signal.removeEventListener("abort", onAbort));
  }

  embed(input: string[]): Promise<{ vectors: number[][]; tokens: number }> {
    return this.request<{ vectors: number[][]; tokens: number }>((id) => ({ type: "embed", id, input })).promise;
  }

  countTokens(input: GenerationInput): Promise<number> {
    return this.request<number>((id) => ({ type: "tokenize", id, input })).promise;
  }

  /** Last lines the process wrote to stderr, for crash reports. */
  get recentStderr(): string {
    return this.stderrTail;
  }

  /** Kills the process at once (tests, crash simulation). */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (!this.exited) this.child.kill(signal);
  }

  /** Asks the shard to free its model, then kills it if it has not exited after `graceMs`. */
  async dispose(graceMs = 5_000): Promise<void> {
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
