/**
 * How much of a stream's tail must wait: the shortest suffix that could still
 * grow into (or be part of) a value of an enabled type, or of a placeholder.
 *
 * Each type has the set of characters its values can contain and the longest
 * span a value can take. A value that continues past the current end must end
 * with the text's last characters, so it lies inside the trailing run of that
 * type's characters, within its longest span. Text before the earliest such
 * run (over the enabled types) can never become part of a new value and may be
 * sent. With only `credit_card` enabled, "order 42" holds back "42"; with
 * `email` enabled it holds back the last word, since "ann" may become
 * "ann@example.com".
 */
import { MAX_PLACEHOLDER_LENGTH } from "./placeholders.js";
import type { PiiEntityType } from "./types.js";

interface TailRule {
  /** Characters a value of this type may contain (spaces handled by `spaces`). */
  chars: RegExp;
  /** Whether values contain single spaces (digit grouping). */
  spaces: boolean;
  /** Longest value, in characters. */
  maxSpan: number;
}

const TAIL_RULES: Record<PiiEntityType, TailRule> = {
  email: { chars: /[A-Za-z0-9._%+@-]/, spaces: false, maxSpan: 254 },
  // Digits, grouping punctuation, a leading +, and extensions ("x12", "ext. 12", "#12").
  phone: { chars: /[0-9+().\-/xXetEXT#]/, spaces: true, maxSpan: 48 },
  credit_card: { chars: /[0-9-]/, spaces: true, maxSpan: 23 },
  iban: { chars: /[A-Z0-9]/, spaces: true, maxSpan: 42 },
  ssn: { chars: /[0-9-]/, spaces: true, maxSpan: 11 },
  ip: { chars: /[0-9A-Fa-f.:]/, spaces: false, maxSpan: 45 },
};

/** Start of the trailing run of `rule`'s characters in `text` (at most `maxSpan` long, no leading space). */
function tailStart(text: string, rule: TailRule): number {
  const floor = Math.max(0, text.length - rule.maxSpan);
  let i = text.length;
  while (i > floor) {
    const ch = text[i - 1]!;
    if (rule.chars.test(ch)) {
      i--;
      continue;
    }
    // One space after a value character may be digit grouping ("4111 1111"), also when it is the last character so far.
    if (rule.spaces && ch === " " && i - 1 > floor && rule.chars.test(text[i - 2]!) && (i === text.length || text[i] !== " ")) {
      i--;
      continue;
    }
    break;
  }
  while (i < text.length && text[i] === " ") i++;
  return i;
}

/** Start of a trailing partial placeholder (`<EMA`, `<PHONE_1`), or `text.length` when there is none. */
function placeholderTailStart(text: string): number {
  const from = text.lastIndexOf("<");
  if (from < 0 || text.length - from >= MAX_PLACEHOLDER_LENGTH) return text.length;
  return /^<[A-Z0-9_]*$/.test(text.slice(from)) ? from : text.length;
}

/**
 * Index from which `text` must be held back: everything before it can be
 * scanned and sent now.
 *
 * @example
 * ```ts
 * holdbackStart("call 415 555", ["phone"]); // 5: "415 555" may continue as a phone number
 * holdbackStart("thanks, bye.", ["phone"]);  // 12: nothing to hold
 * ```
 */
export function holdbackStart(text: string, types: readonly PiiEntityType[], placeholders = false): number {
  let start = placeholders ? placeholderTailStart(text) : text.length;
  for (const type of types) start = Math.min(start, tailStart(text, TAIL_RULES[type]));
  return start;
}

/** Longest span any enabled type's value can take: how much already-sent text a scan needs as left context. */
export function maxSpan(types: readonly PiiEntityType[]): number {
  let span = MAX_PLACEHOLDER_LENGTH;
  for (const type of types) span = Math.max(span, TAIL_RULES[type].maxSpan);
  return span;
}
