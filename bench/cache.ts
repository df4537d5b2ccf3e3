/**
 * `npm run bench:cache`: requests/s and latency of response-cache hits (JSON
 * and SSE replay) through the full gateway, against a bare Hono app answering
 * a fixed chat completion, measured in the same run with the same load tool.
 * Each server runs in its own process; autocannon drives them from this one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { machineInfo, markdownTable, round, writeResult } from "./stats.js";

const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

const body = JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "How do I reset my password?" }], max_tokens: 32, temperature: 0 });
const streamBody = JSON.stringify({ ...JSON.parse(body), stream: true, stream_options: { include_usage: true } });

async function startServer(mode: "bare" | "gateway"): Promise<{ url: string; child: ChildProcess }> {
  const script = fileURLToPath(new URL(`./bench-server${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url));
  const child = spawn(process.execPath, [...(script.endsWith(".ts") ? ["--import", "tsx"] : []), script, mode], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(child.stdout, "data")) as [Buffer];
  return { url: line.toString().trim(), child };
}

interface Figures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, payload: string): Promise<Figures> {
  const r = await autocannon({
    url: `${url}/v1/chat/completions`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: payload,
    connections: CONNECTIONS,
    duration: DURATION,
  });
  return { requestsPerSecond: round(r.requests.average, 0), p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

async function main(): Promise<void> {
  const bare = await startServer("bare");
  await load(bare.url, body); // warm-up (JIT)
  const bareFig = await load(bare.url, body);
  bare.child.kill("SIGTERM");

  const gw = await startServer("gateway");
  for (const payload of [body, streamBody]) {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: payload });
    await res.text(); // fills the cache
  }
  const check = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
  if (check.headers.get("x-switchyard-cache") !== "hit") throw new Error("cache did not hit; benchmark is meaningless");
  await check.text();
  await load(gw.url, body); // warm-up
  const hitJson = await load(gw.url, body);
  const hitSse = await load(gw.url, streamBody);
  gw.child.kill("SIGTERM");

  const result = {
    benchmark: "cache",
    machine: machineInfo(),
    durationSeconds: DURATION,
    connections: CONNECTIONS,
    bareHono: bareFig,
    cacheHitJson: hitJson,
    cacheHitSse: hitSse,
    ratioJson: round(hitJson.requestsPerSecond / bareFig.requestsPerSecond, 3),
    ratioSse: round(hitSse.requestsPerSecond / bareFig.requestsPerSecond, 3),
  };
  const file = writeResult("bench-cache", result);
  console.log(
    markdownTable(
      ["path", "req/s", "p50 ms", "p99 ms", "errors", "ratio vs bare Hono"],
      [
        ["bare Hono, fixed JSON (reference)", bareFig.requestsPerSecond, bareFig.p50Ms, bareFig.p99Ms, bareFig.errors + bareFig.non2xx, "1.000"],
        ["gateway cache hit, JSON", hitJson.requestsPerSecond, hitJson.p50Ms, hitJson.p99Ms, hitJson.errors + hitJson.non2xx, result.ratioJson],
        ["gateway cache hit, SSE replay", hitSse.requestsPerSecond, hitSse.p50Ms, hitSse.p99Ms, hitSse.errors + hitSse.non2xx, result.ratioSse],
      ],
    ),
  );
  console.error(`wrote ${file}`);
}

await main();
