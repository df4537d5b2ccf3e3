// @ts-check
/**
 * k6 duration strings ("500ms", "30s", "2m", "1m30s", "1h") to milliseconds and back.
 * The Node runner has its own copy (loadtest/runner/duration.ts): k6 cannot import
 * TypeScript helpers from the project, and this is too small to be worth a build step.
 */

const UNIT_MS = /** @type {const} */ ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 });

/**
 * @param {string} text a k6 duration
 * @returns {number} milliseconds
 * @example parseDuration("1m30s") // 90000
 */
export function parseDuration(text) {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const unit = /** @type {keyof typeof UNIT_MS} */ (m[2]);
    total += Number(m[1]) * UNIT_MS[unit];
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== text.trim().length) throw new Error(`invalid duration '${text}'`);
  return total;
}

/**
 * @param {number} ms
 * @returns {string} a k6 duration in whole milliseconds (k6 accepts "1500ms")
 * @example formatDuration(1500) // "1500ms"
 */
export function formatDuration(ms) {
  return `${Math.max(1, Math.round(ms))}ms`;
}
