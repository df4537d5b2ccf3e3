/** Producers of the generation pipeline: the model pool (one or `n` choices), a shared run, a fixed answer. */
import type { Context } from "hono";
import type { GeneratedChunk, GenerationInput, GenerationResult, SamplingParams } from "../../types.js";
import type { ServedModel } from "../../router/index.js";
import type { AppEnv } from "../http/env.js";
import type { Producer } from "./respond.js";
import type { Scheduling } from "./scheduling.js";

export interface PoolProducerOptions {
  model: ServedModel;
  input: GenerationInput;
  params: SamplingParams;
  scheduling: Scheduling;
  /** The id of the response the client gets (telemetry's `gen_ai.response.id`). */
  responseId: string;
  /** The client streams: remote upstreams stream too (else they answer whole). */
  stream: boolean;
  /** The form of the answer telemetry may record (PII guardrails on); absent = as generated. */
  redactContent?: ((text: string) => string) | undefined;
}

/** A producer that runs on the model's pool and sets the shard header at admission (before the first byte). */
export function poolProducer(c: Context<AppEnv>, o: PoolProducerOptions): Producer {
  return (onChunk, signal) =>
    o.model.pool.generate(o.input, o.params, {
      requestId: c.get("requestId"),
      signal,
      onChunk,
      responseId: o.responseId,
      ...(o.stream ? {} : { stream: false }),
      priority: o.scheduling.priority,
      tenant: c.get("principal").tenant,
      weight: c.get("principal").weight ?? 1,
      timeoutMs: o.scheduling.timeoutMs,
      ...(o.scheduling.sessionKey ? { sessionKey: o.scheduling.sessionKey } : {}),
      onAdmitted: ({ shard }) => c.header("x-switchyard-shard", shard),
      ...(o.redactContent ? { redactContent: o.redactContent } : {}),
    });
}

/**
 * Sampling params of choice `index` of an `n > 1` request: a given seed becomes
 * `seed + index`, so the choices differ from each other yet the request is reproducible.
 *
 * @example
 * ```ts
 * choiceParams({ ...params, seed: 7 }, 2).seed; // 9
 * ```
 */
export function choiceParams(params: SamplingParams, index: number): SamplingParams {
  return params.seed === undefined || index === 0 ? params : { ...params, seed: params.seed + index };
}

/**
 * The producers of an `n`-choice request. Sampled requests run one pool generation per
 * choice (each takes its own slot, so they batch together on a shard). At temperature 0
 * every choice is the same greedy decode, so it runs once and is copied to every index:
 * cheaper, and identical by construction (separate slots can differ in the last float
 * digits — another KV layout sums in another order — which flips near-ties). Usage still
 * counts each choice's tokens. Such requests bypass the response cache.
 *
 * @example
 * ```ts
 * respond(c, { produce: choiceProducers(c, opts, 3), cache: "bypass", ... });
 * ```
 */
export function choiceProducers(c: Context<AppEnv>, o: PoolProducerOptions, n: number): Producer[] {
  if (o.params.temperature === 0) return sharedProducers(poolProducer(c, o), n);
  return Array.from({ length: n }, (_, i) => poolProducer(c, { ...o, params: choiceParams(o.params, i) }));
}

/**
 * `n` producers over one run of `produce`: the first call starts it, every caller gets
 * every chunk (a later caller first gets those already sent) and the same result.
 *
 * @example
 * ```ts
 * const [a, b] = sharedProducers(poolProducer(c, opts), 2);
 * ```
 */
export function sharedProducers(produce: Producer, n: number): Producer[] {
  const listeners: Array<(chunk: GeneratedChunk) => void> = [];
  const sent: GeneratedChunk[] = [];
  let run: Promise<GenerationResult> | undefined;
  return Array.from({ length: n }, (): Producer => (onChunk, signal) => {
    for (const chunk of sent) onChunk(chunk);
    listeners.push(onChunk);
    run ??= produce((chunk) => {
      sent.push(chunk);
      for (const listener of listeners) listener(chunk);
    }, signal);
    return run;
  });
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
