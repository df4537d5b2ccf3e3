/**
 * OpenAI chat and completions requests → generation plans: what the model
 * sees, the sampling params, the cache's view of the request and the OpenAI
 * renderer. The pipeline (`../generation`) runs them.
 */
import type { Context } from "hono";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import { requireRetrievalAccess, resolveModelFor, responseIdOf, schedulingOf, type GenerationPlan } from "../generation/index.js";
import type { GenerationInput } from "../../types.js";
import type { ChatRequest, CompletionRequest } from "./schemas.js";
import { chatParams, completionInput, completionParams, toChatMessages } from "./params.js";
import { toolsRequestOf } from "./tool-params.js";
import { chatRenderer, completionRenderer } from "./openai-format.js";
import { openAIRenderer } from "./renderer.js";

/**
 * @example
 * ```ts
 * return runGeneration(c, deps, chatPlan(c, deps, await parseBody(c, chatRequestSchema)));
 * ```
 */
export function chatPlan(c: Context<AppEnv>, deps: GatewayDeps, req: ChatRequest): GenerationPlan {
  const model = resolveModelFor(c, deps, req.model);
  const limits = deps.config.limits;
  const params = chatParams(req, limits);
  const tools = toolsRequestOf(req);
  const tenant = c.get("principal").tenant;
  const bot = deps.registry.bot(req.model);
  // A bot the key may use brings its own retrieval; a `rag` field needs the embedding model allowed.
  if (req.rag) requireRetrievalAccess(c.get("principal").allowedModels, deps);
  const rag = req.rag ?? (bot ? { collection: bot.collection, top_k: bot.topK } : undefined);
  const input: GenerationInput = { kind: "chat", messages: toChatMessages(req, limits), ...(tools ? { tools } : {}) };
  const choices = req.n ?? 1;
  const stream = req.stream === true;
  const includeUsage = stream && req.stream_options?.include_usage === true;
  const id = responseIdOf("chatcmpl", c.get("requestId"));
  const meta = { id, created: Math.floor(Date.now() / 1000), model: req.model };
  return {
    model,
    input,
    params,
    choices,
    stream,
    responseId: id,
    scheduling: schedulingOf(c, req, limits),
    bot: bot?.name,
    grounding: rag && {
      tenant,
      collection: rag.collection,
      topK: rag.top_k ?? 4,
      ...(req.rag?.mode ? { mode: req.rag.mode } : {}),
      ...(req.rag?.filter ? { filter: req.rag.filter } : {}),
      ...(req.rag?.score_floor === undefined ? {} : { scoreFloor: req.rag.score_floor }),
      ...(bot?.systemPrompt ? { systemPrompt: bot.systemPrompt } : {}),
    },
    cache: {
      tenant,
      endpoint: "chat",
      model: model.config.name,
      modelIdentity: model.identity,
      // The normalized tools (what the engine sees), plus the raw choice fields.
      outputFields: {
        tools: tools?.tools ?? req.tools ?? undefined,
        tool_choice: req.tool_choice ?? undefined,
        parallel_tool_calls: req.parallel_tool_calls ?? undefined,
        logprobs: req.logprobs ?? undefined,
        top_logprobs: req.top_logprobs ?? undefined,
      },
      carriesExtras: tools !== undefined || params.logprobs !== undefined,
      choices,
      cacheControl: c.req.header("cache-control"),
    },
    renderer: ({ citations }) =>
      openAIRenderer(chatRenderer(meta, { withUsage: includeUsage, withLogprobs: req.logprobs === true, ...(citations ? { citations } : {}) }), { includeUsage }),
  };
}

/**
 * @example
 * ```ts
 * return runGeneration(c, deps, completionPlan(c, deps, await parseBody(c, completionRequestSchema)));
 * ```
 */
export function completionPlan(c: Context<AppEnv>, deps: GatewayDeps, req: CompletionRequest): GenerationPlan {
  const model = resolveModelFor(c, deps, req.model);
  const limits = deps.config.limits;
  const params = completionParams(req, limits);
  const choices = req.n ?? 1;
  const stream = req.stream === true;
  const includeUsage = stream && req.stream_options?.include_usage === true;
  const id = responseIdOf("cmpl", c.get("requestId"));
  const meta = { id, created: Math.floor(Date.now() / 1000), model: req.model };
  const input = completionInput(req);
  return {
    model,
    input,
    params,
    choices,
    stream,
    responseId: id,
    scheduling: schedulingOf(c, req, limits),
    bot: deps.registry.bot(req.model)?.name,
    cache: {
      tenant: c.get("principal").tenant,
      endpoint: "completion",
      model: model.config.name,
      modelIdentity: model.identity,
      outputFields: { logprobs: req.logprobs ?? undefined, ...(req.echo ? { echo: true } : {}) },
      carriesExtras: params.logprobs !== undefined,
      choices,
      cacheControl: c.req.header("cache-control"),
    },
    renderer: () =>
      openAIRenderer(completionRenderer(meta, { withUsage: includeUsage, withLogprobs: req.logprobs != null }), {
        includeUsage,
        echo: req.echo ? input.prompt : undefined,
        echoScored: params.echo === true,
      }),
  };
}
