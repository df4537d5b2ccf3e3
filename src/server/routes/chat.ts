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
import { poolProducer, responseId, sessionKeyOf } from "./generation-common.js";

export function chatRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/v1/chat/completions", async (c) => {
    const req = await parseBody(c, chatRequestSchema);
    const model = resolveModelFor(c, deps, req.model);
    const limits = deps.config.limits;
    const messages = toChatMessages(req, limits);
    const params = chatParams(req, limits);
    const meta = { id: responseId("chatcmpl", c.get("requestId")), created: Math.floor(Date.now() / 1000), model: req.model };
    const stream = req.stream === true;
    return respond(c, {
      stream,
      includeUsage: stream && req.stream_options?.include_usage === true,
      renderer: chatRenderer(meta, stream && req.stream_options?.include_usage === true),
      cache: "bypass",
      produce: poolProducer(c, {
        model,
        input: { kind: "chat", messages },
        params,
        priority: priorityOf(req.priority, c.req.header("x-switchyard-priority")),
        timeoutMs: timeoutOf(req.timeout, limits),
        sessionKey: sessionKeyOf(c, req.user),
      }),
    });
  });
  return app;
}
