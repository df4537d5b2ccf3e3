/**
 * HTTP plumbing of the gateway: the Hono app and its environment, the
 * middleware (access log, body limit, CORS, auth, rate limits), body
 * validation and the SSE writer. Wire formats live in `../openai` (and its
 * siblings), generation in `../generation`.
 */
export { createApp, type AppTelemetry } from "./app.js";
export type { AppEnv, AppVariables, ErrorEnvelope } from "./env.js";
export { reportIgnoredParams, IGNORED_PARAMS_HEADER } from "./ignored-params.js";
export type { GatewayDeps } from "./deps.js";
export { parseBody } from "./validate.js";
export { createSseWriter, SSE_HEADERS, type SseWriter } from "./sse.js";
export { accessLog, type AccessLogOptions } from "./middleware/access-log.js";
export { bodyLimit, type BodyLimitOptions } from "./middleware/body-limit.js";
export { cors, type CorsOptions } from "./middleware/cors.js";
export { drainGate, type DrainGateOptions, type DrainVariables } from "./middleware/drain-gate.js";
export { RequestDrain, type RequestDrainOptions } from "./drain.js";
export {
  auth,
  hashApiKey,
  hashApiKeys,
  matchApiKey,
  presentedKey,
  OPEN_PRINCIPAL,
  ANONYMOUS_PRINCIPAL,
  type ApiKeyConfig,
  type ApiKeyRecord,
  type AuthOptions,
  type AuthVariables,
} from "./middleware/auth.js";
export { rateLimit, TOKEN_PATHS, type RateLimitOptions, type RateLimitVariables } from "./middleware/rate-limit.js";
export {
  RateLimiter,
  estimateRequestTokens,
  formatResetDuration,
  type Admission,
  type AdmitRequest,
  type KeyLimits,
  type RateLimiterOptions,
  type TokenReservation,
} from "./rate-limiter.js";
