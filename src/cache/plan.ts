/**
 * Which requests the response cache serves, and under which key: the one
 * place that decides the key fields and the bypass rules, so that every wire
 * API (chat, completions, and whatever renders over the same pipeline) caches
 * alike.
 *
 * - The key holds the tenant, endpoint, resolved model and its weights'
 *   identity, the input the model sees (after grounding), every sampling
 *   parameter, every output-shaping request field (`outputFields`: tools,
 *   tool_choice, logprobs, …), `n`, and the collection version of a grounded
 *   answer. `stream`, `stream_options`, `user` and request ids are left out:
 *   a streamed and a non-streamed request share an entry.
 * - `n > 1` is not cached (no lookup, no count: the choices run on their own).
 * - Answers that may carry tool calls or logprobs bypass (counted as a bypass):
 *   the store keeps text, finish reason, usage and text chunks only.
 * - Otherwise `Cache-Control` and determinism decide (see `policy.ts`).
 */
import type { GenerationInput, SamplingParams } from "../types.js";
import { cacheKey } from "./key.js";
import { BYPASS_DIRECTIVE, cacheDirectiveFor } from "./policy.js";
import type { CacheDirective } from "./types.js";

/** What a route knows about a request's cacheability before generation. */
export interface CacheRequest {
  tenant: string;
  endpoint: "chat" | "completion";
  /** Resolved model name (not the client's alias). */
  model: string;
  /** Identity of the weights or upstream (see `ServedModel.identity`). */
  modelIdentity: string;
  /** Output-shaping request fields besides the sampling params, all part of the key (`undefined` members are dropped). */
  outputFields: Record<string, unknown>;
  /** The answer may hold tool calls or logprobs, which the store cannot keep: bypass. */
  carriesExtras: boolean;
  /** Choices asked for (`n`). */
  choices: number;
  /** The request's `Cache-Control` header. */
  cacheControl: string | undefined;
}

/** How one request uses the cache: its key and what the directive allows. */
export interface CachePlan {
  key: string;
  directive: CacheDirective;
}

/**
 * The cache plan of a request, or `undefined` when the cache is not consulted
 * at all (`n > 1`).
 *
 * @example
 * ```ts
 * const plan = planCache(request, { input, params, ragVersion: "kb@3" });
 * if (plan) await cache.lookup(plan.key, plan.directive);
 * ```
 */
export function planCache(
  request: CacheRequest,
  generation: { input: GenerationInput; params: SamplingParams; ragVersion?: string | undefined },
): CachePlan | undefined {
  if (request.choices > 1) return undefined;
  const { input, params, ragVersion } = generation;
  const key = cacheKey({
    tenant: request.tenant,
    endpoint: request.endpoint,
    model: request.model,
    modelIdentity: request.modelIdentity,
    // Chat keys hold the message list; the tools the engine sees are in outputFields.
    input: input.kind === "chat" ? input.messages : input,
    params: { ...params, ...request.outputFields, n: request.choices },
    ...(ragVersion === undefined ? {} : { ragVersion }),
  });
  const directive = request.carriesExtras ? { ...BYPASS_DIRECTIVE } : cacheDirectiveFor(request.cacheControl, params);
  return { key, directive };
}
