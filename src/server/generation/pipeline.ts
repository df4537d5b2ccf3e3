/**
 * The generation pipeline: one function runs every generation request,
 * whatever wire API it came in on. In order: retrieval (a grounded chat),
 * the cache plan (after retrieval: the key holds the collection version),
 * the producers (a fixed "I don't know", `n` pool runs, or the exact cache
 * and then the semantic cache around one pool run), then the answer through
 * the plan's renderer.
 */
import type { Context } from "hono";
import { planCache, type CacheServed } from "../../cache/index.js";
import { invalidRequest } from "../../errors.js";
import { NO_ANSWER_TEXT } from "../../rag/index.js";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import { cachedProducer } from "./cached-producer.js";
import { ground, type Grounded } from "./grounding.js";
import type { GenerationPlan } from "./plan.js";
import { choiceProducers, fixedAnswer, poolProducer, sharedProducers, type PoolProducerOptions } from "./producers.js";
import { respond, type Producer } from "./respond.js";
import { semanticStage } from "./semantic-stage.js";
import { guardInput, restoredProducer, retrievedRedactor, scannedProducer } from "./guardrails-stage.js";
import { validatedProducer } from "./schema-stage.js";

/**
 * @example
 * ```ts
 * app.post("/v1/chat/completions", async (c) => runGeneration(c, deps, chatPlan(c, deps, await parseBody(c, chatRequestSchema))));
 * ```
 */
export async function runGeneration(c: Context<AppEnv>, deps: GatewayDeps, plan: GenerationPlan): Promise<Response> {
  // Guardrails first: retrieval, the cache key, the pool and telemetry only ever see the redacted input.
  const guarded = await guardInput(c, deps, plan);
  // The question as asked (redacted), before grounding: what the semantic cache compares.
  const asked = guarded?.input ?? plan.input;
  let input = asked;
  let grounded: Grounded | undefined;
  if (plan.grounding) {
    if (input.kind !== "chat") throw invalidRequest("Retrieval grounds chats only.", { param: "rag" });
    grounded = await ground(deps.rag, input.messages, plan.grounding, guarded && retrievedRedactor(guarded.redaction));
    input = { ...input, messages: grounded.messages };
  }
  const citations = grounded?.citations;
  const renderer = plan.renderer({ citations, retrieval: grounded && { query: grounded.query, passages: grounded.passages } });
  const pool: PoolProducerOptions = {
    model: plan.model,
    input,
    params: plan.params,
    scheduling: plan.scheduling,
    responseId: plan.responseId,
    stream: plan.stream,
    // Spans that record content (telemetry.recordContent) get the answer's stored form, like the cache.
    redactContent: guarded && ((text: string) => guarded.redaction.storedForm(text)),
  };
  // Output is scanned inside the cache (it stores redacted answers) and restored for this caller outside it.
  const scanned = (p: Producer): Producer => (guarded ? scannedProducer(guarded.redaction, p) : p);
  // Then validated against the request's JSON schemas (outside the cache: a hit is checked too).
  const restored = (p: Producer): Producer => validatedProducer(input, plan.params, guarded ? restoredProducer(guarded.redaction, p) : p);

  let cache: CacheServed = "bypass";
  let similarity: number | undefined;
  let produce: Producer | Producer[];
  if (grounded?.empty) produce = sharedProducers(fixedAnswer(NO_ANSWER_TEXT), plan.choices);
  else if (plan.choices > 1) produce = choiceProducers(c, pool, plan.choices).map((p) => restored(scanned(p)));
  else {
    const ragVersion = grounded?.version;
    const exact = await cachedProducer({
      cache: deps.cache,
      plan: planCache(plan.cache, { input, params: plan.params, ragVersion }),
      produce: scanned(poolProducer(c, pool)),
    });
    // After the exact cache, inside the restore: it keeps and replays stored (redacted) answers too.
    const served = await semanticStage(c, deps, plan, { input: asked, ragVersion, exact });
    ({ cache, produce } = served);
    if (served.cache === "semantic") similarity = served.similarity;
    produce = restored(produce);
  }
  return respond(c, { stream: plan.stream, renderer, cache, similarity, produce, citations });
}
