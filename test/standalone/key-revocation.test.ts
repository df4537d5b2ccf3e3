/**
 * API-key revocation shared through a real redis-server: revoked through the
 * admin endpoint of one gateway process, or with `switchyard keys revoke`,
 * the key is refused by both replicas; restored, accepted again. Without
 * Redis the admin endpoint revokes on its own process.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream, type MockUpstream } from "../../bench/mock-upstream.js";
import { loadConfig } from "../../src/config/index.js";
import { startGateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { hasRedisServer, startRedisServer, type RedisServer } from "../helpers/redis-server.js";

const ADMIN = "sk-revoke-admin-00000";
const ALICE = "sk-revoke-alice-00000";
const BOB = "sk-revoke-bob-0000000";
const REFRESH_MS = 300;

let redis: RedisServer | undefined;
let upstream: MockUpstream | undefined;
const replicas: GatewayProcess[] = [];
const dirs: string[] = [];

function config(): Record<string, unknown> {
  return {
    telemetry: { logLevel: "warn" },
    cache: { enabled: false },
    auth: {
      keys: [
        { key: ADMIN, tenant: "ops", admin: true },
        { key: ALICE, tenant: "acme" },
        { key: BOB, tenant: "acme" },
      ],
    },
    models: [{ name: "m", upstream: `${upstream!.url}/v1`, upstreamModel: "mock" }],
    redis: { commandTimeoutMs: 800, refreshMs: REFRESH_MS },
  };
}

const models = (gw: { url: string }, key: string) => fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);

function admin(gw: { url: string }, route: string, body?: unknown, key = ADMIN): Promise<Response> {
  return fetch(`${gw.url}/v1/admin/keys${route}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Polls until `key` gets `status` from `gw` (bounded: 20 refresh periods); returns the attempts it took. */
async function until(gw: { url: string }, key: string, status: number): Promise<number> {
  for (let i = 1; i <= 40; i++) {
    if ((await models(gw, key)) === status) return i;
    await new Promise((r) => setTimeout(r, REFRESH_MS / 2));
  }
  throw new Error(`${gw.url} never answered ${status}`);
}

function cli(args: string[], file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "keys", ...args], {
      env: { ...process.env, SWITCHYARD_CONFIG: file, SWITCHYARD_REDIS_URL: redis!.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  upstream = await startMockUpstream({ ttftMs: 1, tokensPerSecond: 0, tokens: 2 });
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await upstream?.close();
  await redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!hasRedisServer)("key revocation shared by two gateway processes", () => {
  let a: GatewayProcess;
  let b: GatewayProcess;
  let file: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    const env = { SWITCHYARD_REDIS_URL: redis.url };
    [a, b] = await Promise.all([startGatewayProcess({ config: config(), env }), startGatewayProcess({ config: config(), env })]);
    replicas.push(a, b);
    const dir = mkdtempSync(path.join(os.tmpdir(), "switchyard-keys-cli-"));
    dirs.push(dir);
    file = path.join(dir, "config.yaml");
    writeFileSync(file, JSON.stringify({ ...config(), dataDir: path.join(dir, "data") }));
  }, 120_000);

  it("admin only, and a clear 400/404 for a bad reference", async () => {
    expect((await admin(a, "/revoke", { key: BOB }, ALICE)).status).toBe(403);
    const both = await admin(a, "/revoke", { key: BOB, key_id: "0123456789ab" });
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ error: { type: "invalid_request_error", param: "key_id" } });
    const malformed = await admin(a, "/revoke", { key_id: "not-an-id" });
    expect(malformed.status).toBe(400);
    const unknown = await admin(a, "/revoke", { key: "sk-never-configured" });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { param: "key" } });
    expect(await models(a, BOB)).toBe(200);
  });

  it("revoked through replica A's admin endpoint: refused by A at once and by B within the refresh period; restored on B: accepted by both", async () => {
    const list = (await (await admin(a, "")).json()) as { shared: boolean; data: Array<{ key_id: string; tenant: string; revoked: boolean }> };
    expect(list.shared).toBe(true);
    expect(JSON.stringify(list)).not.toContain(ALICE);
    const alice = list.data.find((k) => k.tenant === "acme" && !k.revoked)!;
    expect(await models(b, ALICE)).toBe(200);
    const res = await admin(a, "/revoke", { key_id: alice.key_id });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ key_id: alice.key_id, revoked: true, shared: true });
    const refused = await fetch(`${a.url}/v1/models`, { headers: { authorization: `Bearer ${ALICE}` } });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { message: "This API key has been revoked." } });
    await until(b, ALICE, 401);
    expect(await models(b, BOB)).toBe(200); // only that key
    expect((await admin(b, "/restore", { key: ALICE })).status).toBe(200);
    await until(a, ALICE, 200);
    expect(await models(b, ALICE)).toBe(200);
  });

  it("switchyard keys revoke / list / restore: every replica follows", async () => {
    const revoked = await cli(["revoke", BOB], file);
    expect(revoked.code, revoked.stderr).toBe(0);
    const out = JSON.parse(revoked.stdout) as { key_id: string; tenant: string; revoked: boolean };
    expect(out).toMatchObject({ tenant: "acme", revoked: true });
    expect(revoked.stdout).not.toContain(BOB);
    await until(a, BOB, 401);
    await until(b, BOB, 401);
    const listed = await cli(["list"], file);
    expect(JSON.parse(listed.stdout)).toMatchObject({ keys: expect.arrayContaining([{ key_id: out.key_id, tenant: "acme", admin: false, revoked: true }]) });
    const restored = await cli(["restore", out.key_id], file);
    expect(restored.code, restored.stderr).toBe(0);
    await until(a, BOB, 200);
    await until(b, BOB, 200);
  }, 240_000); // Three CLI processes: each loads tsx and the config (slow on a loaded CI machine).
});

describe("key revocation without Redis", () => {
  it("the admin endpoint revokes on this gateway (shared: false)", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-keys-local-"));
    dirs.push(dataDir);
    const raw = { ...config(), redis: {}, dataDir, server: { host: "127.0.0.1", port: 0 }, telemetry: { logLevel: "silent" } };
    const gw = await startGateway({ config: loadConfig({ env: {}, raw }), logger: createLogger({ level: "silent" }) });
    try {
      const res = await admin(gw, "/revoke", { key: ALICE });
      expect(await res.json()).toMatchObject({ revoked: true, shared: false });
      expect(await models(gw, ALICE)).toBe(401);
      expect(await models(gw, BOB)).toBe(200);
      const cliNoRedis = await new Promise<number | null>((resolve) => {
        const file = path.join(dataDir, "config.yaml");
        writeFileSync(file, JSON.stringify(raw));
        spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "keys", "revoke", ALICE], { env: { ...process.env, SWITCHYARD_CONFIG: file, SWITCHYARD_REDIS_URL: "" }, stdio: "ignore" }).on("exit", resolve);
      });
      expect(cliNoRedis).toBe(1);
    } finally {
      await gw.close();
    }
  }, 180_000);
});
