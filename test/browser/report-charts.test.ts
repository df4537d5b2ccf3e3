/**
 * The charts of the load-test report and the benchmark page, looked at in a
 * real headless Chromium: every chart must show two axes with ordered tick
 * labels and axis titles, and every series must be drawn in its colour and
 * named in a legend. The report comes from a real run of the smoke scenario
 * against a real tiny-model gateway.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { writeResults } from "../../loadtest/runner/results.js";
import { runScenario } from "../../loadtest/runner/run.js";
import { loadScenario } from "../../loadtest/runner/scenario.js";
import { barChart, COLORS, lineChart } from "../../tools/report/index.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { artifactPath, describeWithChromium, launchChromium, watchConsole } from "./helpers/browser.js";

/** What one rendered SVG shows, measured by the browser's layout. */
interface Drawn {
  label: string;
  texts: string[];
  /** Numeric labels in a row (same baseline), left to right: an x axis. */
  xTicks: number[];
  /**
   * Numeric labels in a column (same right edge), top to bottom, split where
   * a value rises: one list per y axis (panels stacked in one chart share a column).
   */
  yAxes: number[][];
  /** Stroke or fill colours of drawn paths wider or taller than 4 px. */
  colors: string[];
  width: number;
  height: number;
}

/** Measures every `<svg>` of the page in Chromium. */
function measure(page: Page): Promise<Drawn[]> {
  return page.$$eval("svg", (svgs) =>
    svgs.map((svg) => {
      const box = svg.getBoundingClientRect();
      const texts = [...svg.querySelectorAll("text")].map((t) => ({ text: (t.textContent ?? "").trim(), r: t.getBoundingClientRect() }));
      const numeric = texts.filter((t) => /^-?[\d.]+[kM]?$/.test(t.text));
      const value = (s: string) => parseFloat(s) * (s.endsWith("k") ? 1e3 : s.endsWith("M") ? 1e6 : 1);
      const longest = <T,>(groups: Map<number, T[]>) => [...groups.values()].sort((a, b) => b.length - a.length)[0] ?? [];
      const rows = new Map<number, typeof numeric>();
      const cols = new Map<number, typeof numeric>();
      for (const t of numeric) {
        const y = Math.round(t.r.bottom);
        const x = Math.round(t.r.right);
        rows.set(y, [...(rows.get(y) ?? []), t]);
        cols.set(x, [...(cols.get(x) ?? []), t]);
      }
      const xTicks = longest(rows).sort((a, b) => a.r.left - b.r.left).map((t) => value(t.text));
      const yAxes: number[][] = [];
      for (const v of longest(cols).sort((a, b) => a.r.top - b.r.top).map((t) => value(t.text))) {
        const axis = yAxes.at(-1);
        if (axis && v < (axis.at(-1) ?? -Infinity)) axis.push(v);
        else yAxes.push([v]);
      }
      const colors: string[] = [];
      for (const el of svg.querySelectorAll("path, rect, polyline")) {
        const r = el.getBoundingClientRect();
        if (r.width < 4 && r.height < 4) continue;
        for (const attr of ["stroke", "fill"]) {
          const c = el.getAttribute(attr);
          if (c && c !== "none") colors.push(c.toLowerCase());
        }
      }
      return { label: svg.getAttribute("aria-label") ?? "", texts: texts.map((t) => t.text), xTicks, yAxes, colors, width: box.width, height: box.height };
    }),
  );
}

/** An x axis and `panels` y axes with at least two labels each, increasing left to right and bottom to top. */
function expectAxes(d: Drawn, xTitle: string, yTitle: string, panels = 1): void {
  expect(d.width, d.label).toBeGreaterThan(300);
  expect(d.texts, d.label).toEqual(expect.arrayContaining([xTitle, yTitle]));
  expect(d.xTicks.length, `${d.label}: x ticks ${d.xTicks}`).toBeGreaterThanOrEqual(2);
  expect([...d.xTicks].sort((a, b) => a - b), "x ticks grow to the right").toEqual(d.xTicks);
  expect(d.yAxes.length, `${d.label}: y axes ${JSON.stringify(d.yAxes)}`).toBe(panels);
  for (const axis of d.yAxes) expect(axis.length, `${d.label}: y ticks grow upwards ${JSON.stringify(d.yAxes)}`).toBeGreaterThanOrEqual(2);
}

/** Each series drawn in its colour and named in the legend. */
function expectSeries(d: Drawn, series: Array<{ name: string; color: string }>): void {
  for (const s of series) {
    expect(d.texts, `${d.label}: legend names ${s.name}`).toContain(s.name);
    expect(d.colors, `${d.label}: ${s.name} drawn in ${s.color}`).toContain(s.color);
  }
}

describeWithChromium("report charts", () => {
  let t: TestGateway;
  let browser: Browser;
  let out: string;

  beforeAll(async () => {
    [t, browser, out] = await Promise.all([startTestGateway(), launchChromium(), mkdtemp(path.join(os.tmpdir(), "switchyard-report-"))]);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it("the load-test report shows axes, percentiles over time and every outcome", async () => {
    const result = await runScenario({ scenario: await loadScenario("smoke"), baseUrl: t.url, gracefulStopMs: 5_000 });
    const files = await writeResults(result, out);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const watch = watchConsole(page);
    await page.goto(pathToFileURL(files.html).href);
    const [latency, load, tokens, ttft, outcomes, ...rest] = await measure(page);
    expect(rest).toEqual([]);

    expectAxes(latency!, "seconds into the run (by request start)", "TTFT (ms)", 2);
    expect(latency!.texts).toContain("e2e (ms)");
    expectSeries(latency!, [
      { name: "TTFT p50", color: COLORS.sky },
      { name: "TTFT p99", color: COLORS.navy },
      { name: "e2e p50", color: COLORS.amber },
      { name: "e2e p99", color: COLORS.red },
    ]);
    expectAxes(load!, "seconds into the run", "requests / s");
    expectSeries(load!, [
      { name: "offered", color: COLORS.muted },
      { name: "completed", color: COLORS.sky },
    ]);
    expectAxes(tokens!, "mean requests in flight (per time bucket)", "output tokens / s");
    expectSeries(tokens!, [{ name: "one time bucket", color: COLORS.purple }]);
    expectAxes(ttft!, "TTFT (ms)", "requests");
    expect(ttft!.colors, "histogram bars").toContain(COLORS.sky);
    expect(ttft!.texts.some((s) => s.startsWith("p50 "))).toBe(true);
    // Outcomes: bars by category, so only the value axis is numeric.
    expect(outcomes!.texts).toEqual(expect.arrayContaining(["Outcomes", "200 OK", "6"]));
    expect(outcomes!.colors).toContain(COLORS.green);

    await page.screenshot({ path: artifactPath("loadtest-report.png"), fullPage: true });
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it("the benchmark page's charts compare series side by side", async () => {
    const series = [
      { name: "direct node-llama-cpp", color: COLORS.muted, points: [[1, 900], [2, 1100], [4, 1250]] as Array<[number, number]>, marker: 7 },
      { name: "gateway 1 shard x 8 slots", color: COLORS.blue, points: [[1, 800], [2, 1000], [4, 1150]] as Array<[number, number]>, marker: 7 },
    ];
    const line = lineChart({ title: "Aggregate decode tokens/s vs concurrency", xLabel: "concurrent requests", yLabel: "tokens/s", series });
    const bars = barChart({
      title: "Requests/s",
      xLabel: "requests / s",
      bars: [
        { label: "bare Hono (reference)", value: 12000, color: COLORS.muted },
        { label: "cache hit, JSON", value: 4000, color: COLORS.blue },
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    await page.setContent(`<!doctype html><body>${line}${bars}</body>`);
    const [l, b] = await measure(page);
    expectAxes(l!, "concurrent requests", "tokens/s");
    expectSeries(l!, series);
    expect(b!.texts).toEqual(expect.arrayContaining(["requests / s", "bare Hono (reference)", "cache hit, JSON", "12k", "4000"]));
    expect(b!.xTicks.length).toBeGreaterThanOrEqual(2);
    expect(b!.colors).toEqual(expect.arrayContaining([COLORS.muted, COLORS.blue]));
    await page.screenshot({ path: artifactPath("bench-charts.png"), fullPage: true });
    await page.close();
  });
});
