/**
 * The gateway's Hono app built in process (`createApp(deps)`) over scripted
 * backends: the HTTP contract, auth, limits, cache and errors tested with
 * `app.request()`, no socket and no shard process. The real path (shard
 * processes, sockets, SSE disconnects) stays in test/shard.
 */
import type { Hono } from "hono";
import { loadConfig, type SwitchyardConfig } from "../../src/config/index.js";
import { LruCacheStore, ResponseCache } from "../../src/cache/index.js";
import { ModelPool, ModelRegistry } from "../../src/router/index.js";
import { createApp } from "../../src/server/http/app.js";
import type { AppEnv } from "../../src/server/http/env.js";
import { createLogger } from "../../src/telemetry/logger.js";
import type { GenerationResult } from "../../src/types.js";
import { ScriptedBackend, type Script } from "./scripted-backend.js";

export interface InProcessApp extends AsyncDisposable {
  app: Hono<AppEnv>;
  config: SwitchyardConfig;
  /** The one backend of model `m` (aliases: `m-alias`). */
  backend: ScriptedBackend;
  cache: ResponseCache<GenerationResult>;
  /** `app.request()` with a JSON body and an optional bearer key. */
  post(path: string, body: unknown, key?: string, headers?: Record<string, string>): Promise<Response>;
}

/**
 * @param raw config (merged over one model `m`, alias `m-alias`, 2 slots)
 * @param script what the backend does on its n-th call (default: 3 tokens)
 */
export async function inProcessApp(raw: Record<string, unknown> = {}, script: (call: number) => Script = () => ({ kind: "ok", tokens: 3 })): Promise<InProcessApp> {
  const config = loadConfig({ env: {}, raw: { models: [{ name: "m", file: "scripted.gguf", aliases: ["m-alias"] }], ...raw } });
  const model = config.models[0]!;
  const backend = new ScriptedBackend("m#0", 2, script);
  const pool = new ModelPool({ model: model.name, backends: [backend], queue: config.queue, breaker: config.breaker, retry: config.retry, requestTimeoutMs: 10_000 });
  const registry = ModelRegistry.of([{ config: model, pool, identity: "scripted", tiny: false, created: 1_700_000_000 }], { bots: config.bots });
  await registry.start();
  const cache = new ResponseCache<GenerationResult>({ store: new LruCacheStore({ maxBytes: 1 << 20, ttlMs: 60_000 }) });
  const app = createApp({ config, registry, logger: createLogger({ level: "silent" }), cache });
  const post = (path: string, body: unknown, key?: string, headers: Record<string, string> = {}) =>
    Promise.resolve(
      app.request(path, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
  return { app, config, backend, cache, post, [Symbol.asyncDispose]: () => registry.dispose() };
}
