/**
 * GBNF for the decimal integers of a closed range, digit by digit: no sign on
 * zero, no leading zeros, no fraction, no exponent. `[lo, hi]` is split by
 * sign and by digit count; each same-length span becomes a prefix tree of
 * digit classes, so the rule grows with the number of digits, not the width
 * of the range.
 */

/** Integers of this many digits at most when the schema gives no bound (10^16 - 1 > 2^53). */
export const MAX_INTEGER_DIGITS = 16;
export const DEFAULT_INTEGER_BOUND = 10n ** BigInt(MAX_INTEGER_DIGITS) - 1n;

/**
 * A GBNF expression matching exactly the integers in `[lo, hi]` as JSON writes them.
 *
 * @example
 * ```ts
 * integerRangeGbnf(0n, 255n); // '[0-9] | [1-9] [0-9] | ("1" [0-9] [0-9] | "2" ([0-4] [0-9] | "5" [0-5]))'
 * integerRangeGbnf(-5n, 5n);  // '"-" [1-5] | [0-5]'
 * ```
 */
export function integerRangeGbnf(lo: bigint, hi: bigint): string {
  if (lo > hi) throw new RangeError(`empty integer range [${lo}, ${hi}]`);
  const parts: string[] = [];
  if (lo < 0n) {
    // Negatives: magnitudes from max(1, -hi) to -lo.
    const magnitudes = naturalRange(hi < 0n ? -hi : 1n, -lo);
    parts.push(`"-" ${group(magnitudes)}`);
  }
  if (hi >= 0n) parts.push(naturalRange(lo > 0n ? lo : 0n, hi));
  return parts.join(" | ");
}

/** 0 ≤ a ≤ b: one alternative per digit count. */
function naturalRange(a: bigint, b: bigint): string {
  const parts: string[] = [];
  const from = a.toString().length;
  const to = b.toString().length;
  for (let digits = from; digits <= to; digits++) {
    const low = digits === from ? a : 10n ** BigInt(digits - 1);
    const high = digits === to ? b : 10n ** BigInt(digits) - 1n;
    parts.push(sameLength(low.toString(), high.toString()));
  }
  return parts.join(" | ");
}

/** x ≤ y, both of the same length (leading digit nonzero unless the length is 1). */
function sameLength(x: string, y: string): string {
  if (x === y) return `"${x}"`;
  let i = 0;
  while (x[i] === y[i]) i++;
  const prefix = i > 0 ? `"${x.slice(0, i)}" ` : "";
  const x0 = Number(x[i]);
  const y0 = Number(y[i]);
  const rest = x.length - i - 1;
  if (rest === 0) return `${prefix}${digitClass(x0, y0)}`;
  const xs = x.slice(i + 1);
  const ys = y.slice(i + 1);
  const lowFull = /^0*$/.test(xs);
  const highFull = /^9*$/.test(ys);
  const alternatives: string[] = [];
  if (!lowFull) alternatives.push(`"${x0}" ${group(sameLength(xs, "9".repeat(rest)))}`);
  const start = lowFull ? x0 : x0 + 1;
  const end = highFull ? y0 : y0 - 1;
  if (start <= end) alternatives.push(`${digitClass(start, end)} ${anyDigits(rest)}`);
  if (!highFull) alternatives.push(`"${y0}" ${group(sameLength("0".repeat(rest), ys))}`);
  const body = alternatives.length === 1 ? alternatives[0]! : `(${alternatives.join(" | ")})`;
  return `${prefix}${body}`;
}

function digitClass(from: number, to: number): string {
  return from === to ? `"${from}"` : `[${from}-${to}]`;
}

function anyDigits(n: number): string {
  return n === 1 ? "[0-9]" : `[0-9]{${n}}`;
}

function group(expr: string): string {
  return /^[^|()]*$/.test(expr) || /^\([^()]*\)$/.test(expr) ? expr : `(${expr})`;
}
