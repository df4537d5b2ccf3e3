/**
 * Who may read `/metrics` on a real gateway: with API keys configured, an
 * admin key or `telemetry.metricsKey` (a plain tenant key is refused, as on
 * `/v1/status`); with `telemetry.metricsPort`, only on that port. The startup
 * log says which.
 */
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { Writable } from "node:stream";
import { mkdtempSync, rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { startGateway, type Gateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { tinyModelPath } from "../helpers/gateway.js";

const ADMIN = "sk-metrics-admin-0000000001";
const TENANT = "sk-metrics-tenant-000000002";
const METRICS_KEY = "metrics-key-0000000003";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real gateway with `raw` merged over a one-model config; its log lines are captured. */
async function start(raw: Record<string, unknown>): Promise<{ gateway: Gateway; logs: Array<Record<string, unknown>> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-metrics-access-"));
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = loadConfig({
    env: {},
    raw: {
      server: { port: 0, host: "127.0.0.1" },
      dataDir,
      models: [{ name: "tiny", file: await tinyModelPath(), shards: 1, slots: 1, contextSize: 256, threads: 1, fallback: "none" }],
      ...raw,
    },
  });
  // /metrics needs no ready shard: do not wait for the model to load.
  const gateway = await startGateway({ config, logger: createLogger({ level: "info", destination }), waitReady: false });
  cleanups.push(async () => {
    await gateway.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { gateway, logs };
}

const get = (url: string, key?: string) => fetch(url, key ? { headers: { authorization: `Bearer ${key}` } } : {});
const messages = (logs: Array<Record<string, unknown>>) => logs.map((l) => String(l.msg));

/** A port free right now (the metrics listener needs a fixed one). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("/metrics access", () => {
  it("with API keys: an admin key or the metrics key, never a tenant key or none; the startup log says so", async () => {
    const { gateway, logs } = await start({
      auth: { keys: [{ key: ADMIN, tenant: "ops", admin: true }, { key: TENANT, tenant: "acme" }] },
      telemetry: { metricsKey: METRICS_KEY },
    });
    const url = `${gateway.url}/metrics`;
    for (const key of [undefined, TENANT, "sk-not-a-key-000000000"]) {
      const res = await get(url, key);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe("authentication_error");
    }
    for (const key of [ADMIN, METRICS_KEY]) {
      const res = await get(url, key);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("switchyard_");
    }
    expect(messages(logs)).toContain("/metrics requires an admin API key or telemetry.metricsKey (Authorization: Bearer)");
  });

  it("with API keys and no metrics key: admin keys only", async () => {
    const { gateway } = await start({ auth: { keys: [{ key: ADMIN, tenant: "ops", admin: true }, { key: TENANT, tenant: "acme" }] } });
    expect((await get(`${gateway.url}/metrics`)).status).toBe(401);
    expect((await get(`${gateway.url}/metrics`, TENANT)).status).toBe(401);
    expect((await get(`${gateway.url}/metrics`, ADMIN)).status).toBe(200);
  });

  it("with telemetry.metricsPort: served there only, not on the API port", async () => {
    const port = await freePort();
    const { gateway, logs } = await start({ auth: { keys: [{ key: ADMIN, tenant: "ops", admin: true }] }, telemetry: { metricsPort: port } });
    expect((await get(`${gateway.url}/metrics`, ADMIN)).status).toBe(404);
    expect(gateway.metricsUrl).toBe(`http://127.0.0.1:${port}`);
    expect((await get(`${gateway.metricsUrl}/metrics`)).status).toBe(200);
    expect(messages(logs).some((m) => m.startsWith(`/metrics on its own port ${port} only`))).toBe(true);
  });

  it("without keys: open, and the log says so", async () => {
    const { gateway, logs } = await start({});
    expect((await get(`${gateway.url}/metrics`)).status).toBe(200);
    expect(messages(logs)).toContain("/metrics is open (no API keys configured)");
  });
});
