/** Records → the numbers a person asks for first. */
import type { Scenario } from "../scenarios/types.js";
import { metricsOf } from "./metrics.js";
import { sloTimings } from "./request.js";
import { distribution } from "./stats.js";
import { evaluateThresholds } from "./thresholds.js";
import { findKnee } from "./timeline.js";
import type { RequestRecord, Summary, TimelineBucket } from "./types.js";

export interface SummarizeInput {
  scenario: Scenario;
  records: readonly RequestRecord[];
  /** Every inter-token gap of the run (ms). */
  itl: readonly number[];
  dropped: number;
  /** ms from the start to the last settled request. */
  endMs: number;
  timeline: readonly TimelineBucket[];
}

const r2 = (n: number) => Math.round(n * 100) / 100;

/**
 * @example const summary = summarize({ scenario, records, itl, dropped: 0, endMs: 12_000, timeline });
 */
export function summarize({ scenario, records, itl, dropped, endMs, timeline }: SummarizeInput): Summary {
  const done = records.filter((r) => !r.interrupted);
  const ok = done.filter((r) => r.ok);
  const blocks = ok.flatMap((r) => (r.switchyard ? [{ r, b: r.switchyard }] : []));
  const durationS = Math.max(endMs / 1000, 1e-3);

  const byStatus: Record<string, number> = {};
  const errorCounts = new Map<string, { status: number; code?: string; message: string; count: number }>();
  const violationsByCheck: Record<string, number> = {};
  for (const r of done) {
    byStatus[String(r.status)] = (byStatus[String(r.status)] ?? 0) + 1;
    for (const v of r.violations) violationsByCheck[v] = (violationsByCheck[v] ?? 0) + 1;
    if (r.ok) continue;
    const message = (r.error ?? "failed").slice(0, 160);
    const key = `${r.status}|${r.errorCode ?? ""}|${message}`;
    const e = errorCounts.get(key) ?? { status: r.status, ...(r.errorCode ? { code: r.errorCode } : {}), message, count: 0 };
    e.count++;
    errorCounts.set(key, e);
  }
  const cache: Record<string, number> = {};
  for (const { b } of blocks) cache[b.cache] = (cache[b.cache] ?? 0) + 1;

  const outputTokens = ok.reduce((s, r) => s + r.outputTokens, 0);
  const good = done.filter((r) => r.sloMet).length;
  const thresholds = evaluateThresholds(scenario.thresholds, metricsOf(records, itl, dropped), durationS);
  const knee = findKnee(scenario.load, timeline);
  return {
    requests: {
      total: done.length,
      ok: ok.length,
      failed: done.length - ok.length,
      dropped,
      interrupted: records.length - done.length,
      byStatus,
      errors: [...errorCounts.values()].sort((a, b) => b.count - a.count).slice(0, 20),
      contractViolations: done.filter((r) => r.violations.length > 0).length,
      violationsByCheck,
    },
    latencyMs: {
      ttft: distribution(ok.map((r) => sloTimings(r).ttft)),
      tpot: distribution(ok.flatMap((r) => {
        const { tpot } = sloTimings(r);
        return tpot === undefined ? [] : [tpot];
      })),
      itl: distribution(itl),
      e2e: distribution(ok.map((r) => r.e2eMs)),
      serverTtft: distribution(blocks.map(({ b }) => b.queue_ms + b.ttft_ms)),
      serverTpot: distribution(blocks.filter(({ r }) => r.outputTokens > 1).map(({ r, b }) => b.decode_ms / (r.outputTokens - 1))),
      queue: distribution(blocks.map(({ b }) => b.queue_ms)),
    },
    throughput: { durationS: r2(durationS), requestsPerS: r2(done.length / durationS), outputTokens, outputTokensPerS: r2(outputTokens / durationS) },
    goodput: { slo: scenario.slo, requestsPerS: r2(good / durationS), fraction: done.length ? r2(good / done.length) : 0 },
    cache,
    ...(knee ? { knee } : {}),
    thresholds,
    passed: thresholds.every((t) => t.passed !== false),
  };
}
