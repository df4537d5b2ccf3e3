/**
 * A real `redis-server` (Debian's package; `.ci/run` installs it) on a free
 * loopback port with its own temp dir, no persistence, owned by the test:
 * `stop()` ends it, `kill()` simulates a crash (SIGKILL), `restart()` brings
 * a fresh empty one back on the same port.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface RedisServer {
  url: string;
  port: number;
  /** SIGKILL: the connection drops as in a crash. */
  kill(): Promise<void>;
  /** Starts an empty server on the same port again (after `kill`). */
  restart(): Promise<void>;
  /** Ends the server and removes its dir. Idempotent. */
  stop(): Promise<void>;
}

/** True when the `redis-server` binary is installed. */
export const hasRedisServer = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function launch(port: number, dir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "notice"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not start: ${out}`));
    }, 10_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out}`));
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
 * const redis = await startRedisServer();
 * // ... config { redis: { url: redis.url } }
 * await redis.stop();
 * ```
 */
export async function startRedisServer(): Promise<RedisServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "switchyard-redis-"));
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, dir);
    } catch (err) {
      if (attempt === 4) throw err;
    }
  }
  let current = child;
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      if (!current) return;
      const c = current;
      current = undefined;
      c.kill("SIGKILL");
      await exited(c);
    },
    async restart() {
      if (current || stopped) return;
      current = await launch(port, dir);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (current) {
        const c = current;
        current = undefined;
        c.kill("SIGTERM");
        await exited(c);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
