/**
 * The generation pipeline, shared by every wire API.
 *
 * A route parses its request, builds a {@link GenerationPlan} (resolved model,
 * input, sampling params, `n`, scheduling, optional grounding, the cache's view
 * of the request, and a renderer factory) and hands it to {@link runGeneration},
 * which runs retrieval → cache plan (`src/cache` owns keys and bypass rules) →
 * producers (pool, cache replay, fixed answer) → the renderer. Retries,
 * telemetry and usage settlement happen below or around it (pool observer,
 * the `usage` context variable); a route holds none of that.
 *
 * ## Adding a wire API (the renderer seam)
 *
 * A new API (OpenAI Responses, Anthropic Messages) is a schema, a plan builder
 * and a {@link GenerationRenderer}; the pipeline does not change:
 *
 * ```ts
 * // src/server/anthropic/renderer.ts
 * export function messagesRenderer(meta: { id: string; model: string }): GenerationRenderer {
 *   return {
 *     body: (choices, s) => ({ id: meta.id, type: "message", role: "assistant", model: meta.model,
 *       content: [{ type: "text", text: choices[0]!.text }], stop_reason: choices[0]!.finishReason === "length" ? "max_tokens" : "end_turn",
 *       usage: { input_tokens: s.usage.promptTokens, output_tokens: s.usage.completionTokens } }),
 *     stream: {
 *       open: () => sseFrame({ type: "message_start", message: { id: meta.id, type: "message", role: "assistant", content: [], model: meta.model } }, "message_start"),
 *       start: () => sseFrame({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }, "content_block_start"),
 *       delta: (_i, chunk) => chunk.text ? sseFrame({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: chunk.text } }, "content_block_delta") : undefined,
 *       finish: () => sseFrame({ type: "content_block_stop", index: 0 }, "content_block_stop"),
 *       close: (s) => sseFrame({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: s.usage.completionTokens } }, "message_delta")
 *         + sseFrame({ type: "message_stop" }, "message_stop"),
 *       error: (err) => sseFrame({ type: "error", error: { type: "api_error", message: err.message } }, "error"),
 *     },
 *   };
 * }
 *
 * // src/server/routes/messages.ts
 * app.post("/v1/messages", async (c) => {
 *   c.set("errorEnvelope", anthropicErrorBody);        // errors before the stream starts, in Anthropic's envelope
 *   const req = await parseBody(c, messagesRequestSchema);
 *   return runGeneration(c, deps, {
 *     model: resolveModelFor(c, deps, req.model), input, params, choices: 1, stream: req.stream === true,
 *     responseId, scheduling: schedulingOf(c, req, deps.config.limits),
 *     cache: { tenant, endpoint: "chat", model: model.config.name, modelIdentity: model.identity, outputFields, carriesExtras, choices: 1, cacheControl },
 *     renderer: () => messagesRenderer({ id: responseId, model: req.model }),
 *   });
 * });
 * ```
 *
 * The OpenAI renderers (`../openai/renderer.ts` over `../openai/openai-format.ts`)
 * and plans (`../openai/plans.ts`) are the worked examples.
 */
export { runGeneration } from "./pipeline.js";
export { responseIdOf, type GenerationPlan } from "./plan.js";
export { sseFrame, type GenerationRenderer, type StreamRenderer, type ResponseSummary, type RenderContext } from "./renderer.js";
export { respond, mergedUsage, type Producer, type RespondOptions } from "./respond.js";
export { schedulingOf, priorityOf, timeoutOf, sessionKeyOf, type Scheduling, type SchedulingFields } from "./scheduling.js";
export { requireRetrievalAccess, resolveModelFor } from "./resolve-model.js";
export { ground, type Grounded, type GroundingRequest, type GroundingSearchResult } from "./grounding.js";
export { poolProducer, choiceProducers, sharedProducers, fixedAnswer, choiceParams, type PoolProducerOptions } from "./producers.js";
export { cachedProducer, type CachedProducer, type CachedProducerOptions } from "./cached-producer.js";
export { validatedProducer, violationsBlock, SCHEMA_VIOLATIONS_HEADER } from "./schema-stage.js";
