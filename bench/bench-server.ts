/**
 * A server for benchmarks, run as its own process so the load generator does
 * not share its event loop: `bare` = a bare Hono app answering a fixed chat
 * completion; `gateway` = the real gateway on the tiny model. Prints its URL.
 */
import os from "node:os";
import path from "node:path";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { loadConfig } from "../src/config/index.js";
import { ensureTinyModel } from "../src/engine/tiny-model/index.js";
import { startGateway } from "../src/server/index.js";
import { createLogger } from "../src/telemetry/logger.js";
import { FIXED_COMPLETION } from "./bench-roles.js";


async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode === "bare") {
    const app = new Hono();
    app.post("/v1/chat/completions", async (c) => {
      await c.req.json();
      return c.json(FIXED_COMPLETION);
    });
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => console.log(`http://127.0.0.1:${info.port}`));
    process.on("SIGTERM", () => server.close(() => process.exit(0)));
    return;
  }
  const file = await ensureTinyModel(path.join(os.tmpdir(), "switchyard-bench-models"));
  const config = loadConfig({
    env: {},
    raw: {
      server: { port: 0 },
      dataDir: path.join(os.tmpdir(), "switchyard-bench"),
      telemetry: { logLevel: "silent" },
      models: [{ name: "tiny", file, slots: 2, contextSize: 512, fallback: "none" }],
    },
  });
  const gw = await startGateway({ config, logger: createLogger({ level: "silent" }) });
  console.log(gw.url);
  process.on("SIGTERM", () => void gw.close().then(() => process.exit(0)));
}

await main();
