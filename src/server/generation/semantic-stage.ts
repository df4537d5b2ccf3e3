/**
 * The semantic cache as a pipeline stage, after the exact cache: when the
 * exact cache missed, a single-turn chat question whose embedding is close
 * enough to one already answered in the same scope (tenant, model and
 * weights, system prompt, parameters, retrieval collection version) gets that
 * stored answer, marked `semantic` with its similarity; a miss generates as
 * before and stores the answer for the next paraphrase.
 *
 * It sits where the exact cache does: between the output scan (stored
 * answers are redacted) and the caller's restore, and it only ever sees the
 * redacted question. It is opt-in per key and per bot (`cache.semantic`, see
 * `effectiveSemanticPolicy`); eligibility (one user turn, no tools, `n` 1, no
 * logprobs, deterministic unless the key allows sampled requests) is
 * `src/cache`'s `semanticEligibility`. A lookup or store that fails (embedder
 * or Redis) is logged and the request goes on as a miss: the semantic cache
 * is an optimisation, never a reason to fail a request.
 */
import type { Context } from "hono";
import { cacheDirective, isDeterministic, semanticEligibility, semanticScope, type CachedResponse, type SemanticCache } from "../../cache/index.js";
import { effectiveSemanticPolicy } from "../../config/index.js";
import type { GeneratedChunk, GenerationInput, GenerationResult } from "../../types.js";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import { replayProducer, type CachedProducer } from "./cached-producer.js";
import { keyConfigOf } from "./guardrails-stage.js";
import type { GenerationPlan } from "./plan.js";
import type { Producer } from "./respond.js";

export interface SemanticStageInput {
  /** The question as the caller asked it, redacted; before retrieval grounded it. */
  input: GenerationInput;
  /** `<collection>@<version>` of a grounded answer. */
  ragVersion: string | undefined;
  /** What the exact cache decided. */
  exact: CachedProducer;
}

/** The exact cache's outcome, or a semantic hit (with its similarity). */
export type SemanticStageResult = CachedProducer | { cache: "semantic"; similarity: number; produce: Producer };

/**
 * @example
 * ```ts
 * const exact = await cachedProducer({ cache, plan, produce });
 * const served = await semanticStage(c, deps, plan, { input, ragVersion, exact });
 * ```
 */
export async function semanticStage(c: Context<AppEnv>, deps: GatewayDeps, plan: GenerationPlan, stage: SemanticStageInput): Promise<SemanticStageResult> {
  const { exact, input } = stage;
  const semantic = deps.semanticCache;
  if (!semantic || exact.cache === "hit" || input.kind !== "chat") return exact;
  const key = keyConfigOf(deps.config, c.get("principal").keyId);
  const bot = plan.bot === undefined ? undefined : deps.registry.bot(plan.bot);
  const policy = effectiveSemanticPolicy(deps.config, key, bot);
  if (!policy.enabled) return exact;
  // Cache-Control applies as to the exact cache; determinism is the eligibility's (a key may allow sampled requests).
  const directive = cacheDirective(plan.cache.cacheControl);
  if (!directive.lookup && !directive.store) return exact;
  const eligible = semanticEligibility({
    messages: input.messages,
    hasTools: plan.cache.carriesExtras || (input.tools?.tools.length ?? 0) > 0,
    n: plan.choices,
    logprobs: plan.params.logprobs !== undefined,
    deterministic: isDeterministic(plan.params),
    allowSampled: policy.allowSampled,
  });
  if (!eligible.eligible) return exact;
  const { grounding } = plan;
  const scope = semanticScope(
    {
      tenant: plan.cache.tenant,
      endpoint: plan.cache.endpoint,
      model: plan.cache.model,
      modelIdentity: plan.cache.modelIdentity,
      system: grounding?.systemPrompt === undefined ? eligible.system : [grounding.systemPrompt, ...eligible.system],
      params: {
        ...plan.params,
        ...plan.cache.outputFields,
        n: plan.choices,
        ...(grounding ? { retrieval: { topK: grounding.topK, mode: grounding.mode, filter: grounding.filter, scoreFloor: grounding.scoreFloor } } : {}),
      },
      ...(stage.ragVersion === undefined ? {} : { ragVersion: stage.ragVersion }),
    },
    semantic.embedderId,
  );
  let found: Awaited<ReturnType<SemanticCache["lookup"]>>;
  try {
    found = await semantic.lookup(scope, eligible.question, policy.threshold);
  } catch (err) {
    deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "semantic cache lookup failed; generating");
    return exact;
  }
  if (found.hit && directive.lookup) return { cache: "semantic", similarity: found.hit.similarity, produce: replayProducer(found.hit.response) };
  if (!directive.store) return exact;
  const produce: Producer = async (onChunk, signal) => {
    const chunks: GeneratedChunk[] = [];
    const result: GenerationResult = await exact.produce((chunk) => {
      chunks.push({ text: chunk.text, tokens: chunk.tokens });
      onChunk(chunk);
    }, signal);
    const whole = chunks.map((ch) => ch.text).join("") === result.text;
    const entry: CachedResponse = {
      chunks: whole ? chunks : [{ text: result.text, tokens: result.usage.completionTokens }],
      text: result.text,
      finishReason: result.finishReason,
      usage: result.usage,
      createdAt: Date.now(),
    };
    semantic.store(scope, eligible.question, found, entry, policy.ttlMs).catch((err: unknown) => {
      deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "semantic cache store failed");
    });
    return result;
  };
  return { cache: exact.cache, produce };
}
