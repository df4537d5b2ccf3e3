/** Small statistics and output helpers shared by the benchmarks. */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Facts about the machine a figure was measured on. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpu: cpus[0]?.model ?? "unknown",
    cores: os.availableParallelism(),
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
  };
}

/** Writes `results/<name>.json` (latest) and a timestamped copy; returns the latest path. */
export function writeResult(name: string, data: unknown): string {
  const dir = path.resolve("results");
  mkdirSync(dir, { recursive: true });
  const body = JSON.stringify(data, null, 2);
  writeFileSync(path.join(dir, `${name}-${Date.now()}.json`), body);
  const latest = path.join(dir, `${name}.json`);
  writeFileSync(latest, body);
  return latest;
}

export function markdownTable(headers: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}
