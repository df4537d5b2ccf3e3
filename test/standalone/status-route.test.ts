/**
 * `GET /v1/status` on its own (no browser, no shards): the body's shape and
 * the admin-key rule the console relies on.
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { LruCacheStore, ResponseCache } from "../../src/cache/index.js";
import type { ModelRegistry, PoolSnapshot } from "../../src/router/index.js";
import { Hono } from "hono";
import { statusRoutes, type StatusBody } from "../../src/server/routes/status.js";
import { auth } from "../../src/server/http/middleware/auth.js";
import type { AppEnv } from "../../src/server/http/env.js";
import { errorBody, toGatewayError } from "../../src/errors.js";
import { createMetrics } from "../../src/telemetry/index.js";
import type { GatewayDeps } from "../../src/server/http/deps.js";
import type { GenerationResult } from "../../src/types.js";
import { createLogger } from "../../src/telemetry/logger.js";

const SNAPSHOT: PoolSnapshot = {
  model: "tiny",
  waiting: 1,
  running: 2,
  shards: [{ id: "tiny#0", kind: "local", state: "ready", breaker: "closed", slotsBusy: 2, slotsTotal: 2, restarts: 0, lastError: undefined }],
};

/** The route only reads `snapshot()` from the registry. */
const registry = { snapshot: () => [SNAPSHOT] } as unknown as ModelRegistry;

function deps(keys: Array<{ key: string; tenant: string; admin?: boolean }> = []): GatewayDeps {
  const config = loadConfig({ env: {}, raw: { models: [{ name: "tiny", file: "tiny" }], auth: { keys } } });
  return { config, registry, logger: createLogger({ level: "silent" }) };
}

/** The route behind the app's auth middleware, which sets the principal (and its `admin` flag). */
function withAuth(d: GatewayDeps, options?: Parameters<typeof statusRoutes>[1]): Hono<AppEnv> {
  const app = new Hono<AppEnv>().use("/v1/*", auth({ keys: d.config.auth.keys })).route("/", statusRoutes(d, options));
  app.onError((err, c) => {
    const gw = toGatewayError(err);
    return c.json(errorBody(gw), gw.status as 401);
  });
  return app;
}

const get = (app: Hono<AppEnv>, key?: string) =>
  app.request("/v1/status", key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } });

describe("GET /v1/status", () => {
  it("reports pools, cache and uptime in open mode", async () => {
    let now = 1_000;
    const cache = new ResponseCache<GenerationResult>({ store: new LruCacheStore({ maxBytes: 1 << 20, ttlMs: 60_000 }) });
    const app = withAuth({ ...deps(), cache }, { now: () => now, completionTokens: () => 42 });
    now += 12_345;
    const res = await get(app);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as StatusBody;
    expect(body.models).toEqual([SNAPSHOT]);
    expect(body.cache?.counters).toMatchObject({ hit: 0, miss: 0, bypass: 0 });
    expect(body.cache?.stats).toMatchObject({ entries: 0, bytes: 0, maxBytes: 1 << 20 });
    expect(body.uptimeSeconds).toBe(12.3);
    expect(body.completionTokens).toBe(42);
  });

  it("says null (not 0) for what it cannot know: no cache, no token counter", async () => {
    const body = (await (await get(withAuth(deps()))).json()) as StatusBody;
    expect(body.cache).toBeNull();
    expect(body.completionTokens).toBeNull();
  });

  it("needs an admin key once keys are configured", async () => {
    const app = withAuth(
      deps([
        { key: "tenant-key-0001", tenant: "acme" },
        { key: "admin-key-0001", tenant: "ops", admin: true },
      ]),
    );
    // No key or a wrong one: auth answers 401 before the route; a tenant's key: the route's 403.
    for (const key of [undefined, "wrong-key-0001"]) expect((await get(app, key)).status, `key ${key}`).toBe(401);
    const res = await get(app, "tenant-key-0001");
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { type: "permission_error", code: "admin_required" } });
    expect((await get(app, "admin-key-0001")).status).toBe(200);
  });

  it("accepts an admin key configured as its sha256 hash", async () => {
    const { createHash } = await import("node:crypto");
    const hash = createHash("sha256").update("admin-key-0002").digest("hex");
    const app = withAuth(deps([{ key: `sha256:${hash}`, tenant: "ops", admin: true }]));
    expect((await get(app, "admin-key-0002")).status).toBe(200);
    expect((await get(app, `sha256:${hash}`)).status).toBe(401);
  });

  it("reads the completion-token counter of the gateway's metrics, summed over models", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const read = () => metrics.completionTokensTotal();
    expect(await read()).toBe(0);
    metrics.observeGeneration({ model: "tiny", durationMs: 10, promptTokens: 3, completionTokens: 5, decodeMs: 8 });
    metrics.observeGeneration({ model: "other", durationMs: 10, promptTokens: 3, completionTokens: 7, decodeMs: 8 });
    expect(await read()).toBe(12);
    const body = (await (await get(withAuth(deps(), { completionTokens: read }))).json()) as StatusBody;
    expect(body.completionTokens).toBe(12);
  });
});
