/**
 * A shard that dies is logged with the last lines it wrote to stderr: the cause
 * (a native abort, an uncaught exception) is usually there, not in the exit code.
 */
import { afterAll, describe, expect, it } from "vitest";
import path from "node:path";
import { LocalBackend } from "../../src/router/index.js";
import { tinyModelPath } from "../helpers/gateway.js";

interface LogRecord {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

async function until(what: string, done: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("shard crash log", () => {
  const logs: LogRecord[] = [];
  let backend: LocalBackend | undefined;
  afterAll(async () => backend?.dispose());

  it("carries the shard's stderr tail", async () => {
    const modelPath = path.resolve(await tinyModelPath());
    backend = new LocalBackend(
      { shardId: "tiny#0", model: "tiny", modelPath, contextSize: 256, slots: 1, threads: 1, gpuLayers: 0, gpu: false, chatWrapper: "auto" },
      { restartBackoffMs: 60_000, onLog: (level, msg, fields = {}) => logs.push({ level, msg, fields }) },
    );
    await backend.start();
    const pid = backend.pid!;
    // SIGUSR1 makes Node open its inspector, which it announces on stderr ("Debugger listening on ws://…",
    // or that the port is taken): a real line written by the shard process itself.
    process.kill(pid, "SIGUSR1");
    await new Promise((r) => setTimeout(r, 500));
    process.kill(pid, "SIGKILL");
    await until("the crash record", () => logs.some((l) => l.msg === "shard crashed; restarting"));
    const crash = logs.find((l) => l.msg === "shard crashed; restarting")!;
    expect(crash.level).toBe("error");
    expect(crash.fields).toMatchObject({ shard: "tiny#0", signal: "SIGKILL" });
    expect(String(crash.fields["stderr"])).toMatch(/inspector|Debugger/i);
  });
});
