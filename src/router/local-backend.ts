/**
 * A local shard: one supervised shard process. A crash rejects the in-flight
 * generations (the pool turns that into retries or stream error events) and
 * schedules a restart with exponential backoff. A shard that stops answering its
 * heartbeat (or confirming aborts) is `unhealthy`: out of rotation at once, and
 * killed and restarted when it has not recovered within `unhealthyGraceMs`.
 */
import { EventRelay } from "lifecycle-utils";
import { ShardProcess, ShardError, type ShardProcessOptions } from "../engine/shard-process.js";
import type { KvCells, ShardSpec, WireDone } from "../engine/protocol.js";
import type { GenerationInput, SamplingParams } from "../types.js";
import { BackendError, type Backend, type BackendGenerateOptions, type BackendState } from "./backend.js";

/** The shard process's error, re-raised as the router's {@link BackendError} (same code, message, param). */
function asBackendError(err: unknown): never {
  if (err instanceof ShardError) throw new BackendError(err.code, err.message, err.param, { cause: err });
  throw err;
}

/** The last `n` non-empty lines of a text. */
function lastLines(text: string, n: number): string {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-n)
    .join("\n");
}

export interface LocalBackendOptions {
  restartBackoffMs?: number;
  restartBackoffMaxMs?: number;
  /** A process that stayed up this long resets the backoff. */
  stableAfterMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Heartbeat and call deadlines of the shard process (see {@link ShardProcessOptions}). */
  deadlines?: Omit<ShardProcessOptions, "env" | "loadTimeoutMs">;
  /** How long an unresponsive shard may stay so before it is killed and restarted. Default 10 s. */
  unhealthyGraceMs?: number;
  onLog?: (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;
}

export class LocalBackend implements Backend {
  readonly kind = "local" as const;
  private process: ShardProcess | undefined;
  private _state: BackendState = "stopped";
  private _restarts = 0;
  private _lastError: string | undefined;
  readonly onStateChange = new EventRelay<BackendState>();
  private restartTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private backoff: number;
  private disposed = false;

  constructor(
    readonly spec: ShardSpec,
    private readonly opts: LocalBackendOptions = {},
  ) {
    this.backoff = opts.restartBackoffMs ?? 500;
  }

  get id(): string {
    return this.spec.shardId;
  }
  get capacity(): number {
    return this.spec.slots;
  }
  get state(): BackendState {
    return this._state;
  }
  get restarts(): number {
    return this._restarts;
  }
  get lastError(): string | undefined {
    return this._lastError;
  }
  get contextSize(): number | undefined {
    return this.process?.info.contextSize;
  }
  get kvCells(): KvCells | undefined {
    return this._state === "ready" ? this.process?.kvCells : undefined;
  }
  /** The shard's OS process id (tests kill it to simulate a crash). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  private setState(state: BackendState): void {
    if (this._state === state) return;
    this._state = state;
    this.onStateChange.dispatchEvent(state);
  }

  async start(): Promise<void> {
    this.disposed = false;
    this.setState(this._restarts > 0 ? "restarting" : "starting");
    try {
      const proc = await ShardProcess.start(this.spec, { ...this.opts.deadlines, ...(this.opts.env ? { env: this.opts.env } : {}) });
      if (this.disposed) {
        await proc.dispose();
        return;
      }
      this.process = proc;
      const startedAt = Date.now();
      proc.on("exit", (code, signal) => this.onExit(proc, startedAt, code, signal));
      proc.on("health", (responsive, reason) => this.onHealth(proc, responsive, reason));
      this._lastError = undefined;
      this.setState("ready");
    } catch (err) {
      this._lastError = err instanceof Error ? err.message : String(err);
      this.setState("failed");
      throw err;
    }
  }

  /** Out of rotation while unresponsive; killed (then restarted by {@link onExit}) if it stays so past the grace period. */
  private onHealth(proc: ShardProcess, responsive: boolean, reason: string): void {
    if (this.process !== proc || this.disposed) return;
    if (responsive) {
      this.clearGrace();
      if (this._state === "unhealthy") {
        this.opts.onLog?.("info", "shard answers again; back in rotation", { shard: this.id });
        this._lastError = undefined;
        this.setState("ready");
      }
      return;
    }
    if (this._state !== "ready") return;
    const graceMs = this.opts.unhealthyGraceMs ?? 10_000;
    this._lastError = `unresponsive: ${reason}`;
    this.opts.onLog?.("warn", "shard unresponsive; out of rotation", { shard: this.id, pid: proc.pid, reason, killAfterMs: graceMs });
    this.setState("unhealthy");
    this.graceTimer = setTimeout(() => {
      this.graceTimer = undefined;
      if (this.process !== proc || proc.healthy) return;
      this.opts.onLog?.("error", "shard still unresponsive after the grace period; killing it", { shard: this.id, pid: proc.pid, graceMs });
      proc.kill("SIGKILL");
    }, graceMs);
  }

  private clearGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  private onExit(proc: ShardProcess, startedAt: number, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.process !== proc) return;
    this.process = undefined;
    this.clearGrace();
    if (this.disposed) return this.setState("stopped");
    if (Date.now() - startedAt > (this.opts.stableAfterMs ?? 60_000)) this.backoff = this.opts.restartBackoffMs ?? 500;
    this._lastError = `shard process exited (code ${code}, signal ${signal})`;
    // What the process last wrote to stderr (a native abort, an uncaught exception) is usually the cause.
    const stderr = lastLines(proc.recentStderr, 20);
    this.opts.onLog?.("error", "shard crashed; restarting", { shard: this.id, code, signal, backoffMs: this.backoff, ...(stderr ? { stderr } : {}) });
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    this.setState("restarting");
    const delay = this.backoff;
    this.backoff = Math.min(this.opts.restartBackoffMaxMs ?? 30_000, this.backoff * 2);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this._restarts++;
      this.start().catch((err: unknown) => {
        this.opts.onLog?.("error", "shard restart failed", { shard: this.id, error: err instanceof Error ? err.message : String(err) });
        // Keep trying: a transient failure (e.g. memory pressure) should not take the shard out for good.
        if (!this.disposed) this.scheduleRestart();
      });
    }, delay);
  }

  generate(slot: number, input: GenerationInput, params: SamplingParams, opts: BackendGenerateOptions): Promise<WireDone> {
    const proc = this.process;
    if (!proc || this._state !== "ready") return Promise.reject(new BackendError("not_ready", `Shard ${this.id} is not ready.`));
    return proc.generate(slot, input, params, opts).catch(asBackendError);
  }

  embed(texts: string[]): Promise<{ vectors: number[][]; tokens: number }> {
    const proc = this.process;
    if (!proc || this._state !== "ready") return Promise.reject(new BackendError("not_ready", `Shard ${this.id} is not ready.`));
    return proc.embed(texts).catch(asBackendError);
  }

  countTokens(input: GenerationInput, signal?: AbortSignal): Promise<number> {
    const proc = this.process;
    if (!proc || this._state !== "ready") return Promise.reject(new BackendError("not_ready", `Shard ${this.id} is not ready.`));
    return proc.countTokens(input, signal).catch(asBackendError);
  }

  tokenize(prompt: string, special: boolean, signal?: AbortSignal): Promise<number[]> {
    const proc = this.process;
    if (!proc || this._state !== "ready") return Promise.reject(new BackendError("not_ready", `Shard ${this.id} is not ready.`));
    return proc.tokenize(prompt, special, signal).catch(asBackendError);
  }

  detokenize(tokens: number[], signal?: AbortSignal): Promise<string> {
    const proc = this.process;
    if (!proc || this._state !== "ready") return Promise.reject(new BackendError("not_ready", `Shard ${this.id} is not ready.`));
    return proc.detokenize(tokens, signal).catch(asBackendError);
  }

  whenSlotFree(slot: number): Promise<void> {
    // No process: the next one starts with every slot free.
    return this.process?.whenSlotFree(slot) ?? Promise.resolve();
  }

  /** Kills the shard process (crash simulation for tests and chaos drills). */
  kill(): void {
    this.process?.kill("SIGKILL");
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.clearGrace();
    const proc = this.process;
    this.process = undefined;
    await proc?.dispose();
    this.setState("stopped");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
