/**
 * The Node runner end to end: the smoke scenario against a real test gateway,
 * the files it writes, and how it classifies overload answers.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeResults } from "../../loadtest/runner/results.js";
import { runScenario } from "../../loadtest/runner/run.js";
import { loadScenario } from "../../loadtest/runner/scenario.js";
import type { Scenario } from "../../loadtest/scenarios/types.js";
import type { RunResult } from "../../loadtest/runner/types.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

let t: TestGateway;
let out: string;
let result: RunResult;

beforeAll(async () => {
  t = await startTestGateway();
  out = await mkdtemp(path.join(os.tmpdir(), "switchyard-loadtest-results-"));
});
afterAll(async () => {
  await t?.close();
  await rm(out, { recursive: true, force: true });
});

describe("smoke against a test gateway", () => {
  it("runs in seconds and honours the contract", async () => {
    const started = performance.now();
    result = await runScenario({ scenario: await loadScenario("smoke"), baseUrl: t.url, gracefulStopMs: 5_000 });
    expect(performance.now() - started).toBeLessThan(30_000);
    const s = result.summary;
    expect(s.requests).toMatchObject({ total: 6, ok: 6, failed: 0, dropped: 0, interrupted: 0, contractViolations: 0, byStatus: { "200": 6 } });
    expect(s.passed).toBe(true);
    expect(s.thresholds.map((x) => x.passed)).toEqual([true, true]);
  });

  it("measures what vLLM's benchmark reports", () => {
    const s = result.summary;
    for (const d of [s.latencyMs.ttft, s.latencyMs.tpot, s.latencyMs.itl, s.latencyMs.e2e, s.latencyMs.serverTtft, s.latencyMs.queue]) {
      expect(d).toMatchObject({ count: expect.any(Number), p50: expect.any(Number), p90: expect.any(Number), p99: expect.any(Number) });
      expect(d!.p50).toBeLessThanOrEqual(d!.p99);
    }
    expect(s.latencyMs.ttft!.p50).toBeLessThanOrEqual(s.latencyMs.e2e!.p50);
    expect(s.throughput.outputTokens).toBe(6 * 16);
    expect(s.throughput.outputTokensPerS).toBeGreaterThan(0);
    expect(s.throughput.requestsPerS).toBeGreaterThan(0);
    expect(s.goodput).toMatchObject({ slo: { ttftMs: 2000 }, fraction: expect.any(Number), requestsPerS: expect.any(Number) });
    expect(s.cache).toBeTypeOf("object");
  });

  it("keeps per-request records: client TTFT on streams, the gateway's timings on all", () => {
    const streamed = result.records.filter((r) => r.stream);
    const plain = result.records.filter((r) => !r.stream);
    expect(streamed).toHaveLength(3);
    expect(plain).toHaveLength(3);
    for (const r of streamed) {
      expect(r.ttftMs).toBeGreaterThan(0);
      expect(r.ttftMs!).toBeLessThanOrEqual(r.e2eMs);
      expect(r.chunks).toBeGreaterThan(1);
      expect(r.itlMeanMs).toBeTypeOf("number");
    }
    for (const r of result.records) {
      expect(r).toMatchObject({ status: 200, ok: true, outputTokens: 16, violations: [] });
      expect(r.switchyard).toMatchObject({ queue_ms: expect.any(Number), ttft_ms: expect.any(Number), decode_ms: expect.any(Number), shard: expect.any(String) });
    }
  });

  it("writes JSON and an HTML report with its charts inline as SVG", async () => {
    const files = await writeResults(result, out);
    expect(path.basename(files.json)).toMatch(/^smoke-\d{4}-\d\d-\d\dT[\d-]+Z\.json$/);
    const json = JSON.parse(await readFile(files.json, "utf8")) as RunResult;
    expect(Object.keys(json)).toEqual(expect.arrayContaining(["scenario", "target", "options", "summary", "timeline", "records", "inFlightSamples"]));
    expect(json.records).toHaveLength(6);
    expect(json.timeline.length).toBeGreaterThan(0);

    const html = await readFile(files.html, "utf8");
    expect(html.match(/<svg /g)?.length).toBe(5);
    for (const title of ["Time to first token over time", "End-to-end latency over time", "Offered load, throughput and goodput", "Output tokens/s vs concurrency", "TTFT distribution", "Outcomes"]) expect(html).toContain(title);
    // Self-contained: no scripts, nothing fetched from elsewhere (an SVG's url(#id) points inside the page).
    expect(html).not.toMatch(/<script|(src|href)="https?:|@import|url\((?!#)/);
  });
});

describe("overload answers", () => {
  let server: ServerType;
  let url: string;
  beforeAll(async () => {
    // By arrival: 503 with Retry-After, 503 without, 500. Only the first is a proper overload answer.
    let k = 0;
    const app = new Hono();
    app.get("/v1/models", (c) => c.json({ object: "list", data: [{ id: "default", object: "model" }] }));
    app.post("/v1/chat/completions", (c) => {
      const error = { error: { message: "busy", type: "server_error", param: null, code: "server_is_overloaded" } };
      const n = k++ % 3;
      if (n === 0) return c.json(error, 503, { "retry-after": "1" });
      return c.json(error, n === 1 ? 503 : 500);
    });
    server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("tolerates 503 + Retry-After, flags 503 without it and any 500", async () => {
    const spike = await loadScenario("spike");
    // Nine arrivals in 300 ms, started on schedule whatever the answers.
    const scenario: Scenario = { ...spike, load: { executor: "constant-arrival-rate", rate: 30, timeUnit: "1s", duration: "300ms", preAllocatedVUs: 1, maxVUs: 10 } };
    const { summary, records } = await runScenario({ scenario, baseUrl: url, gracefulStopMs: 5_000 });
    expect(records).toHaveLength(9);
    expect(summary.requests.byStatus).toEqual({ "500": 3, "503": 6 });
    expect(summary.requests.contractViolations).toBe(6);
    expect(summary.requests.violationsByCheck).toEqual({ "503 carries Retry-After": 3, "status is expected (success or proper overload)": 3 });
    expect(summary.requests.errors[0]).toMatchObject({ code: "server_is_overloaded", message: "busy" });
    expect(summary.passed).toBe(false);
    expect(records.filter((r) => r.status === 503 && r.retryAfter === "1").every((r) => r.violations.length === 0)).toBe(true);
  });

  it("refuses a non-loopback target before sending anything", async () => {
    await expect(runScenario({ scenario: await loadScenario("smoke"), baseUrl: "http://192.0.2.1:8080" })).rejects.toThrow(/not a loopback address/);
  });
});
