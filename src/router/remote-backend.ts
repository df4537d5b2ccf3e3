/**
 * A remote shard: any OpenAI-compatible upstream (llama-server, vLLM, another
 * Switchyard) behind the same router, breaker, retry and metrics. A streamed
 * request streams from the upstream so chunks flow through as they arrive; a
 * non-streamed one asks for `stream: false` (half the work on both sides).
 * Requests go through one undici `Pool` per backend: keep-alive connections,
 * bounded in number, bodies always read to the end so sockets are reused.
 */
import { EventRelay } from "lifecycle-utils";
import { Pool, type Dispatcher } from "undici";
import type { WireDone } from "../engine/protocol.js";
import type { GeneratedToolCall, GenerationInput, SamplingParams, PromptTokenLogprob, TokenLogprob } from "../types.js";
import { logprobEntries, splitEcho, toolCallFragments, upstreamTools, type UpstreamLogprobs, type UpstreamToolCallDelta } from "./upstream-extras.js";
import { BackendError, type Backend, type BackendGenerateOptions, type BackendState } from "./backend.js";
import { sseEvents } from "../util/sse-events.js";

export interface RemoteBackendOptions {
  id: string;
  /** Base URL including `/v1`. */
  baseUrl: string;
  /** Model name sent upstream. */
  model: string;
  /** Concurrent requests sent to this upstream (the pool's slots for it; config `maxConcurrency`). */
  capacity: number;
  /** Keep-alive connections to the upstream; requests beyond them wait in undici's queue. Default 64. */
  maxConnections?: number;
  apiKey?: string;
  /** How often an unreachable upstream is probed again. Default 2 s. */
  probeIntervalMs?: number;
}

/** A non-streamed upstream answer (chat or legacy completions). */
interface UpstreamCompletion {
  choices?: Array<{
    message?: { content?: string | null; tool_calls?: Array<{ function?: { name?: string; arguments?: string } }> | null };
    text?: string;
    logprobs?: UpstreamLogprobs | null;
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

interface UpstreamChunk {
  choices?: Array<{
    delta?: { content?: string | null; tool_calls?: UpstreamToolCallDelta[] };
    text?: string;
    logprobs?: UpstreamLogprobs | null;
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string };
}

export class RemoteBackend implements Backend {
  readonly kind = "remote" as const;
  readonly restarts = 0;
  private _state: BackendState = "stopped";
  private _lastError: string | undefined;
  readonly onStateChange = new EventRelay<BackendState>();
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly base: string;
  /** The base URL's path (`/v1`), prefixed to every request path. */
  private readonly basePath: string;
  private readonly dispatcher: Pool;
  private readonly staticHeaders: Record<string, string>;

  constructor(private readonly opts: RemoteBackendOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, "");
    const url = new URL(this.base);
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.dispatcher = new Pool(url.origin, { connections: opts.maxConnections ?? 64, keepAliveTimeout: 30_000 });
    this.staticHeaders = { "content-type": "application/json", ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) };
  }

  get id(): string {
    return this.opts.id;
  }
  get upstream(): string {
    return this.base;
  }
  get capacity(): number {
    return this.opts.capacity;
  }
  get state(): BackendState {
    return this._state;
  }
  get lastError(): string | undefined {
    return this._lastError;
  }
  get contextSize(): number | undefined {
    return undefined;
  }

  private setState(state: BackendState): void {
    if (this._state === state) return;
    this._state = state;
    this.onStateChange.dispatchEvent(state);
  }

  /** One request on the pool; transport failures become `BackendError`s (`aborted` when `signal` fired). */
  private async send(method: "GET" | "POST", path: string, body: string | undefined, headers: Record<string, string>, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    try {
      return await this.dispatcher.request({ method, path: path.startsWith("/") ? path : `${this.basePath}/${path}`, headers, ...(body === undefined ? {} : { body }), ...(signal ? { signal } : {}) });
    } catch (err) {
      if (signal?.aborted) throw new BackendError("aborted", "Generation aborted.");
      throw new BackendError("engine_error", `upstream ${this.base} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Throws the upstream's error answer as a `BackendError` (after reading its body). */
  private async assertOk(res: Dispatcher.ResponseData, what: string): Promise<void> {
    if (res.statusCode < 400) return;
    const text = await res.body.text().catch(() => "");
    const message = safeErrorMessage(text) ?? `upstream ${what} answered ${res.statusCode}`;
    // The upstream's 4xx is the client's fault (bad request for this model); 5xx/429 are the upstream's.
    throw new BackendError(res.statusCode >= 400 && res.statusCode < 500 && res.statusCode !== 429 ? "invalid_request" : "engine_error", message);
  }

  /** Probes `GET /models`; an unreachable upstream is probed again in the background instead of failing the gateway. */
  async start(): Promise<void> {
    this.setState("starting");
    await this.probe();
  }

  private async probe(): Promise<void> {
    try {
      const res = await this.send("GET", "models", undefined, this.staticHeaders, AbortSignal.timeout(5000));
      await res.body.dump();
      if (res.statusCode >= 400) throw new Error(`GET /models answered ${res.statusCode}`);
      this._lastError = undefined;
      this.setState("ready");
    } catch (err) {
      this._lastError = `upstream ${this.base} unreachable: ${err instanceof Error ? err.message : String(err)}`;
      this.setState("restarting");
      this.probeTimer = setTimeout(() => void this.probe(), this.opts.probeIntervalMs ?? 2000);
      this.probeTimer.unref();
    }
  }

  async generate(_slot: number, input: GenerationInput, params: SamplingParams, opts: BackendGenerateOptions): Promise<WireDone> {
    // An echo is scored whole: asked for without streaming, split back into prompt and completion.
    const stream = opts.stream !== false && !params.echo;
    const body: Record<string, unknown> = {
      model: this.opts.model,
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      max_tokens: params.maxTokens,
      temperature: params.temperature,
      top_p: params.topP,
      ...(params.stop.length ? { stop: params.stop } : {}),
      ...(params.seed === undefined ? {} : { seed: params.seed }),
      ...(params.presencePenalty ? { presence_penalty: params.presencePenalty } : {}),
      ...(params.frequencyPenalty ? { frequency_penalty: params.frequencyPenalty } : {}),
    };
    if (params.grammar?.type === "json_object") body.response_format = { type: "json_object" };
    if (params.grammar?.type === "json_schema") body.response_format = { type: "json_schema", json_schema: { name: params.grammar.name, schema: params.grammar.schema } };
    const endpoint = input.kind === "chat" ? "chat/completions" : "completions";
    if (input.kind === "chat") {
      body.messages = input.messages.map((m) => ({
        role: m.role,
        content: m.content,
        ...(m.toolCalls?.length ? { tool_calls: m.toolCalls } : {}),
        ...(m.toolCallId ? { tool_call_id: m.toolCallId } : {}),
      }));
      if (input.tools) Object.assign(body, upstreamTools(input.tools));
      if (params.logprobs !== undefined) Object.assign(body, { logprobs: true, top_logprobs: params.logprobs });
    } else {
      body.prompt = input.tokens ?? input.prompt;
      if (params.logprobs !== undefined) body.logprobs = params.logprobs;
      if (params.echo) body.echo = true;
    }

    const started = performance.now();
    const headers = { ...this.staticHeaders, "x-request-id": opts.requestId, ...(opts.traceparent ? { traceparent: opts.traceparent } : {}) };
    const res = await this.send("POST", endpoint, JSON.stringify(body), headers, opts.signal);
    await this.assertOk(res, endpoint);
    if (!stream) return this.answerOf(res, params, opts, started, input);

    let text = "";
    let finish: string | null | undefined;
    let usage: UpstreamChunk["usage"];
    let firstAt = 0;
    const toolCalls = new Map<number, GeneratedToolCall>();
    const logprobs: TokenLogprob[] = [];
    try {
      let ended = false;
      // Read to the end, past [DONE]: leaving the loop early destroys the body with an AbortError (a stack
      // trace per request) and the connection with it, where the end keeps it alive for the next request.
      for await (const { data } of sseEvents(res.body)) {
        if (ended) continue;
        if (data === "[DONE]") {
          ended = true;
          continue;
        }
        const chunk = JSON.parse(data) as UpstreamChunk;
        if (chunk.error) throw new BackendError("engine_error", chunk.error.message ?? "upstream stream error");
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        const piece = choice.delta?.content ?? choice.text ?? "";
        const fragments = toolCallFragments(choice.delta?.tool_calls ?? [], toolCalls);
        const entries = logprobEntries(choice.logprobs, text.length);
        if (piece || fragments.length || entries.length) {
          if (!firstAt) firstAt = performance.now();
          logprobs.push(...entries);
          opts.onChunk?.({
            text: piece,
            tokens: Math.max(1, entries.length),
            ...(entries.length ? { logprobs: entries } : {}),
            ...(fragments.length ? { toolCalls: fragments } : {}),
          });
          text += piece;
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
    } catch (err) {
      if (opts.signal?.aborted) throw new BackendError("aborted", "Generation aborted.");
      if (err instanceof BackendError) throw err;
      throw new BackendError("engine_error", `upstream stream failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (opts.signal?.aborted) throw new BackendError("aborted", "Generation aborted.");
    if (!finish) throw new BackendError("engine_error", "upstream stream ended without a finish_reason");
    const end = performance.now();
    return {
      text,
      // `tool_calls` is ours to report again from the calls themselves.
      finishReason: finish === "length" ? "length" : "stop",
      usage: { promptTokens: usage?.prompt_tokens ?? 0, completionTokens: usage?.completion_tokens ?? 0 },
      cachedPromptTokens: 0,
      ttftMs: (firstAt || end) - started,
      decodeMs: firstAt ? end - firstAt : 0,
      ...(toolCalls.size ? { toolCalls: [...toolCalls.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c) } : {}),
      ...(params.logprobs !== undefined ? { logprobs } : {}),
    };
  }

  /** A non-streamed answer: read whole, mapped like a stream (one chunk for the cache, usage, tool calls, logprobs). */
  private async answerOf(res: Dispatcher.ResponseData, params: SamplingParams, opts: BackendGenerateOptions, started: number, input: GenerationInput): Promise<WireDone> {
    let answer: UpstreamCompletion;
    try {
      answer = (await res.body.json()) as UpstreamCompletion;
    } catch (err) {
      if (opts.signal?.aborted) throw new BackendError("aborted", "Generation aborted.");
      throw new BackendError("engine_error", `upstream answer unreadable: ${err instanceof Error ? err.message : String(err)}`);
    }
    const choice = answer.choices?.[0];
    if (!choice?.finish_reason) throw new BackendError("engine_error", "upstream answer without a finish_reason");
    let text = choice.message?.content ?? choice.text ?? "";
    let logprobs = logprobEntries(choice.logprobs, 0);
    let promptLogprobs: PromptTokenLogprob[] | undefined;
    if (params.echo && input.kind === "completion") {
      ({ promptLogprobs, text, logprobs } = splitEcho(text, choice.logprobs, input.tokens ? { tokens: input.tokens.length } : { text: input.prompt }));
    }
    const toolCalls = (choice.message?.tool_calls ?? []).map((c) => ({ name: c.function?.name ?? "", arguments: c.function?.arguments ?? "" }));
    const usage = { promptTokens: answer.usage?.prompt_tokens ?? 0, completionTokens: answer.usage?.completion_tokens ?? 0 };
    // An echo's scored prompt first, as a local shard streams it; then one chunk holding the whole text (what the response cache stores and replays).
    if (promptLogprobs) opts.onChunk?.({ text: "", tokens: 0, promptLogprobs });
    if (text) opts.onChunk?.({ text, tokens: Math.max(1, usage.completionTokens), ...(logprobs.length ? { logprobs } : {}) });
    return {
      text,
      finishReason: choice.finish_reason === "length" ? "length" : "stop",
      usage,
      cachedPromptTokens: 0,
      ttftMs: performance.now() - started,
      decodeMs: 0,
      ...(toolCalls.length ? { toolCalls } : {}),
      ...(params.logprobs !== undefined ? { logprobs } : {}),
      ...(promptLogprobs ? { promptLogprobs } : {}),
    };
  }

  /** The upstream's tokenizer: Switchyard's `/v1/tokenize`, else vLLM's and llama-server's `/tokenize` beside `/v1` (same shape). */
  async tokenize(prompt: string, special: boolean, signal?: AbortSignal): Promise<number[]> {
    const body = JSON.stringify({ model: this.opts.model, prompt, add_special_tokens: special });
    let res = await this.send("POST", "tokenize", body, this.staticHeaders, signal);
    if (res.statusCode === 404) {
      await res.body.dump();
      res = await this.send("POST", `${this.basePath.replace(/\/v1\/?$/, "")}/tokenize`, body, this.staticHeaders, signal);
    }
    await this.assertOk(res, "tokenize");
    const json = (await res.body.json()) as { tokens?: unknown };
    if (!Array.isArray(json.tokens) || !json.tokens.every((t) => Number.isInteger(t))) throw new BackendError("engine_error", "upstream /tokenize answered without token ids");
    return json.tokens as number[];
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<{ vectors: number[][]; tokens: number }> {
    const res = await this.send("POST", "embeddings", JSON.stringify({ model: this.opts.model, input: texts, encoding_format: "float" }), this.staticHeaders, signal);
    await this.assertOk(res, "embeddings");
    const json = (await res.body.json()) as { data: Array<{ embedding: number[]; index: number }>; usage?: { prompt_tokens?: number } };
    const vectors = [...json.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    return { vectors, tokens: json.usage?.prompt_tokens ?? 0 };
  }

  async dispose(): Promise<void> {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.setState("stopped");
    if (!this.dispatcher.closed && !this.dispatcher.destroyed) await this.dispatcher.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

function safeErrorMessage(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    return typeof parsed.error?.message === "string" ? parsed.error.message.slice(0, 500) : undefined;
  } catch {
    return undefined;
  }
}
