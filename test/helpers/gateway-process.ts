/**
 * A real gateway in its own process (`src/cli.ts serve` under tsx), for
 * tests that need replicas which share nothing but Redis and the network.
 * The config is written to a temp file (JSON is YAML); the port is free and
 * ephemeral; `stop()` sends SIGTERM (graceful drain), `kill()` SIGKILL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface GatewayProcess {
  url: string;
  pid: number;
  /** What the process wrote to stderr so far (its warnings and errors). */
  stderr(): string;
  /** Settles when the process exits: its exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, as in a crash. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface GatewayProcessOptions {
  /** The config (merged over nothing: name everything the test needs). `server.port` is set here. */
  config: Record<string, unknown>;
  /** Extra environment (e.g. `SWITCHYARD_REDIS_URL`). */
  env?: Record<string, string>;
  /** Modules the process imports before the CLI (`--import`), e.g. a test resolver. */
  imports?: string[];
  /** How long to wait for /readyz. Default 60 s. */
  readyTimeoutMs?: number;
}

export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * @example
 * ```ts
 * const gw = await startGatewayProcess({ config: { models: [...] }, env: { SWITCHYARD_REDIS_URL: redis.url } });
 * await fetch(`${gw.url}/v1/models`);
 * await gw.stop();
 * ```
 */
export async function startGatewayProcess({ config, env = {}, imports = [], readyTimeoutMs = 60_000 }: GatewayProcessOptions): Promise<GatewayProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "switchyard-gwproc-"));
  const port = await freePort();
  const server = { ...(config.server as Record<string, unknown> | undefined), host: "127.0.0.1", port };
  const file = path.join(dir, "config.yaml");
  writeFileSync(file, JSON.stringify({ dataDir: path.join(dir, "data"), ...config, server }));
  const child = spawn(process.execPath, ["--import", "tsx", ...imports.flatMap((m) => ["--import", m]), "src/cli.ts", "serve"], {
    env: { ...process.env, SWITCHYARD_CONFIG: file, SWITCHYARD_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited(child);
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`gateway process exited with ${child.exitCode}: ${err}`);
    }
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`gateway process did not become ready: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    exited: exit,
    stderr: () => err,
    async kill() {
      child.kill("SIGKILL");
      await exited(child);
    },
    stop,
  };
}
