/**
 * k6 duration strings ("500ms", "30s", "2m", "1m30s", "1h") in milliseconds.
 * Mirrors loadtest/k6/lib/duration.js (k6 cannot import project TypeScript).
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * @example parseDuration("1m30s") // 90_000
 */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? Number.NaN);
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== text.trim().length || !Number.isFinite(total)) throw new Error(`invalid duration '${text}'`);
  return total;
}
