/**
 * Turns generated tokens into streamable text for the logprobs loop: decodes
 * incrementally (holding back tokens that end inside a UTF-8 character), cuts
 * at the first stop string (which is never returned), holds back a tail that
 * could still become a stop string, and attaches each token's logprob entry to
 * the chunk that carries the token's text.
 */
import type { TokenLogprob } from "../types.js";

/** Decodes `tokens` as the continuation of `previous` (for correct spacing). */
export type Detokenize = (tokens: readonly number[], previous: readonly number[]) => string;

export interface TextPiece {
  text: string;
  /** Tokens whose text (or whose first character) this piece carries. */
  tokens: number;
  logprobs: TokenLogprob[];
}

/** Tokens that still decode to a broken character after this many are emitted as they are. */
const MAX_PENDING_TOKENS = 4;
/** Enough context for the detokenizer's spacing heuristics. */
const CONTEXT_TOKENS = 8;

interface Placed {
  /** Where the token's text starts in `full`. */
  start: number;
  entry: Omit<TokenLogprob, "offset"> | undefined;
}

/**
 * @example
 * ```ts
 * const stream = new TokenTextStream(detokenize, ["\n\n"]);
 * const piece = stream.push(token, entry);   // undefined while held back
 * if (stream.stopped) ...                     // a stop string was found; the piece ends before it
 * const last = stream.finish();               // what was held back
 * ```
 */
export class TokenTextStream {
  private full = "";
  private emitted = 0;
  private decoded: number[] = [];
  private pending: Array<{ token: number; entry: Placed["entry"] }> = [];
  private placed: Placed[] = [];
  /** Index into `placed` of the first token not yet attached to a piece. */
  private attached = 0;
  private stoppedAt: number | undefined;
  private readonly longestStop: number;

  constructor(
    private readonly detokenize: Detokenize,
    private readonly stops: readonly string[],
  ) {
    this.longestStop = stops.reduce((n, s) => Math.max(n, s.length), 0);
  }

  /** True once a stop string was generated; push nothing more. */
  get stopped(): boolean {
    return this.stoppedAt !== undefined;
  }

  /** The text emitted so far (all of it after {@link finish}). */
  get text(): string {
    return this.full.slice(0, this.emitted);
  }

  /** Adds a generated token; returns the text that became safe to send, if any. */
  push(token: number, entry?: Omit<TokenLogprob, "offset">): TextPiece | undefined {
    if (this.stopped) return undefined;
    this.pending.push({ token, entry });
    const tokens = this.pending.map((p) => p.token);
    const text = this.detokenize(tokens, this.decoded.slice(-CONTEXT_TOKENS));
    // A token that ends mid-character decodes to U+FFFD; wait for the rest of the character.
    if (text.endsWith("\uFFFD") && this.pending.length < MAX_PENDING_TOKENS) return undefined;
    this.place(text);
    return this.release(false);
  }

  /** Flushes everything held back (call once, at the end). */
  finish(): TextPiece | undefined {
    if (!this.stopped && this.pending.length > 0) {
      this.place(this.detokenize(this.pending.map((p) => p.token), this.decoded.slice(-CONTEXT_TOKENS)));
    }
    return this.release(true);
  }

  private place(text: string): void {
    const start = this.full.length;
    for (const p of this.pending) {
      this.decoded.push(p.token);
      this.placed.push({ start, entry: p.entry });
    }
    this.pending = [];
    this.full += text;
  }

  private release(final: boolean): TextPiece | undefined {
    if (!this.stopped) {
      const stopAt = this.findStop();
      if (stopAt !== undefined) {
        this.stoppedAt = stopAt;
        this.full = this.full.slice(0, stopAt);
      }
    }
    const end = this.stopped || final ? this.full.length : this.full.length - this.partialStopLength();
    // After a stop, tokens whose text starts at or past the cut belong to the stop string: dropped.
    const attachAll = final && !this.stopped;
    const logprobs: TokenLogprob[] = [];
    let tokens = 0;
    while (this.attached < this.placed.length && (attachAll || this.placed[this.attached]!.start < end)) {
      const p = this.placed[this.attached++]!;
      tokens++;
      if (p.entry) logprobs.push({ ...p.entry, offset: p.start });
    }
    const text = end > this.emitted ? this.full.slice(this.emitted, end) : "";
    this.emitted = Math.max(this.emitted, end);
    if (text === "" && tokens === 0) return undefined;
    return { text, tokens, logprobs };
  }

  /** Earliest start of a stop string at or after the emitted text. */
  private findStop(): number | undefined {
    let best: number | undefined;
    for (const s of this.stops) {
      const at = this.full.indexOf(s, Math.max(0, this.emitted));
      if (at !== -1 && (best === undefined || at < best)) best = at;
    }
    return best;
  }

  /** Length of the longest tail of the text that is the beginning of a stop string. */
  private partialStopLength(): number {
    const maxLen = Math.min(this.longestStop - 1, this.full.length - this.emitted);
    for (let len = maxLen; len > 0; len--) {
      const tail = this.full.slice(this.full.length - len);
      if (this.stops.some((s) => s.startsWith(tail))) return len;
    }
    return 0;
  }
}
