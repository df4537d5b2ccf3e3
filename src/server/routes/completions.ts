/** `POST /v1/completions` (legacy text completions), streamed or not; `n` choices and logprobs. */
import { Hono } from "hono";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import { parseBody } from "../http/validate.js";
import { completionRequestSchema } from "../openai/schemas.js";
import { resolveModelFor } from "../generation/resolve-model.js";
import { completionInput, completionParams } from "../openai/params.js";
import { completionRenderer } from "../openai/openai-format.js";
import { respond, type Producer } from "../generation/respond.js";
import { cachedProducer } from "../generation/cached-producer.js";
import { choiceProducers, poolOptionsFor, poolProducer, responseId } from "../generation/producers.js";

export function completionsRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/v1/completions", async (c) => {
    const req = await parseBody(c, completionRequestSchema);
    const model = resolveModelFor(c, deps, req.model);
    const limits = deps.config.limits;
    const params = completionParams(req, limits);
    const input = completionInput(req);
    const n = req.n ?? 1;
    const meta = { id: responseId("cmpl", c.get("requestId")), created: Math.floor(Date.now() / 1000), model: req.model };
    const stream = req.stream === true;
    const includeUsage = stream && req.stream_options?.include_usage === true;
    const pool = poolOptionsFor(c, req, { model, input, params }, limits);
    let cache: "hit" | "miss" | "bypass" = "bypass";
    let produce: Producer | Producer[];
    if (n > 1) produce = choiceProducers(c, pool, n);
    else {
      ({ cache, produce } = await cachedProducer({
        cache: deps.cache,
        parts: {
          tenant: c.get("principal").tenant,
          endpoint: "completion",
          model: model.config.name,
          modelIdentity: model.identity,
          input,
          params: { ...params, logprobs: req.logprobs ?? undefined, n },
        },
        params,
        cacheControl: c.req.header("cache-control"),
        produce: poolProducer(c, pool),
        bypass: params.logprobs !== undefined,
      }));
    }
    const withLogprobs = req.logprobs != null;
    return respond(c, { stream, includeUsage, renderer: completionRenderer(meta, { withUsage: includeUsage, withLogprobs }), cache, produce });
  });
  return app;
}
