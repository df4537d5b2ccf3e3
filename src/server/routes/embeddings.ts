/** `POST /v1/embeddings`: string or array input, float or base64 encoding. */
import { Hono } from "hono";
import { invalidRequest } from "../../errors.js";
import type { AppEnv } from "../http/env.js";
import type { GatewayDeps } from "../http/deps.js";
import { parseBody } from "../http/validate.js";
import { embeddingRequestSchema } from "../openai/schemas.js";
import { resolveModelFor } from "../generation/resolve-model.js";
import { clientSignal } from "../../util/node-bindings.js";

function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}

export function embeddingsRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/v1/embeddings", async (c) => {
    const req = await parseBody(c, embeddingRequestSchema);
    const model = resolveModelFor(c, deps, req.model);
    const input = typeof req.input === "string" ? [req.input] : req.input;
    if (input.length === 0) throw invalidRequest("'input' must not be an empty array: send at least one string.", { param: "input" });
    if (input.some((x) => typeof x !== "string")) {
      throw invalidRequest("Token-array input is not supported; send strings.", { param: "input", code: "unsupported_parameter" });
    }
    const texts = input as string[];
    if (texts.length > deps.config.limits.maxEmbeddingInputs) {
      throw invalidRequest(`At most ${deps.config.limits.maxEmbeddingInputs} inputs per request.`, { param: "input" });
    }
    if (texts.some((t) => t.length === 0)) throw invalidRequest("Input strings must not be empty.", { param: "input" });
    using abort = clientSignal(c);
    const { vectors, tokens } = await model.pool.embed(texts, abort.signal);
    if (req.dimensions !== undefined && req.dimensions !== vectors[0]?.length) {
      throw invalidRequest(`This model produces ${vectors[0]?.length}-dimensional embeddings; dimensions cannot be changed.`, { param: "dimensions" });
    }
    const base64 = req.encoding_format === "base64";
    return c.json({
      object: "list",
      data: vectors.map((v, index) => ({ object: "embedding", index, embedding: base64 ? toBase64(v) : v })),
      model: req.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  });
  return app;
}
