/**
 * Configuration without restarts: the gateway serves one *generation* at a time (a config, its
 * registry, cache, retrieval and the Hono app built over them). A reload validates the new config,
 * builds the next generation (models whose settings did not change keep their pools and shards; a
 * changed or new model's shards are started now), switches new requests to it at once, and then
 * drains the previous generation: its in-flight requests finish on the pools they started on, and
 * only then are the pools (and cache or retrieval) that the new generation replaced disposed. No
 * request is dropped, and none is sent to a shard being removed.
 */
import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import type { Hono } from "hono";
import { ConfigError, type SwitchyardConfig } from "../config/index.js";
import type { ModelRegistry } from "../router/index.js";
import { onBodyDone } from "../util/response-done.js";
import { InFlight } from "../util/in-flight.js";
import type { NodeBindings } from "../util/node-bindings.js";
import type { AppEnv } from "./http/env.js";

/** The config a gateway serves now, as /v1/status shows it. */
export interface ConfigVersion {
  /** 1 at start, +1 per applied reload. */
  version: number;
  /** sha256 of the validated config (12 hex digits): equal configs, equal hashes. */
  hash: string;
  /** ISO time it was applied. */
  appliedAt: string;
}

/** The answer of a reload (`POST /v1/admin/reload`). */
export interface ReloadResult {
  config: ConfigVersion;
  /** False when the new config equals the running one (nothing was rebuilt). */
  changed: boolean;
  models: {
    /** Models with new pools (changed or added); started before the switch unless `load: on-demand`. */
    started: string[];
    /** Models whose pools and shards carried over. */
    kept: string[];
    /** Models whose old pools were drained and disposed (changed or removed). */
    retired: string[];
  };
}

/** `hash` of a validated config. */
export function configHash(config: SwitchyardConfig): string {
  return createHash("sha256").update(JSON.stringify(config)).digest("hex").slice(0, 12);
}

/** Keys a running gateway cannot change (listeners, shared state, data location). */
const RESTART_ONLY: Array<[string, (c: SwitchyardConfig) => unknown]> = [
  ["server.host", (c) => c.server.host],
  ["server.port", (c) => c.server.port],
  ["telemetry.metricsPort", (c) => c.telemetry.metricsPort],
  ["telemetry.metricsKey", (c) => c.telemetry.metricsKey],
  ["redis", (c) => c.redis],
  ["dataDir", (c) => c.dataDir],
];

/**
 * Refuses a new config that changes what only a restart can (a {@link ConfigError} naming the key).
 * @example
 * ```ts
 * assertReloadable(running, next); // throws "config: server.port: changing it needs a restart"
 * ```
 */
export function assertReloadable(running: SwitchyardConfig, next: SwitchyardConfig): void {
  const changed = RESTART_ONLY.filter(([, get]) => JSON.stringify(get(running)) !== JSON.stringify(get(next))).map(([key]) => key);
  if (changed.length > 0) throw new ConfigError(changed.map((key) => `config: ${key}: changing it needs a restart (the running value stays)`).join("\n"));
}

/**
 * One generation of the gateway: what a config built, and the requests running on it.
 * `fetch` counts a request from its arrival until its response body is done (SSE included).
 */
export class Generation {
  private readonly inFlight = new InFlight();

  constructor(
    readonly app: Hono<AppEnv>,
    readonly config: SwitchyardConfig,
    readonly registry: ModelRegistry,
    readonly version: ConfigVersion,
  ) {}

  /** `env`: @hono/node-server's Node request and response, passed on so the app keeps its hot path (see node-bindings.ts). */
  async fetch(request: Request, env?: NodeBindings): Promise<Response> {
    const release = this.inFlight.enter();
    let res: Response;
    try {
      res = await this.app.fetch(request, env);
    } catch (err) {
      release();
      throw err;
    }
    return onBodyDone(res, release, env?.outgoing);
  }

  /** Resolves once no request of this generation is in flight, or after `timeoutMs` (false then). */
  drained(timeoutMs: number): Promise<boolean> {
    return this.inFlight.idle(timeoutMs);
  }
}

/**
 * Calls `onChange` when the config file changes (debounced: editors write in several steps).
 * The directory is watched, so a file replaced by rename (how many editors save) is seen too.
 * @example
 * ```ts
 * const watcher = watchConfigFile("config/default.yaml", () => void gateway.reload());
 * watcher.close();
 * ```
 */
export function watchConfigFile(file: string, onChange: () => void, debounceMs = 300): { close(): void } {
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) || "/" : ".";
  const base = file.slice(file.lastIndexOf("/") + 1);
  let timer: NodeJS.Timeout | undefined;
  const watcher: FSWatcher = watch(dir, { persistent: false }, (_event, name) => {
    if (name !== null && name !== base) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  return {
    close: () => {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
