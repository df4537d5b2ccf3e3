/**
 * Benchmark servers in processes of their own: a bench file runs itself with
 * `--role <name>`, the child prints `{"url"}` on stdout and exits when the
 * parent's pipe closes. Shared by `overhead.ts` and `scale-out.ts` (the mock
 * upstream and a gateway in front of it), so the load generator never shares
 * an event loop with what it measures.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { destination } from "pino";
import { loadConfig } from "../src/config/index.js";
import { startGateway } from "../src/server/index.js";
import { createLogger } from "../src/telemetry/logger.js";

/** The body a cache hit returns for the benchmark's request, so both servers send the same bytes. */
export const FIXED_COMPLETION = {
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 0,
  model: "tiny",
  choices: [{ index: 0, message: { role: "assistant", content: "x".repeat(120), refusal: null }, logprobs: null, finish_reason: "length" }],
  usage: { prompt_tokens: 20, completion_tokens: 32, total_tokens: 52, prompt_tokens_details: { cached_tokens: 0 } },
};

export interface RoleServer {
  url: string;
  close(): Promise<void>;
}

/**
 * In the child: prints the URL for the parent, then closes the server when the
 * parent's stdin pipe closes (the parent died or is done) or on SIGTERM.
 */
export function serveForParent(server: RoleServer, cleanup: () => Promise<void> = async () => undefined): void {
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  const stop = () =>
    void server
      .close()
      .then(cleanup)
      .finally(() => process.exit(0));
  createInterface({ input: process.stdin }).on("close", stop);
  process.once("SIGTERM", stop);
}

export interface SpawnedRole {
  url: string;
  child: ChildProcess;
  /** The child's CPU time so far (user + system, ms), read from /proc/<pid>/stat: nothing runs in the child to answer. */
  cpuMs(): number;
}

/** Clock ticks per second of /proc's utime and stime (USER_HZ; 100 on Linux unless the kernel says otherwise). */
const USER_HZ = 100;

/** utime + stime of a process in ms, from /proc/<pid>/stat (fields 14 and 15; the name in field 2 may hold spaces). */
export function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): utime is field 14 → index 11, stime → 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

/**
 * Starts `script --role <role> …extra` in a child process (with this process's
 * loader flags, e.g. tsx) and waits for its URL.
 */
export async function spawnRole(script: string, role: string, extra: readonly string[] = []): Promise<SpawnedRole> {
  const child = spawn(process.execPath, [...process.execArgv, script, "--role", role, ...extra], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} did not start within 60 s`)), 60_000);
    child.once("exit", (code) => reject(new Error(`${role} exited with ${code}`)));
    lines.on("line", (line) => {
      try {
        const msg = JSON.parse(line) as { url?: string };
        if (msg.url) {
          clearTimeout(timer);
          resolve(msg.url);
        }
      } catch {
        // Not our line.
      }
    });
  });
  const pid = child.pid!;
  return { url, child, cpuMs: () => procCpuMs(pid) };
}

/** Ends the children started by {@link spawnRole}. */
export function stopRoles(children: readonly SpawnedRole[]): void {
  for (const { child } of children) {
    child.stdin?.end();
    child.kill("SIGTERM");
  }
}

export interface MockGatewayOptions {
  /** The mock upstream's URL (without `/v1`). */
  upstream: string;
  /** Environment for `loadConfig` (e.g. `SWITCHYARD_REDIS_URL`). */
  env?: Record<string, string>;
  /** Config beside the defaults (merged over server, dataDir and the one `mock` model). */
  raw?: Record<string, unknown>;
  /** Model fields beside name and upstream. */
  model?: Record<string, unknown>;
}

/**
 * A gateway with one remote model `mock` in front of `upstream`, in a temp
 * data dir; its log lines go to /dev/null at the configured level (written,
 * so their cost is measured, but not read by the parent).
 */
export async function startMockGateway({ upstream, env = {}, raw = {}, model = {} }: MockGatewayOptions): Promise<{ server: RoleServer; cleanup: () => Promise<void> }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "switchyard-bench-"));
  const config = loadConfig({
    env,
    raw: { server: { port: 0, host: "127.0.0.1" }, dataDir, models: [{ name: "mock", upstream: `${upstream}/v1`, ...model }], ...raw },
  });
  const logger = createLogger({ level: config.telemetry.logLevel, destination: destination({ dest: "/dev/null", sync: false }) });
  const server = await startGateway({ config, logger });
  return { server, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
}
