/** Adapter and alias configuration: shorthand forms, defaults and key-naming errors. */
import { describe, expect, it } from "vitest";
import { adapterAliases, ConfigError, loadConfig, modelNames, plainAliases, threadsPerShard } from "../../src/config/index.js";

const model = (extra: Record<string, unknown>) => ({ models: [{ name: "m", file: "a.gguf", adapters: [{ name: "support", file: "s.gguf" }, { name: "tone", file: "t.gguf", scale: 0.5 }], ...extra }] });

describe("adapter aliases in config", () => {
  it("accepts names, name@scale and objects; scales default to the adapter's", () => {
    const config = loadConfig({
      env: {},
      raw: model({ aliases: ["default", { name: "ft", adapters: ["support", "tone"] }, { name: "ft2", adapters: ["support@0.25", { name: "tone", scale: 2 }], shards: 2 }] }),
    });
    const m = config.models[0]!;
    expect(modelNames(m)).toEqual(["m", "default", "ft", "ft2"]);
    expect(plainAliases(m)).toEqual(["default"]);
    expect(adapterAliases(m)).toEqual([
      { name: "ft", adapters: [{ name: "support" }, { name: "tone" }], shards: 1 },
      { name: "ft2", adapters: [{ name: "support", scale: 0.25 }, { name: "tone", scale: 2 }], shards: 2 },
    ]);
    expect(m.adapters[0]!.scale).toBe(1);
    // Adapter aliases' shards count in the thread budget.
    expect(threadsPerShard(config, "auto", 9)).toBe(2);
  });

  it.each([
    [model({ aliases: [{ name: "ft", adapters: ["nope"] }] }), "models[0].aliases[0].adapters[0]: no adapter named 'nope'"],
    [model({ aliases: [{ name: "ft", adapters: [] }] }), "models[0].aliases[0].adapters"],
    [model({ aliases: [{ name: "ft", adapters: ["support@x"] }] }), "models[0].aliases[0].adapters[0]"],
    [model({ aliases: [{ name: "m", adapters: ["support"] }] }), "'m' is used twice"],
    [{ models: [{ name: "r", upstream: "http://127.0.0.1:1/v1", adapters: [{ name: "a", file: "a.gguf" }] }] }, "models[0].adapters"],
    [model({ adapters: [{ name: "bad name", file: "x" }] }), "models[0].adapters[0].name"],
  ])("rejects %j naming the key", (raw, message) => {
    expect(() => loadConfig({ raw, env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ raw, env: {} })).toThrow(message);
  });

  it("a bot may answer through an adapter alias", () => {
    const config = loadConfig({ env: {}, raw: { ...model({ aliases: [{ name: "ft", adapters: ["support"] }] }), bots: [{ name: "helper", model: "ft", collection: "c" }] } });
    expect(config.bots[0]!.model).toBe("ft");
  });
});
