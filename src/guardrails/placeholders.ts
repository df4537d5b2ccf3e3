/**
 * Typed placeholders (`<EMAIL_1>`, `<CREDIT_CARD_2>`) and the per-request
 * table that maps them back to the caller's values.
 */
import type { TextEdit } from "./text-edits.js";
import type { PiiEntityType } from "./types.js";

/** Matches one complete placeholder; group 1 is the label, group 2 the number. */
export const PLACEHOLDER_PATTERN = /<([A-Z]+(?:_[A-Z]+)*)_(\d{1,6})>/g;

/** Longest placeholder text (`<CREDIT_CARD_999999>`), the most a stream holds back for one. */
export const MAX_PLACEHOLDER_LENGTH = 20;

export function placeholderLabel(type: PiiEntityType): string {
  return type.toUpperCase();
}

/** A value's identity within a request: the same email or card written twice gets one placeholder. */
function normalise(type: PiiEntityType, value: string): string {
  switch (type) {
    case "email":
      return value.toLowerCase();
    case "phone":
    case "credit_card":
    case "ssn":
      return value.replace(/[^\dxX+]/g, "");
    case "iban":
      return value.replace(/ /g, "").toUpperCase();
    case "ip":
      return value.toLowerCase();
  }
}

/**
 * The placeholders of one request. Values from the caller's input are
 * restorable (mapped back in the answer for that caller); values found only in
 * the model's output are not (the caller never sent them).
 */
export class PlaceholderTable {
  private readonly byValue = new Map<string, string>();
  private readonly restorable = new Map<string, string>();
  private readonly counters = new Map<PiiEntityType, number>();

  /** The placeholder for a value, allocating the next number of its type the first time. */
  placeholderFor(type: PiiEntityType, value: string, fromInput: boolean): string {
    const key = `${type}\u0000${normalise(type, value)}`;
    let placeholder = this.byValue.get(key);
    if (placeholder === undefined) {
      const n = (this.counters.get(type) ?? 0) + 1;
      this.counters.set(type, n);
      placeholder = `<${placeholderLabel(type)}_${n}>`;
      this.byValue.set(key, placeholder);
    }
    if (fromInput && !this.restorable.has(placeholder)) this.restorable.set(placeholder, value);
    return placeholder;
  }

  /** Replaces every restorable placeholder in `text` by the caller's value; others stay as they are. */
  restore(text: string): string {
    return this.restoreEdits(text).text;
  }

  /** {@link restore}, also giving the spans of `text` replaced (for the tokens' offsets). */
  restoreEdits(text: string): { text: string; edits: TextEdit[] } {
    const edits: TextEdit[] = [];
    if (this.restorable.size === 0 || !text.includes("<")) return { text, edits };
    const restored = text.replace(PLACEHOLDER_PATTERN, (whole: string, _label: string, _n: string, at: number) => {
      const value = this.restorable.get(whole);
      if (value === undefined) return whole;
      edits.push({ start: at, end: at + whole.length, length: value.length });
      return value;
    });
    return { text: restored, edits };
  }

  get size(): number {
    return this.byValue.size;
  }
}
