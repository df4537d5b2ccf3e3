/** The summary as a few lines of text for the terminal. */
import type { Distribution, RunResult } from "./types.js";

const f = (v: number | undefined) => (v === undefined ? "–" : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0));
const row = (name: string, d: Distribution | null) => `| ${name} | ${d?.count ?? 0} | ${f(d?.p50)} | ${f(d?.p90)} | ${f(d?.p99)} |`;

/**
 * @example console.log(formatSummary(result));
 */
export function formatSummary(result: RunResult): string {
  const s = result.summary;
  const statuses = Object.entries(s.requests.byStatus)
    .map(([k, v]) => `${k === "0" ? "no response" : k}: ${v}`)
    .join(", ");
  const lines = [
    `${result.scenario.name}: ${s.requests.total} requests (${statuses || "none"}), ${s.requests.dropped} dropped, ${s.requests.contractViolations} contract violations`,
    `throughput ${s.throughput.requestsPerS} req/s, ${s.throughput.outputTokensPerS} output tokens/s; goodput ${s.goodput.requestsPerS} req/s (${(s.goodput.fraction * 100).toFixed(1)}% within SLO)`,
    ...(s.knee
      ? [s.knee.sloBroke ? `knee: ${s.knee.offeredRps} req/s offered, the most before under 90% of arrivals met the SLO` : `no knee: the SLO held up to ${s.knee.offeredRps} req/s (ramp higher with --rate-scale)`]
      : []),
    "",
    "| ms | n | p50 | p90 | p99 |",
    "|---|---|---|---|---|",
    row("TTFT", s.latencyMs.ttft),
    row("TPOT", s.latencyMs.tpot),
    row("ITL", s.latencyMs.itl),
    row("E2E", s.latencyMs.e2e),
    row("queue (gateway)", s.latencyMs.queue),
    "",
    ...s.thresholds.map((t) => `${t.passed === undefined ? "skip" : t.passed ? "pass" : "FAIL"}  ${t.metric} ${t.expression}${t.value === undefined ? ` (${t.note ?? ""})` : ` (got ${t.value})`}`),
  ];
  return lines.join("\n");
}
