/**
 * `POST /v1/chat/completions`, streamed or not; `n` choices, tools, logprobs
 * and grounding. The OpenAI request becomes a generation plan
 * (`openai/plans.ts`); the pipeline runs it (`generation/pipeline.ts`).
 */
import { Hono } from "hono";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import { parseBody } from "../http/validate.js";
import { chatRequestSchema } from "../openai/schemas.js";
import { chatPlan } from "../openai/plans.js";
import { ignoredChatParams } from "../openai/params.js";
import { reportIgnoredParams } from "../http/ignored-params.js";
import { runGeneration } from "../generation/index.js";

export function chatRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/v1/chat/completions", async function chatCompletions(c) {
    const req = await parseBody(c, chatRequestSchema);
    const plan = chatPlan(c, deps, req);
    reportIgnoredParams(c, deps.logger, ignoredChatParams(req));
    return runGeneration(c, deps, plan);
  });
  return app;
}
