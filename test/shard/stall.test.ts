/**
 * A stalled shard never hangs the gateway (issue #14, items 1-3), on real shard
 * processes: SIGSTOP/SIGCONT of the shard, parent-side deadlines, heartbeat →
 * unhealthy → out of rotation → killed and restarted; client aborts at random
 * moments never open the breaker; a breaker timeout is a 504 and its slot is not
 * handed out again until the shard confirms the abort.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readSse, startTestGateway, type TestGateway } from "../helpers/gateway.js";
import type { LocalBackend } from "../../src/router/index.js";
import { seededRandom } from "../../src/util/seeded-random.js";

const user = (content: string) => [{ role: "user" as const, content }];

function post(t: TestGateway, body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", temperature: 0, ...body }),
    ...(signal ? { signal } : {}),
  });
}

function backendOf(t: TestGateway): LocalBackend {
  return t.gateway.registry.models[0]!.pool.backends[0] as LocalBackend;
}

async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends SIGCONT to every process this suite stopped, so nothing is left frozen. */
const stopped = new Set<number>();
function stop(pid: number): void {
  process.kill(pid, "SIGSTOP");
  stopped.add(pid);
}
function resume(pid: number): void {
  stopped.delete(pid);
  try {
    process.kill(pid, "SIGCONT");
  } catch {
    // Already gone (the supervisor killed it).
  }
}
afterEach(() => {
  for (const pid of [...stopped]) resume(pid);
});

/** Opens a long stream and resolves with its response once the first bytes arrived (its slot is decoding). */
async function openLongStream(t: TestGateway, content: string, timeoutMs: number): Promise<{ rest: Promise<string[]> }> {
  const res = await post(t, { messages: user(content), max_tokens: 2000, stream: true, timeout: timeoutMs });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const first = await reader.read();
  const decoder = new TextDecoder();
  let text = decoder.decode(first.value);
  const rest = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    return readSse(new Response(text));
  })();
  return { rest };
}

const HEALTH = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 800, abortConfirmMs: 800, unhealthyGraceMs: 2500 };

describe("a shard stopped with SIGSTOP while 4 streams run", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ cache: { enabled: false }, health: HEALTH }, { slots: 4, contextSize: 2048 });
  });
  afterAll(async () => t?.close());

  it("ends every request by its own deadline, reports unhealthy, then the supervisor restarts the shard", { timeout: 60_000 }, async () => {
    const backend = backendOf(t);
    const pid = backend.pid!;
    const streams = await Promise.all(["one", "two", "three", "four"].map((w) => openLongStream(t, `tell a long story ${w}`, 2000)));
    stop(pid);
    const stoppedAt = Date.now();

    // Every slot is busy, so this request first counts its tokens in the stopped shard, then queues:
    // its 1.5 s deadline must still answer it, as a 504 in the OpenAI envelope.
    const queued = await post(t, { messages: user("hello"), max_tokens: 4, timeout: 1500 });
    expect([503, 504]).toContain(queued.status);
    const body = (await queued.json()) as { error: { type: string; code: string } };
    expect(body.error.code).toMatch(/timeout|service_unavailable|server_is_overloaded/);

    // The running streams end with an error event, then [DONE] (never a silent cut).
    for (const s of streams) {
      const events = await s.rest;
      expect(events.at(-1)).toBe("[DONE]");
      const error = JSON.parse(events.at(-2)!) as { error?: { code: string } };
      expect(error.error).toBeDefined();
    }
    expect(Date.now() - stoppedAt).toBeLessThan(30_000); // bounded, not "when the shard resumes"

    // Missed heartbeats: out of rotation, /readyz 503, metrics say so.
    await waitFor("unhealthy", () => backend.state === "unhealthy" || backend.pid !== pid, 10_000);
    if (backend.pid === pid) {
      const ready = await fetch(`${t.url}/readyz`);
      expect(ready.status).toBe(503);
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(/switchyard_shard_unhealthy\{[^}]*shard="tiny#0"[^}]*\} 1/);
    }

    // The supervisor kills the stopped process after the grace period and starts a fresh one.
    await waitFor("a restarted shard", () => backend.state === "ready" && backend.pid !== pid, 30_000);
    stopped.delete(pid);
    expect(backend.restarts).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    const after = await post(t, { messages: user("after"), max_tokens: 4 });
    expect(after.status).toBe(200);
  });

  it("a shard resumed with SIGCONT within the grace period returns to rotation without a restart", { timeout: 60_000 }, async () => {
    const backend = backendOf(t);
    await waitFor("ready", () => backend.state === "ready", 30_000);
    const pid = backend.pid!;
    const restarts = backend.restarts;
    stop(pid);
    await waitFor("unhealthy", () => backend.state === "unhealthy", 10_000);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(503);
    resume(pid);
    await waitFor("ready again", () => backend.state === "ready", 10_000);
    expect(backend.pid).toBe(pid);
    expect(backend.restarts).toBe(restarts);
    const res = await post(t, { messages: user("resumed"), max_tokens: 4 });
    expect(res.status).toBe(200);
  });
});

describe("a breaker timeout on a stalled shard", () => {
  let t: TestGateway;
  beforeAll(async () => {
    // The heartbeat is slow here, so the shard stays "ready" and only the breaker's timeout fires.
    t = await startTestGateway(
      {
        cache: { enabled: false },
        breaker: { timeoutMs: 1000 },
        health: { heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 60_000, abortConfirmMs: 60_000, unhealthyGraceMs: 60_000 },
      },
      { slots: 1, contextSize: 512 },
    );
  });
  afterAll(async () => t?.close());

  it("is a 504, and the slot is not reused until the shard confirms the abort", { timeout: 60_000 }, async () => {
    const backend = backendOf(t);
    const pid = backend.pid!;
    stop(pid);
    const first = await post(t, { messages: user("first"), max_tokens: 4, timeout: 20_000 });
    expect(first.status).toBe(504);
    expect(((await first.json()) as { error: { type: string } }).error.type).toBe("timeout_error");
    // The only slot still runs the aborted generation inside the stopped shard: the next request must wait
    // for the shard's confirmation, not be sent onto the busy slot (which answered 500 "slot is busy").
    const second = post(t, { messages: user("second"), max_tokens: 4, timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(t.gateway.registry.models[0]!.pool.snapshot().shards[0]!.slotsBusy).toBe(1);
    resume(pid);
    const res = await second;
    expect(res.status).toBe(200);
  });
});

describe("clients that disconnect at random moments", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway(
      { cache: { enabled: false }, breaker: { volumeThreshold: 3, errorThresholdPercentage: 25 } },
      { slots: 4, contextSize: 2048 },
    );
  });
  afterAll(async () => t?.close());

  it("never open the breaker: a normal client is served after 40 aborted requests", { timeout: 60_000 }, async () => {
    const random = seededRandom(14);
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 4 }, async (_, i) => {
          const controller = new AbortController();
          const delay = Math.floor(random() * 40);
          setTimeout(() => controller.abort(), delay);
          const stream = (batch + i) % 2 === 0;
          await post(t, { messages: user(`abort me ${batch} ${i} ${"lorem ipsum dolor ".repeat(60)}`), max_tokens: 256, stream }, controller.signal)
            .then((res) => res.text())
            .catch(() => undefined);
        }),
      );
    }
    const pool = t.gateway.registry.models[0]!.pool;
    await waitFor("slots to drain", () => pool.snapshot().shards[0]!.slotsBusy === 0, 10_000);
    expect(pool.snapshot().shards[0]!.breaker).toBe("closed");
    const res = await post(t, { messages: user("a normal request"), max_tokens: 4 });
    expect(res.status).toBe(200);
  });
});
