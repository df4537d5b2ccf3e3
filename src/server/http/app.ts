/**
 * The gateway's Hono app: request id → body limit → principal → routes, with
 * one error handler that renders every failure as OpenAI's error envelope.
 */
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { errorBody, isAbortError, notFound, toGatewayError } from "../../errors.js";
import { bodyLimit } from "./middleware/body-limit.js";
import type { AppEnv } from "./env.js";
import type { GatewayDeps } from "./deps.js";
import { modelsRoutes } from "../routes/models.js";
import { healthRoutes } from "../routes/health.js";
import { chatRoutes } from "../routes/chat.js";
import { completionsRoutes } from "../routes/completions.js";
import { tokenizeRoutes } from "../routes/tokenize.js";
import { embeddingsRoutes } from "../routes/embeddings.js";
import { collectionsRoutes } from "../routes/collections.js";
import { responsesRoutes } from "../routes/responses.js";
import { anthropicErrors, messagesRoutes } from "../routes/messages.js";
import { adminKeysRoutes } from "../routes/admin-keys.js";
import { LocalRevocations } from "./key-revocations.js";
import { statusRoutes } from "../routes/status.js";
import { adminRoutes } from "../routes/admin.js";
import { FILE_UPLOAD_PATH, vectorStoreRoutes } from "../routes/vector-stores.js";
import { uiRoutes } from "../../ui/index.js";
import { requireRetrievalAccess } from "../generation/index.js";
// --- observability and security ---
import { ANONYMOUS_PRINCIPAL, auth, hashApiKeys, matchApiKey, OPEN_PRINCIPAL } from "./middleware/auth.js";
import { accessLog } from "./middleware/access-log.js";
import { rateLimit } from "./middleware/rate-limit.js";
import { cors } from "./middleware/cors.js";
import { drainGate } from "./middleware/drain-gate.js";
import { httpMetrics, metricsRoute, traceRequests, type GatewayMetrics } from "../../telemetry/index.js";

/** Telemetry the app mounts besides its routes. */
export interface AppTelemetry {
  /** Counts HTTP requests and serves `/metrics` (unless `mountMetricsRoute` is false). */
  metrics?: GatewayMetrics;
  /** False when `/metrics` is served on its own port (`telemetry.metricsPort`). Default true. */
  mountMetricsRoute?: boolean;
}

/**
 * Who may read `/metrics`, in words, for the startup log: on its own port
 * (`telemetry.metricsPort`), else an admin API key or `telemetry.metricsKey`
 * when keys are configured, else the metrics key if set, else anyone.
 *
 * @example
 * ```ts
 * logger.info({ metrics: metricsAccess(config) }, "switchyard listening");
 * ```
 */
export function metricsAccess(config: GatewayDeps["config"]): string {
  const { metricsPort, metricsKey } = config.telemetry;
  if (metricsPort > 0) return `/metrics on its own port ${metricsPort} only${metricsKey ? ", bearer telemetry.metricsKey required" : ", open there (firewall it)"}`;
  if (config.auth.keys.length > 0) return `/metrics requires an admin API key${metricsKey ? " or telemetry.metricsKey" : ""} (Authorization: Bearer)`;
  return metricsKey ? "/metrics requires telemetry.metricsKey (Authorization: Bearer)" : "/metrics is open (no API keys configured)";
}

/**
 * @example
 * ```ts
 * const app = createApp({ config, registry, logger });
 * serve({ fetch: app.fetch, port: 8080 });
 * ```
 */
export function createApp(deps: GatewayDeps, telemetry: AppTelemetry = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { logger, config } = deps;
  const apiLimit = bodyLimit({ maxBytes: config.server.bodyLimitBytes });
  // Hashed once here; auth and the rate limiter share the records (the plain keys go no further).
  const keys = hashApiKeys(config.auth.keys);

  app.use(requestId({ headerName: "x-request-id" }));
  // --- observability and security: server span, HTTP metrics, CORS (before auth: preflights carry no key) ---
  app.use(traceRequests());
  if (telemetry.metrics) app.use(httpMetrics({ metrics: telemetry.metrics }));
  app.use(cors({ origins: config.server.corsOrigins }));
  app.use(accessLog({ logger, defaultPrincipal: keys.length === 0 ? OPEN_PRINCIPAL : ANONYMOUS_PRINCIPAL, sampleRate: config.telemetry.accessLogSampleRate }));
  // Anthropic's envelope for every error of its API, auth and limits included (so before them).
  app.use("/v1/messages", anthropicErrors());
  app.use("/v1/messages/*", anthropicErrors());
  // Graceful shutdown: counts requests, refuses new API ones with 503 + Retry-After while draining.
  if (deps.drain) app.use(drainGate({ drain: deps.drain }));
  // Document uploads have their own, larger limit (collections routes).
  app.use("/v1/*", async function apiBodyLimit(c, next) {
    c.set("maxJsonDepth", config.server.maxJsonDepth);
    if (/^\/v1\/collections\/[^/]+\/documents$/.test(c.req.path) || FILE_UPLOAD_PATH.test(c.req.path)) return next();
    return apiLimit(c, next);
  });
  // --- observability and security: API keys, then per-key limits (/healthz, /readyz, /metrics stay outside /v1) ---
  const revocations = deps.revocations ?? new LocalRevocations();
  app.use("/v1/*", auth({ records: keys, isRevoked: (keyId) => revocations.isRevoked(keyId) }));
  app.use(
    "/v1/*",
    rateLimit({
      records: keys,
      defaultMaxTokens: config.limits.defaultMaxTokens,
      maxTokensCap: config.limits.maxTokensCap,
      windowMs: config.limits.rateWindowMs,
      ...(deps.limiter ? { limiter: deps.limiter } : {}),
    }),
  );
  // Retrieval writes and searches run the embedding model: the key's `models` list applies (403 otherwise).
  app.on("POST", ["/v1/collections/*", "/v1/vector_stores", "/v1/vector_stores/*"], async function retrievalAccess(c, next) {
    requireRetrievalAccess(c.get("principal").allowedModels, deps);
    return next();
  });
  if (telemetry.metrics && telemetry.mountMetricsRoute !== false) {
    // With API keys, /metrics (per-tenant and per-model figures, as /v1/status) is for admin keys or the metrics key only.
    const adminKey = (bearer: string) => {
      const record = matchApiKey(keys, bearer);
      return record !== undefined && record.admin && !revocations.isRevoked(record.keyId);
    };
    app.route(
      "/",
      metricsRoute({
        metrics: telemetry.metrics,
        ...(config.telemetry.metricsKey ? { key: config.telemetry.metricsKey } : {}),
        ...(keys.length > 0 ? { authorize: adminKey } : {}),
      }),
    );
  }

  app.route("/", healthRoutes(deps));
  app.route("/", modelsRoutes(deps));
  app.route("/", chatRoutes(deps));
  app.route("/", completionsRoutes(deps));
  app.route("/", tokenizeRoutes(deps));
  app.route("/", embeddingsRoutes(deps));
  app.route("/", collectionsRoutes(deps));
  app.route("/", responsesRoutes(deps));
  app.route("/", messagesRoutes(deps));
  app.route("/", adminRoutes(deps));
  app.route("/", statusRoutes(deps, telemetry.metrics ? { completionTokens: () => telemetry.metrics!.completionTokensTotal() } : {}));
  app.route("/", vectorStoreRoutes({ ...(deps.vectorStores ? { vectorStores: deps.vectorStores } : {}), maxUploadBytes: config.rag.maxUploadBytes }));
  app.route("/", adminKeysRoutes(deps, { revocations, shared: deps.revocations !== undefined && config.redis.url !== undefined }));
  app.route("/", uiRoutes());

  app.notFound(function unknownRoute(c) {
    const err = notFound(`Unknown route: ${c.req.method} ${c.req.path}`, { code: "unknown_url" });
    return c.json(c.get("errorEnvelope")?.body(err) ?? errorBody(err), 404);
  });
  app.onError(function onError(err, c) {
    // The client is gone: nobody reads this, but close cleanly (499 as nginx logs it).
    if (isAbortError(err)) return c.body(null, 499 as 400);
    const gw = toGatewayError(err);
    // Overload and deadlines are expected under load: one line, no stack. Engine faults get the cause.
    if (gw.status === 503 || gw.status === 504) logger.warn({ requestId: c.get("requestId"), status: gw.status, code: gw.code }, "request refused");
    else if (gw.status >= 500) logger.error({ requestId: c.get("requestId"), code: gw.code, err: gw.cause ?? gw }, "request failed");
    for (const [k, v] of Object.entries(gw.headers)) c.header(k, v);
    const envelope = c.get("errorEnvelope");
    return c.json(envelope ? envelope.body(gw) : errorBody(gw), (envelope?.status?.(gw) ?? gw.status) as 400);
  });
  return app;
}
