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
import { fixedAnswer, poolProducer, responseId, sessionKeyOf } from "./generation-common.js";
import { ground, type Grounded } from "../grounding.js";
import { invalidRequest } from "../../errors.js";
import { NO_ANSWER_TEXT } from "../../rag/index.js";

export function chatRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/v1/chat/completions", async (c) => {
    const req = await parseBody(c, chatRequestSchema);
    const model = resolveModelFor(c, deps, req.model);
    const limits = deps.config.limits;
    const params = chatParams(req, limits);
    const tenant = c.get("principal").tenant;
    const bot = deps.registry.bot(req.model);
    const rag = req.rag ?? (bot ? { collection: bot.collection, top_k: bot.topK } : undefined);
    let messages = toChatMessages(req, limits);
    let grounded: Grounded | undefined;
    if (rag) {
      if (!deps.rag) throw invalidRequest("Retrieval is not enabled on this server.", { param: "rag" });
      grounded = await ground(deps.rag, messages, {
        tenant,
        collection: rag.collection,
        topK: rag.top_k ?? 4,
        ...(req.rag?.mode ? { mode: req.rag.mode } : {}),
        ...(req.rag?.filter ? { filter: req.rag.filter } : {}),
        ...(req.rag?.score_floor === undefined ? {} : { scoreFloor: req.rag.score_floor }),
        ...(bot?.systemPrompt ? { systemPrompt: bot.systemPrompt } : {}),
      });
      messages = grounded.messages;
    }
    const input = { kind: "chat" as const, messages };
    const meta = { id: responseId("chatcmpl", c.get("requestId")), created: Math.floor(Date.now() / 1000), model: req.model };
    const stream = req.stream === true;
    const includeUsage = stream && req.stream_options?.include_usage === true;
    const { cache, produce } = await cachedProducer({
      cache: deps.cache,
      parts: {
        tenant,
        endpoint: "chat",
        model: model.config.name,
        modelIdentity: model.identity,
        input: messages,
        params,
        ...(grounded ? { ragVersion: `${rag!.collection}@${grounded.version}` } : {}),
      },
      params,
      cacheControl: c.req.header("cache-control"),
      produce: grounded?.empty
        ? fixedAnswer(NO_ANSWER_TEXT)
        : poolProducer(c, {
            model,
            input,
            params,
            priority: priorityOf(req.priority, c.req.header("x-switchyard-priority")),
            timeoutMs: timeoutOf(req.timeout, limits),
            sessionKey: sessionKeyOf(c, req.user),
          }),
    });
    const citations = grounded?.citations;
    return respond(c, { stream, includeUsage, renderer: chatRenderer(meta, includeUsage, citations), cache, produce, ...(citations ? { citations } : {}) });
  });
  return app;
}
