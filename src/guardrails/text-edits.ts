/**
 * Replaced spans of a text, and how they move the tokens' log probabilities:
 * a redacted answer's tokens must not spell out what was redacted, and their
 * offsets must point into the text the caller gets.
 */
import type { TokenLogprob } from "../types.js";

/** `text.slice(start, end)` was replaced by `length` characters. */
export interface TextEdit {
  start: number;
  end: number;
  length: number;
}

/** An edit in absolute coordinates of the old text, with where its replacement starts in the new one. */
interface PlacedEdit extends TextEdit {
  newStart: number;
}

/** A token's span in the old text; an empty token (part of a character) covers the position it sits at. */
function spanEnd(entry: TokenLogprob): number {
  return entry.offset + Math.max(1, entry.token.length);
}

/**
 * Follows a text's edits as they are made, piece by piece, and releases the
 * token entries whose text lies wholly in the edited part:
 * - `drop` (the guard's scan): entries of tokens that overlap a replaced span
 *   are left out (with their alternatives), the others get their offset in
 *   the new text;
 * - `move` (restoring the caller's values): every entry is kept, offsets
 *   inside a replaced span move to its replacement's start.
 *
 * @example
 * ```ts
 * const t = new LogprobTracker("drop");
 * t.add(entries);                                   // offsets into the raw answer "Mail ann@example.com now"
 * t.advance(20, [{ start: 5, end: 20, length: 9 }]); // scanned into "Mail <EMAIL_1>"
 * t.release();                                       // "Mail"'s entry; the address's tokens are dropped
 * ```
 */
export class LogprobTracker {
  private pending: TokenLogprob[] = [];
  private readonly edits: PlacedEdit[] = [];
  /** Old-text characters handled so far, and the new text's length for them. */
  private done = 0;
  private written = 0;

  constructor(private readonly mode: "drop" | "move") {}

  add(entries: readonly TokenLogprob[] | undefined): void {
    if (entries) this.pending.push(...entries);
  }

  /** The next `consumed` old characters were handled, with `edits` (relative to where they start) made. */
  advance(consumed: number, edits: readonly TextEdit[]): void {
    let shift = this.written - this.done;
    for (const e of edits) {
      const start = this.done + e.start;
      this.edits.push({ start, end: this.done + e.end, length: e.length, newStart: start + shift });
      shift += e.length - (e.end - e.start);
    }
    this.done += consumed;
    this.written = this.done + shift;
  }

  /** Entries whose text is now wholly handled (all of them with `all`), in the new text's terms. */
  release(all = false): TokenLogprob[] {
    const out: TokenLogprob[] = [];
    const keep: TokenLogprob[] = [];
    for (const entry of this.pending) {
      if (!all && entry.offset + entry.token.length > this.done) {
        keep.push(entry);
        continue;
      }
      const moved = this.place(entry);
      if (moved) out.push(moved);
    }
    this.pending = keep;
    return out;
  }

  private place(entry: TokenLogprob): TokenLogprob | undefined {
    let shift = 0;
    for (const e of this.edits) {
      if (e.end <= entry.offset) {
        shift += e.length - (e.end - e.start);
        continue;
      }
      if (e.start >= spanEnd(entry)) break;
      // The token overlaps a replaced span.
      if (this.mode === "drop") return undefined;
      if (entry.offset >= e.start) return { ...entry, offset: e.newStart };
      break;
    }
    return shift === 0 ? entry : { ...entry, offset: entry.offset + shift };
  }
}
