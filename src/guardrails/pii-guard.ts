/**
 * The PII guardrail of one policy ({@link PiiGuard}) and its per-request state
 * ({@link PiiRedaction}): redacts what the caller sends before anything else
 * sees it, scans what the model answers (streams included), and maps the
 * caller's own placeholders back for the caller when `restore` is on.
 *
 * What leaves a `PiiRedaction` in "stored" form (redacted input, redacted
 * output) is what shards, the cache, retrieval, logs and traces may see; the
 * "caller" form (restored) goes only into the HTTP response.
 */
import { PiiBlockedError } from "./errors.js";
import { holdbackStart, maxSpan } from "./holdback.js";
import { PiiDetector, type PiiDetectorOptions } from "./pii-detector.js";
import { PlaceholderTable } from "./placeholders.js";
import type { TextEdit } from "./text-edits.js";
import type { PiiDirection, PiiEntityType, PiiMatch, PiiMode, PiiObserver } from "./types.js";

export interface PiiPolicy {
  /** `redact` | `block` | `off` (see {@link PiiMode}). */
  mode: PiiMode;
  /** Types to detect; an empty list detects nothing. */
  entities: readonly PiiEntityType[];
  /** Map the caller's placeholders in the answer back to the caller's values. */
  restore: boolean;
}

export interface PiiGuardOptions extends Omit<PiiDetectorOptions, "entities"> {
  policy: PiiPolicy;
  observer?: PiiObserver;
}

/** A piece of scanned output in both forms. */
export interface ScannedText {
  /** Redacted: what the cache, logs and traces may keep. */
  stored: string;
  /** What the caller receives: `stored` with the caller's own placeholders restored (when `restore` is on). */
  caller: string;
}

/**
 * A piece of a streamed (or whole) output after its scan: how many of the
 * received characters it covers and which of them were replaced.
 */
export interface StreamScan extends ScannedText {
  /** Received (raw) characters this piece covers, from where the previous piece ended. */
  consumed: number;
  /** Spans of those characters replaced by placeholders, relative to the piece's start, in order. */
  edits: TextEdit[];
}

const NOTHING_SENT: StreamScan = Object.freeze({ stored: "", caller: "", consumed: 0, edits: [] });

/**
 * @example
 * ```ts
 * const guard = new PiiGuard({ policy: { mode: "redact", entities: ["email"], restore: true } });
 * const r = guard.begin();
 * r.redactInput("write to ann@example.com"); // "write to <EMAIL_1>"
 * r.scanOutput("Sent to <EMAIL_1>.");        // { stored: "Sent to <EMAIL_1>.", caller: "Sent to ann@example.com." }
 * ```
 */
export class PiiGuard {
  readonly policy: PiiPolicy;
  private readonly detector: PiiDetector;
  private readonly observer: PiiObserver | undefined;

  constructor(options: PiiGuardOptions) {
    this.policy = options.policy;
    this.observer = options.observer;
    this.detector = new PiiDetector({ ...options, entities: options.policy.entities });
  }

  /** False when the policy can never change a text (mode `off` or no entities). */
  get active(): boolean {
    return this.policy.mode !== "off" && this.policy.entities.length > 0;
  }

  /** Per-request state: placeholder numbering and the caller's values. */
  begin(): PiiRedaction {
    return new PiiRedaction(this.policy, this.detector, this.observer);
  }
}

export class PiiRedaction {
  private readonly table = new PlaceholderTable();
  private readonly counts = new Map<PiiEntityType, number>();

  constructor(
    private readonly policy: PiiPolicy,
    private readonly detector: PiiDetector,
    private readonly observer: PiiObserver | undefined,
  ) {}

  private get active(): boolean {
    return this.policy.mode !== "off" && this.policy.entities.length > 0;
  }

  /**
   * Detects with the observer told about failures; throws `PiiDetectionError`
   * (the caller must fail closed).
   */
  private detect(text: string): PiiMatch[] {
    try {
      return this.detector.detect(text);
    } catch (err) {
      this.observer?.failed?.((err as { reason?: "error" | "timeout" }).reason ?? "error");
      throw err;
    }
  }

  /**
   * Redacts one piece of the caller's input. In block mode, throws
   * {@link PiiBlockedError} naming the types found. Throws `PiiDetectionError`
   * when detection fails.
   */
  redactInput(text: string): string {
    if (!this.active) return text;
    const matches = this.detect(text);
    if (matches.length === 0) return text;
    if (this.policy.mode === "block") {
      const types = [...new Set(matches.map((m) => m.type))];
      this.observer?.blocked?.(types);
      throw new PiiBlockedError(types);
    }
    return this.replace(text, matches, "input");
  }

  /**
   * Redacts a retrieved passage before it goes into the prompt: its values get
   * placeholders (shared with the request's, so one address is one placeholder)
   * that are never restored, and block mode does not refuse the caller for
   * what a document holds. Throws `PiiDetectionError` when detection fails.
   */
  redactRetrieved(text: string): string {
    if (!this.active) return text;
    return this.replace(text, this.detect(text), "retrieved");
  }

  /**
   * The stored form of a text for telemetry (a span's recorded completion):
   * the same placeholders as the answer, counted nowhere. Throws
   * `PiiDetectionError` when detection fails.
   */
  storedForm(text: string): string {
    if (!this.active) return text;
    return this.replace(text, this.detect(text), "output", false);
  }

  /** Scans a complete output text: redacts values the model produced, then restores for the caller. */
  scanOutput(text: string): ScannedText {
    return this.scanOutputEdits(text);
  }

  /**
   * {@link scanOutput}, also saying which spans of `text` were replaced (for the tokens' log probabilities);
   * `count: false` for a text already counted (scanned again only for its edits).
   */
  scanOutputEdits(text: string, count = true): StreamScan {
    if (!this.active) return { stored: text, caller: text, consumed: text.length, edits: [] };
    const { text: stored, edits } = this.replaceWithEdits(text, this.detect(text), "output", count);
    return { stored, caller: this.restore(stored), consumed: text.length, edits };
  }

  /** The caller's view of a stored (redacted) text. Identity unless `restore` is on. */
  restore(text: string): string {
    return this.active && this.policy.restore ? this.table.restore(text) : text;
  }

  /** {@link restore}, also giving the spans of `text` replaced. */
  restoreEdits(text: string): { text: string; edits: TextEdit[] } {
    return this.active && this.policy.restore ? this.table.restoreEdits(text) : { text, edits: [] };
  }

  /** A scanner for one streamed output (one per choice or tool call). */
  outputStream(): OutputStreamScanner {
    return new OutputStreamScanner(this, this.active ? this.policy.entities : []);
  }

  /** How many values of each type were replaced so far (input and output). */
  redactionCounts(): ReadonlyMap<PiiEntityType, number> {
    return this.counts;
  }

  /** @internal Used by {@link OutputStreamScanner}. */
  detectForStream(text: string): PiiMatch[] {
    return this.detect(text);
  }

  /** @internal Replaces `matches` (in text order, non-overlapping) by their placeholders and counts them. */
  replace(text: string, matches: PiiMatch[], direction: PiiDirection, count = true): string {
    return matches.length === 0 ? text : this.replaceWithEdits(text, matches, direction, count).text;
  }

  /** @internal {@link replace}, also giving the spans of `text` replaced and each placeholder's length. */
  replaceWithEdits(text: string, matches: PiiMatch[], direction: PiiDirection, count = true): { text: string; edits: TextEdit[] } {
    if (matches.length === 0) return { text, edits: [] };
    let out = "";
    let at = 0;
    const edits: TextEdit[] = [];
    const perType = new Map<PiiEntityType, number>();
    for (const m of matches) {
      const placeholder = this.table.placeholderFor(m.type, m.value, direction === "input");
      out += text.slice(at, m.start) + placeholder;
      edits.push({ start: m.start, end: m.end, length: placeholder.length });
      at = m.end;
      perType.set(m.type, (perType.get(m.type) ?? 0) + 1);
    }
    if (count) {
      for (const [type, n] of perType) {
        this.counts.set(type, (this.counts.get(type) ?? 0) + n);
        this.observer?.redacted?.(type, direction, n);
      }
    }
    return { text: out + text.slice(at), edits };
  }
}

/**
 * Redacts a streamed output chunk by chunk, holding back only the tail that
 * could still grow into a value (see `holdback.ts`) or a placeholder, so that
 * the concatenated output equals the redaction of the whole text.
 *
 * @example
 * ```ts
 * const s = redaction.outputStream();
 * s.push("mail ann@exa"); // { stored: "mail ", caller: "mail " }
 * s.push("mple.com now"); // { stored: "<EMAIL_1> now", ... }
 * s.flush();              // whatever is still held, scanned
 * ```
 */
export class OutputStreamScanner {
  /** Text received but not yet sent. */
  private pending = "";
  /** The last sent raw characters: left context for the detectors' boundary checks. */
  private context = "";
  private readonly contextLength: number;

  constructor(
    private readonly redaction: PiiRedaction,
    private readonly types: readonly PiiEntityType[],
  ) {
    this.contextLength = Math.min(64, maxSpan(types));
  }

  /** Characters currently held back (for tests and metrics). */
  get held(): number {
    return this.pending.length;
  }

  push(chunk: string): StreamScan {
    if (this.types.length === 0) return { stored: chunk, caller: this.redaction.restore(chunk), consumed: chunk.length, edits: [] };
    this.pending += chunk;
    return this.emit(holdbackStart(this.pending, this.types, true));
  }

  /** Scans and sends everything still held (call once, at the end of the stream). */
  flush(): StreamScan {
    if (this.types.length === 0 || this.pending.length === 0) return NOTHING_SENT;
    return this.emit(this.pending.length);
  }

  private emit(boundary: number): StreamScan {
    if (boundary === 0) return NOTHING_SENT;
    // Every value holds a digit, "@" or ":"; one that starts before the cut but reaches into the held tail lies
    // inside that tail's run (see holdback.ts). So text to send without any of them needs no detector run.
    if (!/[0-9@:]/.test(this.pending.slice(0, boundary))) return this.send(boundary, []);
    const offset = this.context.length;
    const text = this.context + this.pending;
    const matches = this.redaction.detectForStream(text);
    let cut = offset + boundary;
    // A value that straddles the cut waits whole; moving the cut back can only make it straddle earlier values, so repeat.
    for (let moved = true; moved; ) {
      moved = false;
      for (const m of matches) {
        if (m.start < cut && m.end > cut && m.start >= offset) {
          cut = m.start;
          moved = true;
        }
      }
    }
    if (cut <= offset) return NOTHING_SENT;
    // Values entirely in the already-sent context were handled then; one that began there (it should not) is cut to its unsent part.
    const own = matches
      .filter((m) => m.end > offset && m.start < cut)
      .map((m) => ({ ...m, start: Math.max(m.start, offset) - offset, end: m.end - offset, value: m.value.slice(Math.max(0, offset - m.start)) }));
    return this.send(cut - offset, own);
  }

  /** Sends `pending[0, length)` with `matches` (relative to `pending`) replaced. */
  private send(length: number, matches: PiiMatch[]): StreamScan {
    const sent = this.pending.slice(0, length);
    const { text: stored, edits } = this.redaction.replaceWithEdits(sent, matches, "output");
    this.pending = this.pending.slice(length);
    this.context = (this.context + sent).slice(-this.contextLength);
    return { stored, caller: this.redaction.restore(stored), consumed: length, edits };
  }
}
