import { describe, expect, it } from "vitest";
import { configSchema, effectivePiiPolicy, effectiveSemanticPolicy } from "../../src/config/index.js";

const models = [{ name: "default", file: "tiny" }];

describe("per-key and per-bot policies", () => {
  it("PII: the strictest level wins, entity lists of the levels that are on are joined", () => {
    const config = configSchema.parse({
      models,
      bots: [{ name: "support-bot", model: "default", collection: "kb", guardrails: { pii: { mode: "redact", entities: ["phone"], restore: false } } }],
      auth: {
        keys: [
          { key: "key-aaaaaaaa", tenant: "a", guardrails: { pii: { mode: "redact", entities: ["email"] } } },
          { key: "key-bbbbbbbb", tenant: "b", guardrails: { pii: { mode: "block" } } },
          { key: "key-cccccccc", tenant: "c", guardrails: { pii: { mode: "off" } } },
        ],
      },
    });
    const [a, b, c] = config.auth.keys;
    const bot = config.bots[0];
    expect(effectivePiiPolicy(config)).toEqual({ mode: "off", entities: [], restore: true });
    expect(effectivePiiPolicy(config, a)).toEqual({ mode: "redact", entities: ["email"], restore: true });
    expect(effectivePiiPolicy(config, a, bot)).toEqual({ mode: "redact", entities: ["email", "phone"], restore: false });
    expect(effectivePiiPolicy(config, b).mode).toBe("block");
    expect(effectivePiiPolicy(config, b).entities).toEqual(["email", "phone", "credit_card", "iban", "ssn", "ip"]);
    // A key cannot switch off what the bot requires.
    expect(effectivePiiPolicy(config, c, bot)).toEqual({ mode: "redact", entities: ["phone"], restore: false });
  });

  it("PII: a server-wide redact cannot be loosened by a key", () => {
    const config = configSchema.parse({
      models,
      guardrails: { pii: { mode: "redact", entities: ["ssn"] } },
      auth: { keys: [{ key: "key-aaaaaaaa", tenant: "a", guardrails: { pii: { mode: "off" } } }] },
    });
    expect(effectivePiiPolicy(config, config.auth.keys[0])).toEqual({ mode: "redact", entities: ["ssn"], restore: true });
  });

  it("semantic cache: bot over key over server, never with the exact cache disabled", () => {
    const config = configSchema.parse({
      models,
      bots: [{ name: "support-bot", model: "default", collection: "kb", cache: { semantic: { threshold: 0.9 } } }],
      auth: { keys: [{ key: "key-aaaaaaaa", tenant: "a", cache: { semantic: { enabled: true, allowSampled: true } } }] },
    });
    expect(effectiveSemanticPolicy(config).enabled).toBe(false);
    expect(effectiveSemanticPolicy(config, config.auth.keys[0], config.bots[0])).toEqual({ enabled: true, threshold: 0.9, ttlMs: 600_000, allowSampled: true });
    const off = configSchema.parse({ ...config, cache: { ...config.cache, enabled: false } });
    expect(effectiveSemanticPolicy(off, off.auth.keys[0]).enabled).toBe(false);
  });

  it("rejects unknown entity types and misspelt keys with the path named", () => {
    const bad = configSchema.safeParse({ models, auth: { keys: [{ key: "key-aaaaaaaa", tenant: "a", guardrails: { pii: { entities: ["passport"] } } }] } });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues[0]?.path)).toContain("entities");
    expect(configSchema.safeParse({ models, bots: [{ name: "b", model: "default", collection: "kb", guardrails: { pii: { mdoe: "redact" } } }] }).success).toBe(false);
  });
});
