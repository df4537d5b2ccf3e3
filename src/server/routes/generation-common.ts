/** Pieces shared by the chat and completions routes. */
import type { Context } from "hono";
import type { GenerationInput, SamplingParams } from "../../types.js";
import type { ServedModel } from "../../router/index.js";
import type { AppEnv } from "../env.js";
import type { Producer } from "../respond.js";

export interface PoolProducerOptions {
  model: ServedModel;
  input: GenerationInput;
  params: SamplingParams;
  priority: number;
  timeoutMs: number;
  sessionKey: string | undefined;
}

/** A producer that runs on the model's pool and sets the shard header at admission (before the first byte). */
export function poolProducer(c: Context<AppEnv>, o: PoolProducerOptions): Producer {
  return (onChunk, signal) =>
    o.model.pool.generate(o.input, o.params, {
      requestId: c.get("requestId"),
      signal,
      onChunk,
      priority: o.priority,
      timeoutMs: o.timeoutMs,
      ...(o.sessionKey ? { sessionKey: o.sessionKey } : {}),
      onAdmitted: ({ shard }) => c.header("x-switchyard-shard", shard),
    });
}

export function responseId(prefix: string, requestId: string): string {
  return `${prefix}-${requestId.replace(/[^\w]/g, "").slice(0, 32)}`;
}

export function sessionKeyOf(c: Context<AppEnv>, user: string | undefined): string | undefined {
  const header = c.req.header("x-session-id");
  const key = header ?? user;
  return key ? `${c.get("principal").tenant}:${key}` : undefined;
}

/** A producer that answers a fixed text without the model (e.g. retrieval found nothing relevant). */
export function fixedAnswer(text: string): Producer {
  return async (onChunk) => {
    onChunk({ text, tokens: 0 });
    return {
      text,
      finishReason: "stop",
      usage: { promptTokens: 0, completionTokens: 0 },
      shard: "retrieval",
      timings: { queueMs: 0, ttftMs: 0, decodeMs: 0, cachedPromptTokens: 0 },
    };
  };
}
