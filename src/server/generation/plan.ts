/**
 * A generation plan: everything a wire API's route decides about one request
 * before anything runs. The pipeline (`runGeneration`) executes it.
 */
import type { CacheRequest } from "../../cache/index.js";
import type { ServedModel } from "../../router/index.js";
import type { GenerationInput, SamplingParams } from "../../types.js";
import type { GroundingRequest } from "./grounding.js";
import type { GenerationRenderer, RenderContext } from "./renderer.js";
import type { Scheduling } from "./scheduling.js";

export interface GenerationPlan {
  /** The served model the request's name (or alias, or bot) resolved to; access already checked. */
  model: ServedModel;
  /** What the model sees; a grounded chat's messages are replaced by the grounded ones. */
  input: GenerationInput;
  params: SamplingParams;
  /** Choices to generate (`n`); 1 for most requests. */
  choices: number;
  stream: boolean;
  /** The id of the response the client gets (`chatcmpl-…`, `msg_…`): telemetry records it. */
  responseId: string;
  scheduling: Scheduling;
  /** Retrieval to run first (its collection version joins the cache key); absent = none. */
  grounding?: GroundingRequest | undefined;
  /** The request as the cache sees it; key fields and bypass rules are `src/cache`'s (`planCache`). */
  cache: CacheRequest;
  /** The bot the request addressed (its guardrails and cache settings apply); absent = none. */
  bot?: string | undefined;
  /** Builds the wire API's renderer once retrieval ran (a grounded answer has citations). */
  renderer: (context: RenderContext) => GenerationRenderer;
}

/**
 * A response id from a wire API's prefix and the request id (at most 32 word characters).
 *
 * @example
 * ```ts
 * responseIdOf("chatcmpl", "3f2a-77c1"); // "chatcmpl-3f2a77c1"
 * ```
 */
export function responseIdOf(prefix: string, requestId: string): string {
  return `${prefix}-${requestId.replace(/[^\w]/g, "").slice(0, 32)}`;
}
