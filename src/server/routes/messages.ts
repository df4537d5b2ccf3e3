/**
 * Anthropic's Messages API: `POST /v1/messages` (streamed or not) and
 * `POST /v1/messages/count_tokens`. A request becomes the equivalent chat plan
 * (`openai/plans.ts`) with the Anthropic renderer, so the one generation
 * pipeline runs it (cache, limits, telemetry, bots, router). Errors, auth and
 * limits included, use Anthropic's envelope and status codes ({@link anthropicErrors}).
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import { parseBody } from "../http/validate.js";
import { reportIgnoredParams } from "../http/ignored-params.js";
import { chatPlan } from "../openai/plans.js";
import { runGeneration, type GenerationPlan } from "../generation/index.js";
import { clientSignal } from "../../util/node-bindings.js";
import { anthropicErrorBody, anthropicId, anthropicStatus, countTokensSchema, createMessageSchema, translateMessages } from "../anthropic/index.js";
import { messagesRenderer } from "../anthropic/renderer.js";

/**
 * Sets Anthropic's error envelope for the request (mount on `/v1/messages*` before auth).
 *
 * @example
 * ```ts
 * app.use("/v1/messages/*", anthropicErrors());
 * ```
 */
export function anthropicErrors(): MiddlewareHandler<AppEnv> {
  return async function anthropicErrorEnvelope(c, next) {
    c.set("errorEnvelope", { body: (err) => anthropicErrorBody(err, c.get("requestId")), status: (err) => anthropicStatus(err).status });
    await next();
  };
}

/** The prompt's size for `message_start`; 0 when no shard can count it now (the final count ends the stream). */
async function promptTokens(plan: GenerationPlan, signal: AbortSignal): Promise<number> {
  try {
    return await plan.model.pool.countTokens(plan.input, signal);
  } catch {
    return 0;
  }
}

export function messagesRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post("/v1/messages", async function createMessage(c) {
    const req = await parseBody(c, createMessageSchema);
    const { chat, ignored } = translateMessages(req);
    const plan = chatPlan(c, deps, chat);
    reportIgnoredParams(c, deps.logger, ignored);
    const id = anthropicId("msg");
    const stream = req.stream === true;
    let inputTokens = 0;
    if (stream) {
      using abort = clientSignal(c);
      inputTokens = await promptTokens(plan, abort.signal);
    }
    return runGeneration(c, deps, { ...plan, stream, responseId: id, renderer: () => messagesRenderer({ id, model: req.model }, inputTokens) });
  });

  app.post("/v1/messages/count_tokens", async function countTokens(c) {
    const req = await parseBody(c, countTokensSchema);
    const { chat, ignored } = translateMessages(req);
    const plan = chatPlan(c, deps, chat);
    reportIgnoredParams(c, deps.logger, ignored);
    using abort = clientSignal(c);
    return c.json({ input_tokens: await plan.model.pool.countTokens(plan.input, abort.signal) });
  });
  return app;
}
