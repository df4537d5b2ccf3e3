/**
 * A gateway in this process on the generated tiny model, for runs without
 * --base-url: the real HTTP, router and llama.cpp shard path, meaningless text.
 * Good for rehearsing scenarios and catching contract bugs; its numbers say
 * nothing about a real model (see loadtest/README.md).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config/index.js";
import { tinyModelDir } from "../../src/engine/model-files.js";
import { ensureTinyModel } from "../../src/engine/tiny-model/index.js";
import { startGateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import type { LocalGatewaySpec } from "../scenarios/types.js";

export interface LocalGateway {
  url: string;
  /** The knobs it was started with, defaults filled in. */
  spec: FullLocalGatewaySpec;
  /** Shards in the model's pool now (draining ones excluded). */
  shards(): number;
  close(): Promise<void>;
}

/** Every knob of {@link LocalGatewaySpec}, defaults filled in. */
export type FullLocalGatewaySpec = { [K in keyof LocalGatewaySpec]-?: NonNullable<LocalGatewaySpec[K]> };

export const LOCAL_DEFAULTS: FullLocalGatewaySpec = { shards: 1, maxShards: 0, slots: 4, contextSize: 1024, queueMaxDepth: 64 };

/** The autoscaler's pace for load tests: quicker than the production defaults so a short run shows both directions. */
const LOADTEST_AUTOSCALE = { queueDepth: 2, upAfterMs: 2_000, idleMs: 8_000, intervalMs: 250 };

/**
 * @param dataDir where the tiny model is generated once and reused (default ./data, like `npm start`)
 * @example
 * ```ts
 * const gw = await startLocalGateway({ slots: 2, queueMaxDepth: 8 });
 * // ... load gw.url ...
 * await gw.close();
 * ```
 */
export async function startLocalGateway(spec: LocalGatewaySpec = {}, dataDir = path.resolve("data")): Promise<LocalGateway> {
  // Knobs given as undefined keep their defaults.
  const full: FullLocalGatewaySpec = { ...LOCAL_DEFAULTS, ...Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) };
  const file = await ensureTinyModel(tinyModelDir(dataDir));
  // Its own data dir: a load test must not write LanceDB tables or cache files into the real one.
  const scratch = await mkdtemp(path.join(os.tmpdir(), "switchyard-loadtest-"));
  const config = loadConfig({
    env: {},
    raw: {
      server: { port: 0, host: "127.0.0.1" },
      dataDir: scratch,
      telemetry: { logLevel: "fatal" },
      queue: { maxDepth: full.queueMaxDepth },
      models: [
        {
          name: "tiny",
          aliases: ["default"],
          file,
          shards: full.shards,
          ...(full.maxShards > full.shards ? { autoscale: { maxShards: full.maxShards, ...LOADTEST_AUTOSCALE } } : {}),
          slots: full.slots,
          contextSize: full.contextSize,
          fallback: "none",
        },
      ],
    },
  });
  // Fatal only: the runner records every failure itself, and log lines would bury its progress output.
  const gateway = await startGateway({ config, logger: createLogger({ level: "fatal" }) });
  return {
    url: gateway.url,
    spec: full,
    shards: () => gateway.registry.snapshot()[0]?.shards.filter((s) => s.draining !== true).length ?? 0,
    close: async () => {
      await gateway.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
