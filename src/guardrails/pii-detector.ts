/**
 * The composite detector: runs the enabled entity detectors over a text within
 * a time budget and resolves overlaps. Any failure — a detector throwing, the
 * budget running out — becomes a {@link PiiDetectionError}, so callers fail
 * closed instead of passing the text on unscanned.
 */
import { entityDetectors, resolveOverlaps, type DetectorOptions, type EntityDetector } from "./detectors.js";
import { PiiDetectionError } from "./errors.js";
import { PII_ENTITY_TYPES, type PiiEntityType, type PiiMatch } from "./types.js";

export interface PiiDetectorOptions extends DetectorOptions {
  /** Types to look for. Default: all of {@link PII_ENTITY_TYPES}. */
  entities?: readonly PiiEntityType[];
  /**
   * Time budget for one `detect` call, in milliseconds, checked after each
   * detector (detection is synchronous and cannot be interrupted mid-way).
   * Past it the call throws `PiiDetectionError("timeout")`. Default 250.
   */
  timeoutMs?: number;
  /** Replaces the built-in detector of a type (tests inject faults here). */
  overrides?: Partial<Record<PiiEntityType, EntityDetector>>;
  /** Monotonic clock in ms; default `performance.now`. */
  now?: () => number;
}

/**
 * @example
 * ```ts
 * const detector = new PiiDetector({ entities: ["email", "phone"] });
 * detector.detect("mail me at ann@example.com"); // [{ type: "email", start: 11, end: 26, value: "ann@example.com" }]
 * ```
 */
export class PiiDetector {
  readonly entities: readonly PiiEntityType[];
  private readonly detectors: [PiiEntityType, EntityDetector][];
  private readonly timeoutMs: number;
  private readonly overridden: ReadonlySet<PiiEntityType>;
  private readonly now: () => number;

  constructor(options: PiiDetectorOptions = {}) {
    this.entities = [...new Set(options.entities ?? PII_ENTITY_TYPES)];
    const builtIn = entityDetectors(options);
    this.detectors = this.entities.map((type) => [type, options.overrides?.[type] ?? builtIn[type]]);
    this.overridden = new Set(Object.keys(options.overrides ?? {}) as PiiEntityType[]);
    this.timeoutMs = options.timeoutMs ?? 250;
    this.now = options.now ?? (() => performance.now());
  }

  /** Non-overlapping matches in text order. Throws {@link PiiDetectionError} on any failure. */
  detect(text: string): PiiMatch[] {
    if (text.length === 0 || this.detectors.length === 0) return [];
    const started = this.now();
    const all: PiiMatch[] = [];
    const digits = countDigits(text);
    for (const [type, detector] of this.detectors) {
      if (!this.overridden.has(type) && !mayContain(type, text, digits)) continue;
      let found: PiiMatch[];
      try {
        found = detector(text);
      } catch (err) {
        throw new PiiDetectionError("error", err);
      }
      for (const m of found) {
        if (m.type !== type || m.start < 0 || m.end > text.length || m.end <= m.start) {
          throw new PiiDetectionError("error", new Error(`The ${type} detector returned an invalid span.`));
        }
        all.push(m);
      }
      if (this.now() - started >= this.timeoutMs) throw new PiiDetectionError("timeout");
    }
    return resolveOverlaps(all);
  }
}

function countDigits(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/**
 * A necessary condition for a value of `type` in `text`, cheap enough to skip
 * most detector runs on streamed chunks: emails hold "@", IPv6 addresses ":";
 * the digit counts are the shortest values (a 4-digit national phone number,
 * an IBAN's two check digits, a 13-digit card, a 9-digit SSN, IPv4's 4 digits).
 * Overridden detectors always run.
 */
function mayContain(type: PiiEntityType, text: string, digits: number): boolean {
  switch (type) {
    case "email":
      return text.includes("@");
    case "phone":
      return digits >= 4;
    case "credit_card":
      return digits >= 13;
    case "iban":
      return digits >= 2;
    case "ssn":
      return digits >= 9;
    case "ip":
      return digits >= 4 || text.includes(":");
  }
}
