/**
 * Hono environment of the gateway app: the per-request variables, each
 * declared by the middleware or layer that sets it (hono's `TimingVariables`
 * pattern), read with `c.get(...)` / `c.var`.
 */
import type { AuthVariables } from "./middleware/auth.js";
import type { RateLimitVariables } from "./middleware/rate-limit.js";
import type { DrainVariables } from "./middleware/drain-gate.js";
import type { GatewayError } from "../../errors.js";
import type { BodyVariables } from "./body.js";

export interface AppVariables extends AuthVariables, RateLimitVariables, BodyVariables, DrainVariables {
  requestId: string;
  /** Milliseconds spent inside the model (queue excluded), for the overhead header. */
  modelMs: number;
  /**
   * The wire API's error envelope for this request (set by a route or its
   * middleware, e.g. Anthropic's on `/v1/messages`); absent = OpenAI's.
   */
  errorEnvelope: ErrorEnvelope | undefined;
  /** Config `server.maxJsonDepth`: deepest nesting of a JSON body (set for every `/v1` request). */
  maxJsonDepth: number | undefined;
}

/** How a wire API shows an error: its body, and its status code where that differs from ours (Anthropic's 529). */
export interface ErrorEnvelope {
  body(err: GatewayError): object;
  status?(err: GatewayError): number;
}

export interface AppEnv {
  Variables: AppVariables;
}
