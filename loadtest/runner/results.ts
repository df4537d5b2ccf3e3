/**
 * Writes a run's files: `<scenario>-<timestamp>.json` (records and summary),
 * and `.html` (the report, with its charts inline as SVG).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { renderHtml } from "./report/html.js";
import type { RunResult } from "./types.js";

export interface ResultFiles {
  json: string;
  html: string;
}

/**
 * @example const files = await writeResults(result, "results"); // { json: "results/smoke-2026-...json", ... }
 */
export async function writeResults(result: RunResult, outDir: string): Promise<ResultFiles> {
  await mkdir(outDir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, "-");
  const base = path.join(outDir, `${result.scenario.name}-${stamp}`);
  const files = { json: `${base}.json`, html: `${base}.html` };
  await writeFile(files.json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(files.html, renderHtml(result));
  return files;
}
