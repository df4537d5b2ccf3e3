/** Starts a real gateway (real shard processes, real socket) on the generated tiny model. */
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import OpenAI from "openai";
import { loadConfig } from "../../src/config/index.js";
import { startGateway, type Gateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { ensureTinyModel } from "../../src/engine/tiny-model/index.js";

/** Generated once per machine; every suite shares the file. */
export const TINY_DIR = path.join(os.tmpdir(), "switchyard-test-models");

export function tinyModelPath(): Promise<string> {
  return ensureTinyModel(TINY_DIR);
}

export interface TestGateway extends AsyncDisposable {
  gateway: Gateway;
  url: string;
  client: OpenAI;
  dataDir: string;
  /** Closes the gateway (its shards) and removes the data dir; `await using t = await startTestGateway()` calls it. */
  close(): Promise<void>;
}

/** `raw` is merged over a one-model config serving the tiny model as `tiny` (alias `default`). */
export async function startTestGateway(raw: Record<string, unknown> = {}, model: Record<string, unknown> = {}): Promise<TestGateway> {
  const file = await tinyModelPath();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-test-"));
  const config = loadConfig({
    env: {},
    raw: {
      server: { port: 0, host: "127.0.0.1" },
      dataDir,
      telemetry: { logLevel: "silent" },
      models: [{ name: "tiny", aliases: ["default"], file, shards: 1, slots: 2, contextSize: 512, threads: 1, fallback: "none", ...model }],
      ...raw,
    },
  });
  const gateway = await startGateway({ config, logger: createLogger({ level: "silent" }) });
  const close = async () => {
    await gateway.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "test-key", maxRetries: 0 });
  return {
    gateway,
    url: gateway.url,
    client,
    dataDir,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Reads an SSE response into its `data:` payloads (including `[DONE]`). */
export async function readSse(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((e) => e.trim())
    .map((e) => {
      if (!e.startsWith("data: ")) throw new Error(`unexpected SSE line: ${e}`);
      return e.slice(6);
    });
}
