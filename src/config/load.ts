/**
 * Loads the config: YAML file → environment overrides → zod validation.
 * This is the only module that reads `process.env` (callers pass `env` in tests).
 */
import { readFileSync, existsSync } from "node:fs";
import os from "node:os";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { adapterAliases, configSchema, modelNames, type SwitchyardConfig } from "./schema.js";

/** A config problem; the message names the file and the bad key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export interface LoadConfigOptions {
  /** Defaults to `SWITCHYARD_CONFIG`, else `config/default.yaml`. */
  path?: string;
  /** Environment to read overrides from. Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Already-parsed config object, instead of reading a file (tests, embedding). */
  raw?: unknown;
}

export const DEFAULT_CONFIG_PATH = "config/default.yaml";

/** The config file `loadConfig` reads: `SWITCHYARD_CONFIG`, else `config/default.yaml`. */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.SWITCHYARD_CONFIG ?? DEFAULT_CONFIG_PATH;
}

/**
 * @example
 * ```ts
 * const config = loadConfig({ env: { PORT: "0", SWITCHYARD_MODEL: "tiny" } });
 * ```
 */
export function loadConfig({ path, env = process.env, raw }: LoadConfigOptions = {}): SwitchyardConfig {
  const file = path ?? configFilePath(env);
  let data: unknown = raw;
  if (data === undefined) {
    if (!existsSync(file)) throw new ConfigError(`Config file not found: ${file} (set SWITCHYARD_CONFIG)`);
    try {
      data = parseYaml(readFileSync(file, "utf8")) ?? {};
    } catch (err) {
      throw new ConfigError(`${file}: invalid YAML: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const source = raw === undefined ? file : "config";
  const withEnv = applyEnv(structuredClone(data) as Record<string, unknown>, env, source);
  const parsed = configSchema.safeParse(withEnv);
  if (!parsed.success) throw new ConfigError(formatIssues(source, parsed.error.issues));
  const config = parsed.data;
  if (config.defaultModel !== undefined && !config.models.some((m) => m.name === config.defaultModel)) {
    throw new ConfigError(`${source}: defaultModel: no model is named '${config.defaultModel}'`);
  }
  const names = new Set<string>();
  for (const [i, m] of config.models.entries()) {
    for (const n of modelNames(m)) {
      if (names.has(n)) throw new ConfigError(`${source}: models[${i}]: name or alias '${n}' is used twice`);
      names.add(n);
    }
  }
  const atStartup = config.models
    .filter((m) => m.upstream === undefined && m.load === "startup")
    .flatMap((m) => [m.name, ...adapterAliases(m).map((a) => a.name)]);
  const { maxLoadedModels } = config.loading;
  if (maxLoadedModels > 0 && atStartup.length > maxLoadedModels) {
    throw new ConfigError(
      `${source}: loading.maxLoadedModels: ${atStartup.length} models load at startup (${atStartup.join(", ")}) but only ${maxLoadedModels} may be loaded at once; set load: on-demand on some`,
    );
  }
  for (const [i, b] of config.bots.entries()) {
    if (names.has(b.name)) throw new ConfigError(`${source}: bots[${i}].name: '${b.name}' is already a model name or alias`);
    names.add(b.name);
    if (!config.models.some((m) => modelNames(m).includes(b.model))) {
      throw new ConfigError(`${source}: bots[${i}].model: no model is named '${b.model}'`);
    }
  }
  return config;
}

function formatIssues(source: string, issues: z.core.$ZodIssue[]): string {
  return issues
    .map((i) => `${source}: ${i.path.length ? i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") : "(root)"}: ${i.message}`)
    .join("\n");
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ConfigError(`environment: ${name}: expected an integer, got '${v}'`);
  return n;
}

/** The environment overrides of DESIGN.md's contracts. */
function applyEnv(data: Record<string, unknown>, env: NodeJS.ProcessEnv, source: string): Record<string, unknown> {
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new ConfigError(`${source}: expected a mapping at the top level`);
  const server = ((data.server as Record<string, unknown> | undefined) ??= {});
  if (env.HOST) server.host = env.HOST;
  const port = intFromEnv(env, "PORT");
  if (port !== undefined) server.port = port;
  if (env.SWITCHYARD_DATA_DIR) data.dataDir = env.SWITCHYARD_DATA_DIR;
  if (env.SWITCHYARD_REDIS_URL || env.SWITCHYARD_REDIS_PASSWORD) {
    const redis = ((data.redis as Record<string, unknown> | undefined) ??= {});
    if (env.SWITCHYARD_REDIS_URL) redis.url = env.SWITCHYARD_REDIS_URL;
    if (env.SWITCHYARD_REDIS_PASSWORD) redis.password = env.SWITCHYARD_REDIS_PASSWORD;
  }
  if (env.SWITCHYARD_LOG_LEVEL) ((data.telemetry as Record<string, unknown> | undefined) ??= {}).logLevel = env.SWITCHYARD_LOG_LEVEL;

  const models = Array.isArray(data.models) ? (data.models as Record<string, unknown>[]) : [];
  const target = models.find((m) => m?.name === data.defaultModel) ?? models[0];
  const wantsDefault = env.SWITCHYARD_MODEL || env.SWITCHYARD_SHARDS || env.SWITCHYARD_SLOTS || env.SWITCHYARD_UPSTREAM;
  if (wantsDefault && !target) throw new ConfigError(`${source}: models: environment overrides need at least one model`);
  if (target) {
    if (env.SWITCHYARD_MODEL) {
      target.file = env.SWITCHYARD_MODEL;
      delete target.upstream;
      // An explicitly named model must load; the default config's tiny fallback does not carry over to it.
      delete target.fallback;
    }
    if (env.SWITCHYARD_UPSTREAM) target.upstream = env.SWITCHYARD_UPSTREAM;
    const shards = intFromEnv(env, "SWITCHYARD_SHARDS");
    if (shards !== undefined) target.shards = shards;
    const slots = intFromEnv(env, "SWITCHYARD_SLOTS");
    if (slots !== undefined) target.slots = slots;
  }
  if (env.SWITCHYARD_API_KEYS) {
    const keys = env.SWITCHYARD_API_KEYS.split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map((pair) => {
        const eq = pair.lastIndexOf("=");
        if (eq <= 0) throw new ConfigError("environment: SWITCHYARD_API_KEYS: expected key1=tenantA,key2=tenantB");
        return { key: pair.slice(0, eq), tenant: pair.slice(eq + 1) };
      });
    // Merged by key: a key the file already lists keeps its models, limits and admin flag (the variable may
    // re-assign its tenant); other keys are added.
    const auth = ((data.auth as Record<string, unknown> | undefined) ??= {});
    const fileKeys = Array.isArray(auth.keys) ? (auth.keys as Array<Record<string, unknown>>) : [];
    const merged = [...fileKeys];
    for (const k of keys) {
      const at = merged.findIndex((f) => f?.key === k.key);
      if (at === -1) merged.push(k);
      else merged[at] = { ...merged[at], tenant: k.tenant };
    }
    auth.keys = merged;
  }
  return data;
}

/**
 * Threads per local shard: explicit, or the machine's cores less one (the
 * gateway's own event loop) split across every local shard. llama.cpp's worker
 * threads spin, so oversubscribing cores is catastrophic (measured ~60x slower).
 */
export function threadsPerShard(config: SwitchyardConfig, explicit: "auto" | number, cores = os.availableParallelism()): number {
  if (explicit !== "auto") return explicit;
  const localShards = config.models
    .filter((m) => m.upstream === undefined)
    .reduce((n, m) => n + (m.autoscale?.maxShards ?? m.shards) + adapterAliases(m).reduce((k, a) => k + a.shards, 0), 0);
  return Math.max(1, Math.floor((cores - 1) / Math.max(1, localShards)));
}
