/**
 * The k6 scripts are plain JavaScript checked against @types/k6, and every
 * script and scenario file belong together.
 */
import { execFile } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { listScenarios, loadScenario, SCENARIOS_DIR } from "../../loadtest/runner/scenario.js";

const K6_DIR = path.resolve("loadtest/k6");

describe("k6 scripts", () => {
  it("type-check against @types/k6 (tsc -p loadtest/tsconfig.json)", async () => {
    const tsc = path.resolve("node_modules/typescript/bin/tsc");
    const run = promisify(execFile)(process.execPath, [tsc, "-p", "loadtest/tsconfig.json"]);
    await expect(run).resolves.toBeDefined();
  });

  it("one entry script runs any scenario by name; no script opens a scenario file by a fixed name", async () => {
    const scripts = (await readdir(K6_DIR)).filter((f) => f.endsWith(".js")).sort();
    expect(scripts).toEqual(["run.js", "sse-ttft.js"]);
    for (const script of scripts) {
      const text = await readFile(path.join(K6_DIR, script), "utf8");
      expect(text.startsWith("// @ts-check"), `${script} starts with // @ts-check`).toBe(true);
      expect(text, `${script} reads the scenario named by SCENARIO`).toContain("__ENV.SCENARIO");
      expect(text).toMatch(/open\(`\.\.\/scenarios\/\$\{[^}]+\}\.json`\)/);
      expect(text).not.toMatch(/open\("\.\.\/scenarios\//);
    }
  });

  it("the Node runner builds bodies with k6's own module", async () => {
    const runner = await import("../../loadtest/runner/body.js");
    const k6 = await import("../../loadtest/k6/lib/body.js");
    expect(runner.buildBody).toBe(k6.buildBody);
  });
});

describe("scenario files", () => {
  it("all validate, and cover the issue's scenarios", async () => {
    const names = await listScenarios();
    expect(names).toEqual(expect.arrayContaining(["smoke", "steady", "ramp", "spike", "cache", "rag", "soak"]));
    for (const name of names) {
      const s = await loadScenario(name);
      expect(s.name).toBe(name);
      expect(path.join(SCENARIOS_DIR, `${name}.json`)).toContain("loadtest/scenarios");
    }
  });

  it("spike tolerates only overload answers, and requires Retry-After on them", async () => {
    const spike = await loadScenario("spike");
    expect(spike.expect.toleratedStatuses.sort()).toEqual([429, 503]);
    expect(spike.expect.retryAfterOn.sort()).toEqual([429, 503]);
    expect(spike.thresholds.contract_violations).toEqual(["count==0"]);
    if (spike.load.executor !== "ramping-arrival-rate") throw new Error("spike ramps");
    const peak = Math.max(...spike.load.stages.map((s) => s.target));
    expect(peak).toBe(spike.load.startRate * 10);
  });

  it("rag sends the retrieval extension field", async () => {
    const rag = await loadScenario("rag");
    expect(rag.request.body.rag).toEqual({ collection: "support", top_k: 4 });
  });
});
