/**
 * A gateway whose port (or metrics port) is taken fails to start with a
 * rejection, and stops the shard processes it had already started, instead
 * of an uncaught exception that leaves them running.
 */
import { createServer, type AddressInfo, type Server } from "node:net";
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { startGateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { tinyModelPath } from "../helpers/gateway.js";
import { children } from "../helpers/processes.js";


async function settledChildren(expected: number[], timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let now = children();
  while (now.some((pid) => !expected.includes(pid)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    now = children();
  }
  return now;
}

describe.skipIf(process.platform !== "linux")("gateway on a taken port", () => {
  let blocker: Server;
  let port: number;
  let dataDir: string;
  let file: string;

  beforeAll(async () => {
    file = await tinyModelPath();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-port-taken-"));
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    port = (blocker.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker?.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const config = (server: { port: number; metricsPort: number }) =>
    loadConfig({
      env: {},
      raw: {
        server: { port: server.port, host: "127.0.0.1" },
        dataDir,
        telemetry: { logLevel: "silent", metricsPort: server.metricsPort },
        models: [{ name: "tiny", aliases: ["default"], file, shards: 1, slots: 1, contextSize: 256, threads: 1, fallbackToTiny: false }],
      },
    });

  it("rejects with EADDRINUSE and stops its shards when the API port is taken", async () => {
    const before = children();
    await expect(startGateway({ config: config({ port, metricsPort: 0 }), logger: createLogger({ level: "silent" }) })).rejects.toMatchObject({ code: "EADDRINUSE" });
    expect(await settledChildren(before)).toEqual(before);
  });

  it("rejects and stops its shards when the metrics port is taken", async () => {
    const before = children();
    await expect(startGateway({ config: config({ port: 0, metricsPort: port }), logger: createLogger({ level: "silent" }) })).rejects.toMatchObject({ code: "EADDRINUSE" });
    expect(await settledChildren(before)).toEqual(before);
  });
});
