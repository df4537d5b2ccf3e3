/** `POST /v1/chat/completions`, streamed or not. */
import { Hono } from "hono";
import type { AppEnv } from "../env.js";
import type { GatewayDeps } from "../deps.js";
import { parseBody } from "../validate.js";
import { chatRequestSchema } from "../schemas.js";
import { resolveModelFor } from "../resolve-model.js";
import { chatParams, priorityOf, timeoutOf, toChatMessages } from "../params.js";
import { chatRenderer } from "../openai-format.js";
import { respond } from "../respond.js";
import { cachedProducer } from "../cached-producer.js";
import { poolProducer, responseId, sessionKeyOf } from "./generation-common.js";

export function chatRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/v1/chat/completions", async (c) => {
    const req = await parseBody(c, chatRequestSchema);
    const model = resolveModelFor(c, deps, req.model);
    const limits = deps.config.limits;
    const messages = toChatMessages(req, limits);
    const params = chatParams(req, limits);
    const input = { kind: "chat" as const, messages };
    const meta = { id: responseId("chatcmpl", c.get("requestId")), created: Math.floor(Date.now() / 1000), model: req.model };
    const stream = req.stream === true;
    const includeUsage = stream && req.stream_options?.include_usage === true;
    const { cache, produce } = await cachedProducer({
      cache: deps.cache,
      parts: { tenant: c.get("principal").tenant, endpoint: "chat", model: model.config.name, modelIdentity: model.identity, input: messages, params },
      params,
      cacheControl: c.req.header("cache-control"),
      produce: poolProducer(c, {
        model,
        input,
        params,
        priority: priorityOf(req.priority, c.req.header("x-switchyard-priority")),
        timeoutMs: timeoutOf(req.timeout, limits),
        sessionKey: sessionKeyOf(c, req.user),
      }),
    });
    return respond(c, { stream, includeUsage, renderer: chatRenderer(meta, includeUsage), cache, produce });
  });
  return app;
}
