/**
 * One scenario run end to end: target (given or a local gateway), preflight,
 * load, summary. Writing files is separate (results.ts).
 */
import type { LocalGatewaySpec, Scenario } from "../scenarios/types.js";
import { defaultGracefulStopMs, drive } from "./driver.js";
import { startLocalGateway, type LocalGateway } from "./local-gateway.js";
import { assertLoopback } from "./loopback.js";
import { requestHeaders, sendRequest, type Target } from "./request.js";
import { seedCollection } from "./seed.js";
import { summarize } from "./summary.js";
import { buildTimeline } from "./timeline.js";
import type { RequestRecord, RunResult } from "./types.js";

export interface RunOptions {
  /** Already scaled (see scaleScenario). */
  scenario: Scenario;
  /** Origin without /v1; unset = start a gateway in-process on the tiny model. */
  baseUrl?: string;
  apiKey?: string;
  model?: string;
  /** Permit a non-loopback base URL. */
  allowRemote?: boolean;
  /** Recorded in the result; the scenario is expected to be scaled already. */
  durationScale?: number;
  rateScale?: number;
  maxInFlight?: number;
  gracefulStopMs?: number;
  /**
   * Upsert the scenario's `seed` documents first. Always done for a local
   * gateway; against a deployment only when asked (it writes to the target).
   */
  seed?: boolean;
  /** Overrides the scenario's `localGateway` knobs. */
  localGateway?: LocalGatewaySpec;
  /** Progress lines; default silent. */
  log?: (line: string) => void;
}

/** Fails fast when the target is not there or does not serve the model. */
export async function preflight(target: Target, model: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${target.baseUrl}/v1/models`, { headers: requestHeaders(target), signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(`cannot reach ${target.baseUrl}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (res.status !== 200) throw new Error(`GET ${target.baseUrl}/v1/models answered ${res.status}: is this a Switchyard or OpenAI-compatible server (and API_KEY right)?`);
  const list = (await res.json()) as { data?: Array<{ id?: string }> };
  if (!(list.data ?? []).some((m) => m.id === model)) {
    throw new Error(`model '${model}' is not served at ${target.baseUrl} (served: ${(list.data ?? []).map((m) => m.id).join(", ")}; set --model or MODEL)`);
  }
}

/**
 * @example
 * ```ts
 * const result = await runScenario({ scenario: await loadScenario("smoke"), baseUrl: "http://127.0.0.1:8080" });
 * console.log(result.summary.latencyMs.ttft?.p50);
 * ```
 */
export async function runScenario(opts: RunOptions): Promise<RunResult> {
  const { scenario } = opts;
  const log = opts.log ?? (() => undefined);
  let local: LocalGateway | undefined;
  let baseUrl = opts.baseUrl?.replace(/\/+$/, "").replace(/\/v1$/, "");
  if (baseUrl) assertLoopback(baseUrl, opts.allowRemote === true);
  else {
    log("starting a local gateway on the generated tiny model (its numbers say nothing about a real model)...");
    local = await startLocalGateway({ ...scenario.localGateway, ...opts.localGateway });
    baseUrl = local.url;
    log(`local gateway at ${baseUrl} (shards=${local.spec.shards}${local.spec.maxShards > local.spec.shards ? `..${local.spec.maxShards} autoscaled` : ""} slots=${local.spec.slots} contextSize=${local.spec.contextSize} queue.maxDepth=${local.spec.queueMaxDepth})`);
  }
  const model = opts.model ?? String(scenario.request.body.model ?? "default");
  const target: Target = { baseUrl, ...(opts.apiKey ? { apiKey: opts.apiKey } : {}), ...(opts.model ? { model: opts.model } : {}) };
  const gracefulStopMs = opts.gracefulStopMs ?? defaultGracefulStopMs(opts.durationScale ?? 1);
  const maxInFlight = opts.maxInFlight ?? (scenario.load.executor === "per-vu-iterations" ? scenario.load.vus : scenario.load.maxVUs);

  try {
    await preflight(target, model);
    if (scenario.seed && (local || opts.seed)) {
      const { documents } = await seedCollection(target, scenario.seed);
      log(`seeded collection '${scenario.seed.collection}' with ${documents} documents`);
    }
    const records: RequestRecord[] = [];
    const itl: number[] = [];
    const startedAt = new Date();
    const t0 = performance.now();
    log(`running '${scenario.name}' against ${baseUrl}...`);
    let lastLog = 0;
    // The local gateway's shard count over time (it follows the load when the scenario autoscales).
    const shardSamples: Array<[number, number]> = [];
    const sampler = local ? setInterval(() => shardSamples.push([performance.now() - t0, local.shards()]), 250) : undefined;
    const driven = await drive({
      load: scenario.load,
      maxInFlight,
      gracefulStopMs,
      t0,
      fire: async (f) => {
        records.push(await sendRequest(scenario, target, { i: f.i, scheduledMs: f.scheduledMs, t0, inFlight: f.inFlight, signal: f.signal, itl }));
      },
      onProgress: (p) => {
        if (p.elapsedMs - lastLog < 5000) return;
        lastLog = p.elapsedMs;
        const failed = records.filter((r) => !r.ok).length;
        log(`  ${(p.elapsedMs / 1000).toFixed(0)} s: ${p.started} started, ${records.length} done (${failed} failed), ${p.inFlight} in flight, ${p.dropped} dropped`);
      },
    });
    clearInterval(sampler);
    records.sort((a, b) => a.startMs - b.startMs);
    const timeline = buildTimeline(records, driven.inFlightSamples, scenario.load, driven.endMs, driven.droppedMs, shardSamples);
    const summary = summarize({ scenario, records, itl, dropped: driven.dropped, endMs: driven.endMs, timeline });
    return {
      version: 1,
      scenario,
      target: { baseUrl, local: local !== undefined, ...(local ? { localGateway: local.spec } : {}), model },
      options: { durationScale: opts.durationScale ?? 1, rateScale: opts.rateScale ?? 1, maxInFlight, gracefulStopMs },
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      summary,
      timeline,
      inFlightSamples: driven.inFlightSamples,
      records,
    };
  } finally {
    await local?.close();
  }
}
