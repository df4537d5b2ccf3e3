/**
 * Config guarantees of issue #14: SWITCHYARD_API_KEYS merges by key (items 12), a mistyped model path fails
 * startup and the tiny fallback is opt-in (item 6), and the health deadlines have documented defaults.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { resolveModel } from "../../src/engine/model-files.js";
import { ModelRegistry } from "../../src/router/index.js";
import { createLogger } from "../../src/telemetry/logger.js";

const fileKeys = {
  models: [{ name: "m", file: "tiny" }],
  auth: {
    keys: [
      { key: "admin-key-123", tenant: "ops", admin: true, requestsPerMinute: 5, models: ["m"] },
      { key: "other-key-456", tenant: "acme", tokensPerMinute: 1000 },
    ],
  },
};

describe("SWITCHYARD_API_KEYS", () => {
  it("merges with the file's keys by key: flags and limits are kept, new keys are added", () => {
    const config = loadConfig({ raw: fileKeys, env: { SWITCHYARD_API_KEYS: "admin-key-123=ops2,new-key-7890=beta" } });
    expect(config.auth.keys).toEqual([
      { key: "admin-key-123", tenant: "ops2", admin: true, requestsPerMinute: 5, models: ["m"] },
      { key: "other-key-456", tenant: "acme", tokensPerMinute: 1000, admin: false },
      { key: "new-key-7890", tenant: "beta", admin: false },
    ]);
  });

  it("alone (no keys in the file) configures exactly its keys", () => {
    const config = loadConfig({ raw: { models: [{ name: "m", file: "tiny" }] }, env: { SWITCHYARD_API_KEYS: "k1-aaaaaaaa=alpha" } });
    expect(config.auth.keys).toEqual([{ key: "k1-aaaaaaaa", tenant: "alpha", admin: false }]);
  });
});

describe("model path fallback", () => {
  const quiet = createLogger({ level: "silent" });

  it("a local path that does not exist fails startup naming the model and the path, even with fallback: tiny", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-fallback-"));
    try {
      const config = loadConfig({ env: {}, raw: { dataDir, models: [{ name: "my-model", file: "./modles/typo.gguf", fallback: "tiny" }] } });
      const err = (await ModelRegistry.create({ config, logger: quiet }).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toContain("my-model");
      expect(err.message).toContain("./modles/typo.gguf");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("an hf: model that cannot be fetched fails without fallback and names the opt-in", async () => {
    // An unreachable model directory and a bogus repository: resolving fails without touching a shard.
    const err = (await resolveModel("hf:switchyard-nonexistent/none-GGUF:Q0", {
      modelsDir: "/nonexistent-switchyard-models",
      dataDir: os.tmpdir(),
      fallbackToTiny: false,
      model: "hf-model",
      warn: () => undefined,
    }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain("hf-model");
    expect(err.message).toContain("fallback: tiny");
  });

  it("is off by default, and the shipped default config opts in", () => {
    expect(loadConfig({ env: {}, raw: { models: [{ name: "m", file: "x.gguf" }] } }).models[0]!.fallback).toBe("none");
    const shipped = loadConfig({ env: {}, path: "config/default.yaml" });
    expect(shipped.models[0]!.fallback).toBe("tiny");
    // A model named in the environment must load: the default config's fallback does not carry over.
    expect(loadConfig({ env: { SWITCHYARD_MODEL: "hf:x/y-GGUF:Q4" }, path: "config/default.yaml" }).models[0]!.fallback).toBe("none");
  });

  it("health deadlines have defaults", () => {
    expect(loadConfig({ env: {}, raw: { models: [{ name: "m", file: "x.gguf" }] } }).health).toEqual({
      heartbeatIntervalMs: 1000,
      heartbeatTimeoutMs: 5000,
      abortConfirmMs: 5000,
      callTimeoutMs: 30000,
      unhealthyGraceMs: 10000,
    });
  });
});
