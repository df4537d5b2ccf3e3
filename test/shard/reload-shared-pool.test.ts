/**
 * A pool shared by config generations is disposed only once no generation holding it has requests in
 * flight. On real shard processes of the tiny model: a long stream starts on model `other` under config
 * version 1; reload 1 (version 2) keeps `other`'s pool and changes `tiny` (new pool); reload 2 (version 3)
 * removes `other`. Version 2 has nothing in flight, so it retires at once — but version 1's stream still
 * runs on the pool version 2 had kept. The stream must complete normally (every token, finish_reason
 * `length`, `[DONE]`), and `other`'s shard process must end once it has.
 */
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { startGateway, type Gateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { tinyModelPath } from "../helpers/gateway.js";
import { children } from "../helpers/processes.js";

const MAX_TOKENS = 1500;

describe("reload while an older generation drains", { timeout: 300_000 }, () => {
  let gateway: Gateway;
  let dataDir: string;
  let file: string;
  const configOf = (models: Array<Record<string, unknown>>, limits: Record<string, unknown> = {}) =>
    loadConfig({
      env: {},
      raw: { server: { port: 0, host: "127.0.0.1", drainTimeoutMs: 120_000 }, dataDir, telemetry: { logLevel: "silent" }, cache: { enabled: false }, limits, models },
    });
  const model = (name: string, extra: Record<string, unknown> = {}) => ({ name, file, shards: 1, slots: 1, contextSize: 2048, threads: 1, fallback: "none", ...extra });

  beforeAll(async () => {
    file = await tinyModelPath();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-reload-shared-"));
    gateway = await startGateway({ config: configOf([model("tiny"), model("other")]), logger: createLogger({ level: "silent" }) });
  }, 180_000);
  afterAll(async () => {
    await gateway?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("a stream of version 1 on a pool version 2 kept and version 3 removed completes; the pool's shard ends after it", async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "k", maxRetries: 0 });
    const before = children();
    expect(before).toHaveLength(2);
    const otherPool = gateway.registry.resolve("other")!.pool;
    const stream = await client.completions.create({ model: "other", prompt: "a long story", max_tokens: MAX_TOKENS, temperature: 0, stream: true, stream_options: { include_usage: true } });
    const reader = stream[Symbol.asyncIterator]();
    let text = "";
    const first = await reader.next();
    expect(first.done).toBe(false);
    text += first.value.choices[0]?.text ?? "";

    // Version 2: a limit changes; both models keep their pools.
    const v2 = await gateway.reload(configOf([model("tiny"), model("other")], { maxTokensCap: 4000 }));
    expect(v2).toMatchObject({ changed: true, config: { version: 2 }, models: { started: [], kept: ["tiny", "other"], retired: [] } });
    // The stream is still being generated on `other`'s pool (the check that makes this test meaningful).
    expect(otherPool.snapshot().shards.reduce((n, s) => n + s.slotsBusy, 0)).toBe(1);
    // Version 3: `other` is removed.
    const v3 = await gateway.reload(configOf([model("tiny")], { maxTokensCap: 4000 }));
    expect(v3).toMatchObject({ changed: true, config: { version: 3 }, models: { started: [], kept: ["tiny"], retired: ["other"] } });

    let finish: string | null | undefined;
    let completionTokens: number | undefined;
    for (let r = await reader.next(); !r.done; r = await reader.next()) {
      text += r.value.choices[0]?.text ?? "";
      finish = r.value.choices[0]?.finish_reason ?? finish;
      completionTokens = r.value.usage?.completion_tokens ?? completionTokens;
    }
    expect(finish).toBe("length");
    expect(completionTokens).toBe(MAX_TOKENS);
    expect(text.length).toBeGreaterThan(0);

    // Once the stream is done, `other`'s shard process ends; `tiny`'s keeps serving.
    const otherGone = () => children().length === 1;
    for (let i = 0; i < 600 && !otherGone(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(otherGone()).toBe(true);
    expect(before).toEqual(expect.arrayContaining(children()));
    const err = (await client.completions.create({ model: "other", prompt: "x", max_tokens: 1 }).catch((e: unknown) => e)) as { status: number };
    expect(err.status).toBe(404);
  });
});
