/**
 * `POST /v1/tokenize` (vLLM's `/tokenize` shape): a text's token ids as a completions prompt has
 * them, so a client can send token-id prompts (`switchyard eval perplexity --url` windows a text
 * this way). `add_special_tokens` (default true, as vLLM) puts the BOS first when the model adds one.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import { parseBody } from "../http/validate.js";
import { resolveModelFor } from "../generation/resolve-model.js";
import { clientSignal } from "../../util/node-bindings.js";

const tokenizeRequestSchema = z.strictObject({
  model: z.string().min(1),
  prompt: z.string(),
  add_special_tokens: z.boolean().optional(),
});

export function tokenizeRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/v1/tokenize", async function tokenize(c) {
    const req = await parseBody(c, tokenizeRequestSchema);
    const model = resolveModelFor(c, deps, req.model);
    using abort = clientSignal(c);
    const tokens = await model.pool.tokenize(req.prompt, req.add_special_tokens ?? true, abort.signal);
    // Tokens of context per slot of a local model (a remote one's is the upstream's to tell).
    return c.json({ count: tokens.length, max_model_len: model.config.upstream === undefined ? model.config.contextSize : null, tokens });
  });
  return app;
}
