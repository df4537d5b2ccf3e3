/**
 * `POST /v1/completions` (legacy text completions), streamed or not; `n`
 * choices and logprobs. Plan in `openai/plans.ts`, run by the pipeline.
 */
import { Hono } from "hono";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import { parseBody } from "../http/validate.js";
import { completionRequestSchema } from "../openai/schemas.js";
import { completionPlan } from "../openai/plans.js";
import { runGeneration } from "../generation/index.js";

export function completionsRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/v1/completions", async function completions(c) {
    const req = await parseBody(c, completionRequestSchema);
    return runGeneration(c, deps, completionPlan(c, deps, req));
  });
  return app;
}
