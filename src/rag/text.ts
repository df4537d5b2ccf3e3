/**
 * Small text helpers shared by chunking, hashing and the lexical embedder.
 */
import { createHash } from "node:crypto";

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Lower-cased word tokens (Unicode letters and digits; punctuation splits).
 *
 * @example
 * ```ts
 * wordTokens("Where's my Order #123?"); // ["where", "s", "my", "order", "123"]
 * ```
 */
export function wordTokens(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(WORD) ?? [];
}

/**
 * Text reduced to its words, for near-duplicate detection: case, punctuation
 * and whitespace differences disappear.
 *
 * @example
 * ```ts
 * normalizeForDedupe("Hello,   World!"); // "hello world"
 * ```
 */
export function normalizeForDedupe(text: string): string {
  return wordTokens(text).join(" ");
}

/**
 * JSON with object keys sorted at every level, so equal values hash equally
 * whatever order their keys were written in.
 *
 * @example
 * ```ts
 * stableStringify({ b: 1, a: [2, { d: 3, c: 4 }] }); // '{"a":[2,{"c":4,"d":3}],"b":1}'
 * ```
 */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? "null";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/**
 * Hex SHA-256 of a UTF-8 string.
 *
 * @example
 * ```ts
 * sha256Hex("abc").slice(0, 8); // "ba7816bf"
 * ```
 */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * 32-bit FNV-1a hash of a string (over UTF-16 code units): fast, deterministic
 * across platforms, good enough spread for feature hashing.
 *
 * @example
 * ```ts
 * fnv1a32("refund"); // same number on every machine and run
 * ```
 */
export function fnv1a32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
