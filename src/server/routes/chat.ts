/** `POST /v1/chat/completions`, streamed or not; `n` choices, tools and logprobs. */
import { Hono } from "hono";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import { parseBody } from "../http/validate.js";
import { chatRequestSchema } from "../openai/schemas.js";
import { resolveModelFor } from "../generation/resolve-model.js";
import { chatParams, toChatMessages } from "../openai/params.js";
import { toolsRequestOf } from "../openai/tool-params.js";
import { chatRenderer } from "../openai/openai-format.js";
import { respond, type Producer } from "../generation/respond.js";
import { cachedProducer } from "../generation/cached-producer.js";
import { choiceProducers, fixedAnswer, poolOptionsFor, poolProducer, responseId, sharedProducers } from "../generation/producers.js";
import { ground, type Grounded } from "../generation/grounding.js";
import { invalidRequest } from "../../errors.js";
import { NO_ANSWER_TEXT } from "../../rag/index.js";
import type { GenerationInput } from "../../types.js";

export function chatRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/v1/chat/completions", async (c) => {
    const req = await parseBody(c, chatRequestSchema);
    const model = resolveModelFor(c, deps, req.model);
    const limits = deps.config.limits;
    const params = chatParams(req, limits);
    const tools = toolsRequestOf(req);
    const n = req.n ?? 1;
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
    const input: GenerationInput = { kind: "chat", messages, ...(tools ? { tools } : {}) };
    const meta = { id: responseId("chatcmpl", c.get("requestId")), created: Math.floor(Date.now() / 1000), model: req.model };
    const stream = req.stream === true;
    const includeUsage = stream && req.stream_options?.include_usage === true;
    const pool = poolOptionsFor(c, req, { model, input, params }, limits);
    let cache: "hit" | "miss" | "bypass" = "bypass";
    let produce: Producer | Producer[];
    if (grounded?.empty) produce = sharedProducers(fixedAnswer(NO_ANSWER_TEXT), n);
    else if (n > 1) produce = choiceProducers(c, pool, n);
    else {
      ({ cache, produce } = await cachedProducer({
        cache: deps.cache,
        parts: {
          tenant,
          endpoint: "chat",
          model: model.config.name,
          modelIdentity: model.identity,
          input: messages,
          params: {
            ...params,
            // The normalized tools (what the engine sees), plus the raw choice fields.
            tools: tools?.tools ?? req.tools ?? undefined,
            tool_choice: req.tool_choice ?? undefined,
            parallel_tool_calls: req.parallel_tool_calls ?? undefined,
            logprobs: req.logprobs ?? undefined,
            top_logprobs: req.top_logprobs ?? undefined,
            n,
          },
          ...(grounded ? { ragVersion: `${rag!.collection}@${grounded.version}` } : {}),
        },
        params,
        cacheControl: c.req.header("cache-control"),
        produce: poolProducer(c, pool),
        bypass: tools !== undefined || params.logprobs !== undefined,
      }));
    }
    const citations = grounded?.citations;
    return respond(c, {
      stream,
      includeUsage,
      renderer: chatRenderer(meta, { withUsage: includeUsage, withLogprobs: req.logprobs === true, ...(citations ? { citations } : {}) }),
      cache,
      produce,
      ...(citations ? { citations } : {}),
    });
  });
  return app;
}
