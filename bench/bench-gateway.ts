/** A real gateway serving one benchmark model as `bench`, for the duration of `fn`. */
import os from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { loadConfig } from "../src/config/index.js";
import { startGateway } from "../src/server/index.js";
import { createLogger } from "../src/telemetry/logger.js";

/**
 * @example
 * ```ts
 * await withBenchGateway({ file: modelPath, shards: 1, slots: 8, contextSize: 2048 }, (client) => run(client));
 * ```
 */
export async function withBenchGateway<T>(model: Record<string, unknown>, fn: (client: OpenAI) => Promise<T>): Promise<T> {
  const config = loadConfig({
    env: {},
    raw: {
      server: { port: 0 },
      dataDir: path.join(os.tmpdir(), "switchyard-bench"),
      cache: { enabled: false },
      models: [{ name: "bench", fallback: "none", ...model }],
    },
  });
  const gw = await startGateway({ config, logger: createLogger({ level: "silent" }) });
  try {
    return await fn(new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "bench", maxRetries: 0 }));
  } finally {
    await gw.close();
  }
}
