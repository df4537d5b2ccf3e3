/**
 * OpenAI response shapes for chat completions and legacy completions, in one
 * place so streaming, non-streaming and cache replay render identically.
 */
import type { CacheServed } from "../../cache/index.js";
import type { SchemaViolation, Citation, FinishReason, GenerationTimings, PromptTokenLogprob, TokenLogprob, TokenUsage, ToolCall } from "../../types.js";
import type { ToolCallDelta } from "./tool-calls.js";

export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

/** Extension block with the gateway's own timings (k6 records TTFT/TPOT from it). */
export interface SwitchyardTimings {
  queue_ms: number;
  ttft_ms: number;
  decode_ms: number;
  cached_prompt_tokens: number;
  shard: string;
  cache: CacheServed;
  /** A semantic-cache hit's cosine similarity to the question whose answer it replays. */
  similarity?: number;
  /** Where the output breaks the request's JSON schemas (README, "Structured output"); absent when it matches. */
  schema_violations?: Array<SchemaViolation & { choice: number }>;
}

export function timingsBlock(t: GenerationTimings, shard: string, cache: SwitchyardTimings["cache"], similarity?: number): SwitchyardTimings {
  const r = (n: number) => Math.round(n * 100) / 100;
  const block: SwitchyardTimings = { queue_ms: r(t.queueMs), ttft_ms: r(t.ttftMs), decode_ms: r(t.decodeMs), cached_prompt_tokens: t.cachedPromptTokens, shard, cache };
  if (similarity !== undefined) block.similarity = Math.round(similarity * 10_000) / 10_000;
  return block;
}

export function usageBlock(u: TokenUsage, cachedTokens = 0) {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens },
  };
}

/** OpenAI's finish reasons: ours plus `tool_calls` when the answer is a call. */
export type OpenAIFinishReason = FinishReason | "tool_calls";

/**
 * The finish reason a client sees: a completed answer that made tool calls ends with `tool_calls`.
 *
 * @example
 * ```ts
 * openAIFinishReason("stop", 1);   // "tool_calls"
 * openAIFinishReason("length", 1); // "length" (a call cut short)
 * ```
 */
export function openAIFinishReason(reason: FinishReason, toolCalls: number): OpenAIFinishReason {
  return reason === "stop" && toolCalls > 0 ? "tool_calls" : reason;
}

/** A legacy completions `echo`: the prompt's text, and its scored tokens when logprobs were asked for. */
export interface EchoedPrompt {
  text: string;
  logprobs?: PromptTokenLogprob[];
}

/** What one choice contributes to one stream chunk. */
export interface ChoiceDelta {
  text: string;
  logprobs?: TokenLogprob[];
  toolCalls?: ToolCallDelta[];
  /** Legacy completions `echo`, streamed: the prompt, sent before `text` (whose logprobs offsets already count it). */
  echo?: EchoedPrompt;
}

/** One finished choice, for a non-streamed body. */
export interface ChoiceBody {
  index: number;
  text: string;
  finishReason: OpenAIFinishReason;
  toolCalls?: ToolCall[];
  logprobs?: TokenLogprob[];
  /** Legacy completions `echo`: the prompt's text, and its scored tokens when logprobs were asked for; both come before the completion's. */
  echo?: EchoedPrompt;
}

export interface RendererOptions {
  /** `stream_options.include_usage`: every chunk carries `usage: null` until the usage chunk. */
  withUsage: boolean;
  /** The request asked for log probabilities: choices carry a logprobs object (else null). */
  withLogprobs?: boolean;
  citations?: Citation[];
}

/** Renders one endpoint's bodies and stream chunks; `index` is the choice's. */
export interface Renderer {
  /** Chunk sent before a choice's first text (chat: carries `delta.role`); undefined if none. */
  start(index: number): object | undefined;
  /** A chunk for this piece of a choice, or undefined when it carries nothing to send. */
  delta(index: number, piece: ChoiceDelta): object | undefined;
  finish(index: number, reason: OpenAIFinishReason): object;
  usage(u: TokenUsage, extra: { switchyard: SwitchyardTimings; citations?: Citation[] }): object;
  body(choices: ChoiceBody[], u: TokenUsage, extra: { switchyard: SwitchyardTimings; citations?: Citation[] }): object;
}

/** Chat `logprobs.content[]` entries. */
function chatLogprobs(entries: readonly TokenLogprob[]) {
  return {
    content: entries.map((e) => ({
      token: e.token,
      logprob: e.logprob,
      bytes: e.bytes,
      top_logprobs: e.top.map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes })),
    })),
    refusal: null,
  };
}

/**
 * Legacy completions logprobs: parallel arrays, `top_logprobs` as `{token: logprob}` maps
 * (the alternatives plus the chosen token, as OpenAI's "up to logprobs+1"), offsets into the text.
 */
function completionLogprobs(entries: readonly PromptTokenLogprob[]) {
  return {
    tokens: entries.map((e) => e.token),
    token_logprobs: entries.map((e) => e.logprob),
    top_logprobs: entries.map((e) => {
      // An echoed prompt's first token: nothing predicts it (OpenAI's null).
      if (e.logprob === null) return null;
      const top: Record<string, number> = {};
      for (const t of e.top) if (!(t.token in top)) top[t.token] = t.logprob;
      if (!(e.token in top)) top[e.token] = e.logprob;
      return top;
    }),
    text_offset: entries.map((e) => e.offset),
  };
}

/**
 * @example
 * ```ts
 * const r = chatRenderer(meta, { withUsage: true, withLogprobs: true });
 * sse.send(r.start(0)!);
 * sse.send(r.delta(0, { text: "Hi", logprobs })!);
 * sse.send(r.finish(0, "stop"));
 * ```
 */
export function chatRenderer(meta: ResponseMeta, { withUsage, withLogprobs = false, citations }: RendererOptions): Renderer {
  const base = { id: meta.id, object: "chat.completion.chunk", created: meta.created, model: meta.model };
  const usageNull = withUsage ? { usage: null } : {};
  const chunk = (index: number, delta: object, finish: OpenAIFinishReason | null, logprobs: object | null = null) => ({
    ...base,
    choices: [{ index, delta, logprobs, finish_reason: finish }],
    ...usageNull,
  });
  return {
    start: (index) => chunk(index, { role: "assistant", content: "", refusal: null }, null),
    delta: (index, piece) => {
      const delta = {
        ...(piece.text ? { content: piece.text } : {}),
        ...(piece.toolCalls?.length ? { tool_calls: piece.toolCalls } : {}),
      };
      const logprobs = withLogprobs && piece.logprobs?.length ? chatLogprobs(piece.logprobs) : null;
      if (Object.keys(delta).length === 0 && !logprobs) return undefined;
      return chunk(index, delta, null, logprobs);
    },
    // The last chunk with choices carries the citations, so clients without include_usage still get them.
    finish: (index, reason) => ({ ...chunk(index, {}, reason), ...(citations ? { citations } : {}) }),
    usage: (u, extra) => ({ ...base, choices: [], usage: usageBlock(u, extra.switchyard.cached_prompt_tokens), ...extra }),
    body: (choices, u, extra) => ({
      id: meta.id,
      object: "chat.completion",
      created: meta.created,
      model: meta.model,
      choices: choices.map((c) => ({
        index: c.index,
        message: {
          role: "assistant",
          // OpenAI answers a pure tool call with `content: null`.
          content: c.toolCalls?.length && c.text === "" ? null : c.text,
          refusal: null,
          ...(c.toolCalls?.length ? { tool_calls: c.toolCalls } : {}),
        },
        logprobs: withLogprobs ? chatLogprobs(c.logprobs ?? []) : null,
        finish_reason: c.finishReason,
      })),
      usage: usageBlock(u, extra.switchyard.cached_prompt_tokens),
      ...extra,
    }),
  };
}

/** A choice's logprob entries, the echoed prompt's first, the completion's offsets moved past the prompt's text. */
function echoed(c: ChoiceBody): PromptTokenLogprob[] {
  const shift = c.echo?.text.length ?? 0;
  return [...(c.echo?.logprobs ?? []), ...(c.logprobs ?? []).map((e) => ({ ...e, offset: e.offset + shift }))];
}

/**
 * @example
 * ```ts
 * const r = completionRenderer(meta, { withUsage: false, withLogprobs: true });
 * r.body([{ index: 0, text: "Once", finishReason: "length", logprobs }], usage, extra);
 * ```
 */
export function completionRenderer(meta: ResponseMeta, { withUsage, withLogprobs = false }: RendererOptions): Renderer {
  const base = { id: meta.id, object: "text_completion", created: meta.created, model: meta.model };
  const usageNull = withUsage ? { usage: null } : {};
  const chunk = (index: number, text: string, finish: OpenAIFinishReason | null, logprobs: object | null = null) => ({
    ...base,
    choices: [{ index, text, logprobs, finish_reason: finish }],
    ...usageNull,
  });
  return {
    start: () => undefined,
    delta: (index, piece) => {
      const text = (piece.echo?.text ?? "") + piece.text;
      const entries: PromptTokenLogprob[] = [...(piece.echo?.logprobs ?? []), ...(piece.logprobs ?? [])];
      const logprobs = withLogprobs && entries.length ? completionLogprobs(entries) : null;
      if (!text && !logprobs) return undefined;
      return chunk(index, text, null, logprobs);
    },
    finish: (index, reason) => chunk(index, "", reason),
    usage: (u, extra) => ({ ...base, choices: [], usage: usageBlock(u, extra.switchyard.cached_prompt_tokens), ...extra }),
    body: (choices, u, extra) => ({
      ...base,
      choices: choices.map((c) => ({
        index: c.index,
        text: (c.echo?.text ?? "") + c.text,
        logprobs: withLogprobs ? completionLogprobs(echoed(c)) : null,
        finish_reason: c.finishReason,
      })),
      usage: usageBlock(u, extra.switchyard.cached_prompt_tokens),
      ...extra,
    }),
  };
}
