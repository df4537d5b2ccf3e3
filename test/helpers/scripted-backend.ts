/**
 * A scripted backend for timing-controlled fault injection (hang, slow token,
 * error at token k). It implements the same Backend interface as real shards;
 * the real-shard tests cover the real path.
 */
import { EventRelay } from "lifecycle-utils";
import type { WireDone } from "../../src/engine/protocol.js";
import { BackendError, type Backend, type BackendState } from "../../src/router/index.js";
import type { BackendGenerateOptions } from "../../src/router/backend.js";
import type { GenerationInput, SamplingParams } from "../../src/types.js";

export type Script =
  | { kind: "ok"; tokens: number; delayMs?: number }
  | { kind: "fail-before-first-token"; code?: "engine_error" | "crashed"; delayMs?: number }
  | { kind: "fail-at-token"; token: number; delayMs?: number }
  | { kind: "hang" };

export class ScriptedBackend implements Backend {
  readonly kind = "local" as const;
  readonly restarts = 0;
  readonly lastError = undefined;
  readonly contextSize = 512;
  private _state: BackendState = "stopped";
  readonly onStateChange = new EventRelay<BackendState>();
  calls = 0;

  constructor(
    readonly id: string,
    readonly capacity: number,
    /** Picks the script for the n-th call (0-based). */
    private readonly script: (call: number) => Script,
  ) {}

  get state(): BackendState {
    return this._state;
  }
  async start(): Promise<void> {
    this._state = "ready";
    this.onStateChange.dispatchEvent("ready");
  }
  async dispose(): Promise<void> {
    this._state = "stopped";
  }
  async embed(): Promise<{ vectors: number[][]; tokens: number }> {
    return { vectors: [[1, 0]], tokens: 1 };
  }

  async generate(_slot: number, _input: GenerationInput, _params: SamplingParams, opts: BackendGenerateOptions): Promise<WireDone> {
    const s = this.script(this.calls++);
    const sleep = (ms: number) =>
      new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          clearTimeout(timer);
          reject(new BackendError("aborted", "aborted"));
        };
        // One listener per sleep, removed when the sleep ends (a stream's tokens would otherwise pile them up).
        const timer = setTimeout(() => {
          opts.signal?.removeEventListener("abort", onAbort);
          resolve();
        }, ms);
        opts.signal?.addEventListener("abort", onAbort, { once: true });
      });
    if (s.kind === "hang") {
      await sleep(1e9);
      throw new Error("unreachable");
    }
    if (s.kind === "fail-before-first-token") {
      await sleep(s.delayMs ?? 0);
      throw new BackendError(s.code ?? "engine_error", `${this.id} failed`);
    }
    const total = s.kind === "ok" ? s.tokens : s.token + 5;
    let text = "";
    for (let i = 0; i < total; i++) {
      await sleep(s.delayMs ?? 0);
      if (s.kind === "fail-at-token" && i === s.token) throw new BackendError("crashed", `${this.id} crashed at token ${i}`);
      const piece = `t${i} `;
      text += piece;
      opts.onChunk?.({ text: piece, tokens: 1 });
    }
    return { text, finishReason: "length", usage: { promptTokens: 3, completionTokens: total }, cachedPromptTokens: 0, ttftMs: 0, decodeMs: 0 };
  }
}
