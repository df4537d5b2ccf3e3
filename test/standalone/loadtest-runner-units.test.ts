/** The Node runner's pure parts: schedules, scaling, thresholds, bodies, loopback. */
import { describe, expect, it } from "vitest";
import { parseCli } from "../../loadtest/runner/args.js";
import { buildBody, traitsOf } from "../../loadtest/runner/body.js";
import { parseDuration } from "../../loadtest/runner/duration.js";
import { assertLoopback, isLoopbackUrl } from "../../loadtest/runner/loopback.js";
import { loadScenario, scaleScenario } from "../../loadtest/runner/scenario.js";
import { arrivals, loadDurationMs, offeredRate } from "../../loadtest/runner/schedule.js";
import { evaluateThresholds } from "../../loadtest/runner/thresholds.js";
import { distribution, percentile } from "../../loadtest/runner/stats.js";

describe("durations", () => {
  it("parses k6 strings", () => {
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(() => parseDuration("10 minutes")).toThrow(/invalid duration/);
  });
});

describe("open-model schedules", () => {
  it("spaces a constant rate evenly from t=0", () => {
    expect([...arrivals({ executor: "constant-arrival-rate", rate: 4, timeUnit: "1s", duration: "1s", preAllocatedVUs: 1, maxVUs: 1 })]).toEqual([0, 250, 500, 750]);
    expect([...arrivals({ executor: "constant-arrival-rate", rate: 30, timeUnit: "1m", duration: "4s", preAllocatedVUs: 1, maxVUs: 1 })]).toEqual([0, 2000]);
  });

  it("integrates a ramp: arrivals equal the area under the rate", () => {
    const load = { executor: "ramping-arrival-rate" as const, startRate: 0, timeUnit: "1s", stages: [{ target: 10, duration: "2s" }, { target: 10, duration: "1s" }, { target: 0, duration: "2s" }], preAllocatedVUs: 1, maxVUs: 1 };
    const times = [...arrivals(load)];
    expect(times).toHaveLength(10 + 10 + 10);
    expect(times.every((t, k) => k === 0 || t >= (times[k - 1] ?? 0))).toBe(true);
    expect(Math.max(...times)).toBeLessThan(loadDurationMs(load));
    expect(offeredRate(load, 1000)).toBeCloseTo(5);
    expect(offeredRate(load, 2500)).toBeCloseTo(10);
  });

  it("scales durations and rates, but not smoke's fixed iterations", async () => {
    const steady = scaleScenario(await loadScenario("steady"), { durationScale: 0.1, rateScale: 0.5 });
    if (steady.load.executor !== "constant-arrival-rate") throw new Error("steady is constant-arrival-rate");
    expect(parseDuration(steady.load.duration)).toBe(12_000);
    expect(steady.load.rate).toBe(2);
    const smoke = await loadScenario("smoke");
    expect(scaleScenario(smoke, { durationScale: 0.1, rateScale: 3 }).load).toEqual(smoke.load);
  });
});

describe("thresholds", () => {
  const metrics = new Map([
    ["http_req_duration", { type: "trend" as const, values: [100, 200, 300, 400] }],
    ["http_req_failed", { type: "rate" as const, values: [false, false, false, true] }],
    ["contract_violations", { type: "counter" as const, value: 0 }],
  ]);

  it("evaluates k6 expressions", () => {
    const r = evaluateThresholds({ http_req_duration: ["p(50)<300", "max<=400", "avg>300"], http_req_failed: ["rate<0.1"], contract_violations: ["count==0"] }, metrics, 10);
    expect(r.map((t) => t.passed)).toEqual([true, true, false, false, true]);
    expect(r[0]!.value).toBe(250);
  });

  it("skips what it cannot judge instead of passing or failing it", () => {
    const r = evaluateThresholds({ checks: ["rate>0.99"], http_req_duration: ["p95<1"] }, metrics, 10);
    expect(r.map((t) => t.passed)).toEqual([undefined, undefined]);
    expect(r.map((t) => t.note)).toEqual(["not recorded by the Node runner", "expression not understood"]);
  });

  it("percentiles interpolate", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(distribution([])).toBeNull();
    expect(distribution([3, 1, 2])).toMatchObject({ count: 3, min: 1, p50: 2, max: 3 });
  });
});

describe("request bodies", () => {
  it("cycle prompts and variants, and drop null fields", async () => {
    const smoke = await loadScenario("smoke");
    const a = buildBody(smoke.request, 0, undefined);
    const b = buildBody(smoke.request, 1, "my-model");
    expect(traitsOf(a)).toEqual({ stream: true, includeUsage: true, maxTokens: 16 });
    expect(traitsOf(b)).toMatchObject({ stream: false, includeUsage: false });
    expect(b.model).toBe("my-model");
    expect(a.messages).toEqual([
      { role: "system", content: smoke.request.system },
      { role: "user", content: `${smoke.request.prompts[0]} (#0)` },
    ]);
    const soak = await loadScenario("soak");
    expect("stream_options" in buildBody(soak.request, 3, undefined)).toBe(false);
  });
});

describe("loopback only", () => {
  it("accepts loopback and refuses the rest unless allowed", () => {
    for (const u of ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:80", "http://127.1.2.3"]) expect(isLoopbackUrl(u)).toBe(true);
    for (const u of ["http://10.0.0.1", "https://api.example.com", "http://127.0.0.1.evil.com", "not a url"]) expect(isLoopbackUrl(u)).toBe(false);
    expect(() => assertLoopback("https://api.example.com", false)).toThrow(/--allow-remote/);
    expect(() => assertLoopback("https://api.example.com", true)).not.toThrow();
  });

  it("reads flags over the k6 environment variables", () => {
    const o = parseCli(["steady", "--duration-scale", "0.1", "--queue-depth", "0"], { BASE_URL: "http://127.0.0.1:9", MODEL: "m" });
    expect(o).toMatchObject({ scenario: "steady", baseUrl: "http://127.0.0.1:9", model: "m", durationScale: 0.1, rateScale: 1, localGateway: { queueMaxDepth: 0 } });
    expect(() => parseCli(["x", "--duration-scale=0"], {})).toThrow(/positive/);
  });
});
