/**
 * Errors the guardrails raise. They carry what the caller may know (the entity
 * types, never the values); the HTTP layer maps them to statuses
 * (`PiiBlockedError` → 400, `PiiDetectionError` → 503).
 */
import type { PiiEntityType } from "./types.js";

/** Block mode found personal data in the request. */
export class PiiBlockedError extends Error {
  readonly types: PiiEntityType[];

  constructor(types: PiiEntityType[]) {
    super(`The request contains personal data (${types.join(", ")}), which this key's guardrails do not allow.`);
    this.name = "PiiBlockedError";
    this.types = types;
  }
}

/**
 * Detection could not complete (a detector threw, or the time budget ran out).
 * The request must fail closed: nothing unscanned goes further.
 */
export class PiiDetectionError extends Error {
  readonly reason: "error" | "timeout";

  constructor(reason: "error" | "timeout", cause?: unknown) {
    super(
      reason === "timeout"
        ? "Personal-data detection ran out of its time budget; the request was not processed."
        : "Personal-data detection failed; the request was not processed.",
      cause === undefined ? undefined : { cause },
    );
    this.name = "PiiDetectionError";
    this.reason = reason;
  }
}
