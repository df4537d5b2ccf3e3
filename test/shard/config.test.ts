/** Config loading, env overrides, clear errors; a model that cannot load names itself. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, threadsPerShard } from "../../src/config/index.js";
import { startGateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";

const base = { models: [{ name: "m", aliases: ["default"], file: "a.gguf" }, { name: "other", file: "b.gguf" }] };

describe("loadConfig", () => {
  it("fills defaults and applies the documented environment overrides to the default model", () => {
    const config = loadConfig({
      raw: base,
      env: { PORT: "9000", HOST: "0.0.0.0", SWITCHYARD_MODEL: "/x.gguf", SWITCHYARD_SHARDS: "3", SWITCHYARD_SLOTS: "5", SWITCHYARD_DATA_DIR: "/d", SWITCHYARD_API_KEYS: "k1-aaaaaaaa=alpha,k2-bbbbbbbb=beta" },
    });
    expect(config.server).toMatchObject({ port: 9000, host: "0.0.0.0" });
    expect(config.models[0]).toMatchObject({ file: "/x.gguf", shards: 3, slots: 5 });
    expect(config.models[1]).toMatchObject({ file: "b.gguf", shards: 1, slots: 4 });
    expect(config.dataDir).toBe("/d");
    expect(config.auth.keys.map((k) => k.tenant)).toEqual(["alpha", "beta"]);
    expect(config.queue.maxDepth).toBe(64);
  });

  it("SWITCHYARD_UPSTREAM turns the default model into a remote shard", () => {
    const config = loadConfig({ raw: base, env: { SWITCHYARD_UPSTREAM: "http://127.0.0.1:9999/v1" } });
    expect(config.models[0]!.upstream).toBe("http://127.0.0.1:9999/v1");
  });

  it.each([
    [{ models: [{ name: "m", file: "x", slots: "four" }] }, "models[0].slots"],
    [{ models: [] }, "models"],
    [{ models: [{ name: "m" }] }, "models[0]"],
    [{ models: [{ name: "m", file: "x" }], queue: { maxDepth: -1 } }, "queue.maxDepth"],
    [{ models: [{ name: "m", file: "x" }, { name: "m", file: "y" }] }, "used twice"],
    [{ models: [{ name: "m", file: "x" }], bots: [{ name: "b", model: "nope", collection: "c" }] }, "bots[0].model"],
    [{ models: [{ name: "m", file: "x" }], auth: { keys: [{ key: "k-12345678", tenant: "a' OR 1=1" }] } }, "auth.keys[0].tenant"],
  ])("rejects %j naming %s", (raw, key) => {
    expect(() => loadConfig({ raw, env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ raw, env: {} })).toThrow(key);
  });

  it("rejects a non-integer env override by name", () => {
    expect(() => loadConfig({ raw: base, env: { SWITCHYARD_SLOTS: "many" } })).toThrow(/SWITCHYARD_SLOTS/);
  });

  it("budgets llama.cpp threads across shards, leaving a core for the gateway", () => {
    const config = loadConfig({ raw: { models: [{ name: "a", file: "x", shards: 2 }, { name: "b", file: "y" }] }, env: {} });
    expect(threadsPerShard(config, "auto", 16)).toBe(5);
    expect(threadsPerShard(config, "auto", 2)).toBe(1);
    expect(threadsPerShard(config, 7, 2)).toBe(7);
  });

  it("the CLI exits non-zero with a message naming the bad key", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "switchyard-config-"));
    const file = path.join(dir, "bad.yaml");
    writeFileSync(file, "models:\n  - name: m\n    file: x.gguf\n    slots: lots\n");
    const res = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "serve"], { env: { ...process.env, SWITCHYARD_CONFIG: file }, encoding: "utf8" });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("models[0].slots");
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("a model that cannot load", () => {
  it("fails startup with a message naming the model and the file", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "switchyard-badmodel-"));
    const file = path.join(dir, "broken.gguf");
    writeFileSync(file, "this is not a GGUF file");
    const config = loadConfig({ env: {}, raw: { server: { port: 0 }, dataDir: dir, models: [{ name: "broken-model", file, fallback: "none", threads: 1 }] } });
    const err = (await startGateway({ config, logger: createLogger({ level: "silent" }) }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain("broken-model");
    expect(err.message).toContain(file);
  });

  it("a missing file without fallback is an error naming the file", async () => {
    const config = loadConfig({ env: {}, raw: { server: { port: 0 }, models: [{ name: "gone", file: "/nonexistent/model.gguf", fallback: "none" }] } });
    await expect(startGateway({ config, logger: createLogger({ level: "silent" }) })).rejects.toThrow("/nonexistent/model.gguf");
  });
});
