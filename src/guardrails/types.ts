/**
 * Types shared inside the PII guardrails and with their callers.
 */

/** The kinds of personal data the detectors know. */
export const PII_ENTITY_TYPES = ["email", "phone", "credit_card", "iban", "ssn", "ip"] as const;
export type PiiEntityType = (typeof PII_ENTITY_TYPES)[number];

/** One detected value: `text.slice(start, end) === value`. */
export interface PiiMatch {
  type: PiiEntityType;
  start: number;
  end: number;
  value: string;
}

/**
 * What to do with personal data in a request.
 * - `redact`: replace each value with a typed placeholder (`<EMAIL_1>`) before the
 *   prompt reaches a shard, the cache, retrieval, logs or traces; scan the answer too.
 * - `block`: refuse a request that carries any (400 naming the types).
 * - `off`: do nothing.
 */
export type PiiMode = "redact" | "block" | "off";

/**
 * Where a value was found: in what the caller sent, in what the model answered, or in a retrieved
 * passage put into the prompt (a tenant's document: redacted, never restored, never blocked on).
 */
export type PiiDirection = "input" | "output" | "retrieved";

/** Receives counts (never values) of what the guardrails did. */
export interface PiiObserver {
  /** `count` values of `type` were replaced (or, in block mode, found) in `direction`. */
  redacted?(type: PiiEntityType, direction: PiiDirection, count: number): void;
  /** A request was refused in block mode because of `types`. */
  blocked?(types: PiiEntityType[]): void;
  /** Detection failed (exception or time budget); the request failed closed. */
  failed?(reason: "error" | "timeout"): void;
}
