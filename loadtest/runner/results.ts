/**
 * Writes a run's files: `<scenario>-<timestamp>.json` (records and summary),
 * `.html` (the report) and `.png` (the main chart).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { latencyOverTime } from "./report/figures.js";
import { renderHtml } from "./report/html.js";
import { encodePng } from "./report/png.js";
import { rasterize } from "./report/raster.js";
import type { RunResult } from "./types.js";

export interface ResultFiles {
  json: string;
  html: string;
  png: string;
}

/** The main chart as PNG bytes. @example await writeFile("latency.png", mainChartPng(result)); */
export function mainChartPng(result: RunResult): Buffer {
  const { width, height, rgb } = rasterize(latencyOverTime(result));
  return encodePng(width, height, rgb);
}

/**
 * @example const files = await writeResults(result, "results"); // { json: "results/smoke-2026-...json", ... }
 */
export async function writeResults(result: RunResult, outDir: string): Promise<ResultFiles> {
  await mkdir(outDir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, "-");
  const base = path.join(outDir, `${result.scenario.name}-${stamp}`);
  const files = { json: `${base}.json`, html: `${base}.html`, png: `${base}.png` };
  await writeFile(files.json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(files.html, renderHtml(result));
  await writeFile(files.png, mainChartPng(result));
  return files;
}
