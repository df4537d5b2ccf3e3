/**
 * OpenAI response shapes for chat completions and legacy completions, in one
 * place so streaming, non-streaming and cache replay render identically.
 */
import type { Citation, FinishReason, GenerationTimings, TokenUsage } from "../types.js";

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
  cache: "hit" | "miss" | "bypass";
}

export function timingsBlock(t: GenerationTimings, shard: string, cache: SwitchyardTimings["cache"]): SwitchyardTimings {
  const r = (n: number) => Math.round(n * 100) / 100;
  return { queue_ms: r(t.queueMs), ttft_ms: r(t.ttftMs), decode_ms: r(t.decodeMs), cached_prompt_tokens: t.cachedPromptTokens, shard, cache };
}

export function usageBlock(u: TokenUsage, cachedTokens = 0) {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens },
  };
}

/** Renders one endpoint's bodies and stream chunks. */
export interface Renderer {
  /** Chunk sent before any text (chat: carries `delta.role`); undefined if none. */
  start(): object | undefined;
  delta(text: string): object;
  finish(reason: FinishReason): object;
  usage(u: TokenUsage, extra: { switchyard: SwitchyardTimings; citations?: Citation[] }): object;
  body(text: string, reason: FinishReason, u: TokenUsage, extra: { switchyard: SwitchyardTimings; citations?: Citation[] }): object;
}

export function chatRenderer(meta: ResponseMeta, withUsage: boolean, citations?: Citation[]): Renderer {
  const base = { id: meta.id, object: "chat.completion.chunk", created: meta.created, model: meta.model, system_fingerprint: null };
  const usageNull = withUsage ? { usage: null } : {};
  const chunk = (delta: object, finish: FinishReason | null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...usageNull,
  });
  return {
    start: () => chunk({ role: "assistant", content: "", refusal: null }, null),
    delta: (text) => chunk({ content: text }, null),
    // The last chunk with choices carries the citations, so clients without include_usage still get them.
    finish: (reason) => ({ ...chunk({}, reason), ...(citations ? { citations } : {}) }),
    usage: (u, extra) => ({ ...base, choices: [], usage: usageBlock(u, extra.switchyard.cached_prompt_tokens), ...extra }),
    body: (text, reason, u, extra) => ({
      id: meta.id,
      object: "chat.completion",
      created: meta.created,
      model: meta.model,
      system_fingerprint: null,
      choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs: null, finish_reason: reason }],
      usage: usageBlock(u, extra.switchyard.cached_prompt_tokens),
      ...extra,
    }),
  };
}

export function completionRenderer(meta: ResponseMeta, withUsage: boolean): Renderer {
  const base = { id: meta.id, object: "text_completion", created: meta.created, model: meta.model, system_fingerprint: null };
  const usageNull = withUsage ? { usage: null } : {};
  const chunk = (text: string, finish: FinishReason | null) => ({
    ...base,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finish }],
    ...usageNull,
  });
  return {
    start: () => undefined,
    delta: (text) => chunk(text, null),
    finish: (reason) => chunk("", reason),
    usage: (u, extra) => ({ ...base, choices: [], usage: usageBlock(u, extra.switchyard.cached_prompt_tokens), ...extra }),
    body: (text, reason, u, extra) => ({ ...base, choices: [{ index: 0, text, logprobs: null, finish_reason: reason }], usage: usageBlock(u, extra.switchyard.cached_prompt_tokens), ...extra }),
  };
}
