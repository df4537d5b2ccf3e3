/** The "Scale-out on Redis" section of BENCHMARKS.md, from results/scale-out.json (bench/scale-out.ts). */
import { markdownTable } from "./stats.js";

type Json = Record<string, unknown>;

export function scaleOutSection(r: Json | undefined): string {
  if (!r) return "_Not measured yet: `npm run bench:scale-out`._";
  const one = r.oneReplica as Json;
  const two = r.twoReplicas as Json;
  return [
    `Closed loop, ${String(r.concurrency)} concurrent non-streamed chat requests for ${String(r.seconds)} s, round robin over the replicas; every replica`,
    "a process of its own in front of one mock upstream (5 ms to the first token), sharing one redis-server; a rate-limited key, so every",
    "request runs the admission script. The Redis cost is the sequential p50 with limits in Redis minus the p50 of a replica with limits in memory.",
    "",
    markdownTable(
      ["setup", "req/s", "p50 ms", "p99 ms", "failed"],
      [
        ["1 replica", String(one.requestsPerSecond), String(one.p50Ms), String(one.p99Ms), String(one.failed)],
        ["2 replicas sharing Redis", String(two.requestsPerSecond), String(two.p50Ms), String(two.p99Ms), String(two.failed)],
      ],
    ),
    "",
    `2 replicas vs 1: **${String(r.ratioTwoVsOne)}×**. Redis cost per request (p50): **+${String(r.redisCostP50Ms)} ms** (${String(r.p50MsRedisLimits)} ms vs ${String(r.p50MsInMemoryLimits)} ms).`,
  ].join("\n");
}
