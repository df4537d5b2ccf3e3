/**
 * Reliability figures on real shard processes (tiny model):
 *
 * - fairness: tenant B's p50 latency while tenant A floods the queue, as a ratio of B's p50 on an idle
 *   gateway (goal: within 2×);
 * - stall: after `kill -STOP` of the only shard, how long until a client with a 2 s deadline is answered,
 *   until a stream with no deadline of its own ends (error event + [DONE]), until /readyz says 503, and
 *   until a restarted shard serves again, each against the configured bound it should meet.
 *
 *   tsx bench/reliability.ts [--requests 120] [--flood 24] [--rounds 12] [--fairness-only] [--reserve-slots N]
 *
 *   `--reserve-slots` overrides `queue.reserveSlots` (0: no slot headroom, fair queue only) for a comparison.
 *
 *   B's requests are split over `rounds` alternating idle / shared / flooded phases (drift in the machine's
 *   other load weighs on every side of the ratios). "Shared": one A request always running beside B, no
 *   queue — the cost of sharing the shard's decode, which no queue policy removes without preemption.
 *
 * Results: results/bench-reliability.json (+ a timestamped copy) and a markdown table on stdout.
 */
import { setMaxListeners } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config/index.js";
import { ensureTinyModel } from "../src/engine/tiny-model/index.js";
import type { LocalBackend } from "../src/router/index.js";
import { startGateway, type Gateway } from "../src/server/index.js";
import { createLogger } from "../src/telemetry/logger.js";
import { machineInfo, markdownTable, percentile, round, writeResult } from "./stats.js";

const { values } = parseArgs({ options: { requests: { type: "string", default: "120" }, flood: { type: "string", default: "24" }, rounds: { type: "string", default: "12" }, "fairness-only": { type: "boolean", default: false }, "reserve-slots": { type: "string" } } });
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const FLOOD = Number(values.flood);
const KEYS = { a: "bench-tenant-a-0001", b: "bench-tenant-b-0001" };

async function withGateway<T>(raw: Record<string, unknown>, fn: (gw: Gateway) => Promise<T>): Promise<T> {
  const file = await ensureTinyModel(path.join(os.tmpdir(), "switchyard-test-models"));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-bench-rel-"));
  const config = loadConfig({
    env: {},
    raw: {
      server: { port: 0 },
      dataDir,
      cache: { enabled: false },
      telemetry: { logLevel: "silent" },
      models: [{ name: "tiny", file, fallback: "none", shards: 1, slots: 2, contextSize: 512 }],
      ...raw,
    },
  });
  const gw = await startGateway({ config, logger: createLogger({ level: "silent" }) });
  try {
    return await fn(gw);
  } finally {
    await gw.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function chat(gw: Gateway, key: string | undefined, body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model: "tiny", temperature: 0, ...body }),
    ...(signal ? { signal } : {}),
  });
}

async function timedB(gw: Gateway, i: number): Promise<number> {
  const t0 = performance.now();
  const res = await chat(gw, KEYS.b, { messages: [{ role: "user", content: `b ${i}` }], max_tokens: 16 });
  await res.text();
  if (res.status !== 200) throw new Error(`tenant B got ${res.status}`);
  return performance.now() - t0;
}

/**
 * Runs `measure` while tenant A keeps `concurrency` requests in flight (a closed loop; with more than
 * the pool's slots, the rest wait in the queue). Returns A's completed requests and the seconds measured.
 */
async function withTenantA(gw: Gateway, concurrency: number, measure: () => Promise<void>): Promise<{ served: number; seconds: number; queuedAtStart: number }> {
  const pool = gw.registry.models[0]!.pool;
  let served = 0;
  let counting = false;
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per flood request in flight
  const loop = async (w: number) => {
    while (!stop.signal.aborted) {
      const res = await chat(gw, KEYS.a, { messages: [{ role: "user", content: `flood ${w}` }], max_tokens: 16 }, stop.signal).catch(() => undefined);
      if (!res) return;
      await res.text().catch(() => undefined);
      if (res.status === 200 && counting) served++;
    }
  };
  const loops = Array.from({ length: concurrency }, (_, w) => loop(w));
  const busy = () => pool.snapshot().running + pool.snapshot().waiting;
  const deadline = Date.now() + 30_000;
  while (busy() < Math.max(1, concurrency - 4) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const queuedAtStart = pool.snapshot().waiting;
  counting = true;
  const t0 = performance.now();
  await measure();
  const seconds = (performance.now() - t0) / 1000;
  counting = false;
  stop.abort();
  await Promise.all(loops);
  return { served, seconds, queuedAtStart };
}

async function fairness() {
  const reserve = values["reserve-slots"] === undefined ? {} : { reserveSlots: Number(values["reserve-slots"]) };
  return withGateway({ queue: { maxDepth: 64, maxWaitMs: 120_000, ...reserve }, auth: { keys: [{ key: KEYS.a, tenant: "a" }, { key: KEYS.b, tenant: "b" }] } }, async (gw) => {
    const pool = gw.registry.models[0]!.pool;
    await timedB(gw, -1); // warm-up
    const idle: number[] = [];
    const shared: number[] = [];
    const flooded: number[] = [];
    const queuedAtStart: number[] = [];
    let freeAtArrival = 0;
    let aServed = 0;
    let floodSeconds = 0;
    const perPhase = Math.ceil(REQUESTS / ROUNDS);
    // Idle, shared (one A request always running beside B) and flooded phases alternate, ROUNDS times: a
    // change in the machine's other load during the run then weighs on every side of the ratios.
    for (let r = 0; r < ROUNDS; r++) {
      // The same prompts in every phase (temperature 0): the answers, and where they stop, are the same.
      for (let i = 0; i < perPhase; i++) idle.push(await timedB(gw, r * perPhase + i));
      await withTenantA(gw, 1, async () => {
        for (let i = 0; i < perPhase; i++) shared.push(await timedB(gw, r * perPhase + i));
      });
      const flood = await withTenantA(gw, FLOOD, async () => {
        for (let i = 0; i < perPhase; i++) {
          const snap = pool.snapshot().shards;
          if (snap.some((s) => s.slotsBusy < s.slotsTotal)) freeAtArrival++;
          flooded.push(await timedB(gw, r * perPhase + i));
        }
      });
      queuedAtStart.push(flood.queuedAtStart);
      aServed += flood.served;
      floodSeconds += flood.seconds;
    }
    const idleP50 = percentile(idle, 50);
    const floodP50 = percentile(flooded, 50);
    const sharedP50 = percentile(shared, 50);
    return {
      requests: idle.length,
      rounds: ROUNDS,
      floodConcurrency: FLOOD,
      queuedAtStart: Math.min(...queuedAtStart),
      idleP50Ms: round(idleP50),
      idleP99Ms: round(percentile(idle, 99)),
      floodP50Ms: round(floodP50),
      floodP99Ms: round(percentile(flooded, 99)),
      ratio: round(floodP50 / idleP50),
      tenantAPerSecond: round(aServed / floodSeconds),
      /** B beside one running A request (no queue): the cost of sharing the shard's decode, which no queue policy removes. */
      sharedP50Ms: round(sharedP50),
      sharedRatio: round(sharedP50 / idleP50),
      /** Share of B's flooded requests sent while a slot was free (sampled just before sending). */
      freeSlotAtArrival: round(freeAtArrival / flooded.length),
    };
  });
}

async function until(probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!(await probe())) {
    if (performance.now() - t0 > timeoutMs) return Number.NaN;
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

async function stall() {
  return withGateway({}, async (gw) => {
    const health = loadConfig({ env: {}, raw: { models: [{ name: "x", file: "tiny" }] } }).health;
    const backend = gw.registry.models[0]!.pool.backends[0] as LocalBackend;
    const pid = backend.pid!;
    // A stream with no deadline of its own (the default 120 s), decoding when the shard stops.
    const stream = await chat(gw, undefined, { messages: [{ role: "user", content: "a long story" }], max_tokens: 400, stream: true });
    const reader = stream.body!.getReader();
    await reader.read();
    process.kill(pid, "SIGSTOP");
    const stoppedAt = performance.now();
    try {
      const deadlined = chat(gw, undefined, { messages: [{ role: "user", content: "hello" }], max_tokens: 4, timeout: 2000 }).then(async (res) => {
        await res.text();
        return { ms: performance.now() - stoppedAt, status: res.status };
      });
      const streamEnd = (async () => {
        let text = "";
        const decoder = new TextDecoder();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += decoder.decode(value, { stream: true });
        }
        return { ms: performance.now() - stoppedAt, endedWithError: /data: \{"error"[\s\S]*data: \[DONE\]\s*$/.test(text) };
      })();
      const readyz503Ms = await until(async () => (await fetch(`${gw.url}/readyz`)).status === 503, 60_000);
      const [d, s] = await Promise.all([deadlined, streamEnd]);
      const restarted = await until(() => backend.state === "ready" && backend.pid !== pid, 120_000);
      const restartedMs = Number.isNaN(restarted) ? Number.NaN : performance.now() - stoppedAt;
      return {
        health,
        deadlinedClient: { ms: round(d.ms), status: d.status, boundMs: 2000 },
        streamWithoutDeadline: { ms: round(s.ms), endedWithError: s.endedWithError, boundMs: health.heartbeatTimeoutMs + health.unhealthyGraceMs },
        readyz503Ms: round(readyz503Ms),
        restartedServingMs: round(restartedMs),
      };
    } finally {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // Killed by the supervisor, as expected.
      }
    }
  });
}

async function main(): Promise<void> {
  const fair = await fairness();
  if (values["fairness-only"]) {
    console.log(JSON.stringify(fair, null, 2)); // a partial run: no result file, bench:report keeps the last full one
    return;
  }
  const stalled = await stall();
  const result = { machine: machineInfo(), fairness: fair, stall: stalled };
  const file = writeResult("bench-reliability", result);
  console.log(
    markdownTable(
      ["figure", "measured", "reference", "ratio"],
      [
        ["tenant B p50 under A's flood", `${fair.floodP50Ms} ms`, `${fair.idleP50Ms} ms idle`, `**${fair.ratio}×**`],
        ["tenant B p50 beside one A request", `${fair.sharedP50Ms} ms`, `${fair.idleP50Ms} ms idle`, `${fair.sharedRatio}×`],
        ["SIGSTOP → 504 for a 2 s deadline", `${stalled.deadlinedClient.ms} ms (${stalled.deadlinedClient.status})`, "2000 ms deadline", `${round(stalled.deadlinedClient.ms / 2000)}×`],
        [
          "SIGSTOP → stream without deadline ends",
          `${stalled.streamWithoutDeadline.ms} ms`,
          `${stalled.streamWithoutDeadline.boundMs} ms heartbeat timeout + grace`,
          `${round(stalled.streamWithoutDeadline.ms / stalled.streamWithoutDeadline.boundMs)}×`,
        ],
        ["SIGSTOP → /readyz 503", `${stalled.readyz503Ms} ms`, `${stalled.health.heartbeatTimeoutMs} ms heartbeat timeout`, `${round(stalled.readyz503Ms / stalled.health.heartbeatTimeoutMs)}×`],
        ["SIGSTOP → restarted shard serving", `${stalled.restartedServingMs} ms`, "", ""],
      ],
    ),
  );
  console.error(`wrote ${file}`);
}

await main();
