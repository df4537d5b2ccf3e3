/**
 * PII guardrails: detect personal data (email, phone, card, IBAN, SSN, IP) with
 * validators, replace it by typed placeholders before anything downstream sees
 * it, scan outputs (streams included, holding back only what could still grow
 * into a value), restore the caller's own values for the caller only, and fail
 * closed when detection fails.
 *
 * @example
 * ```ts
 * import { PiiGuard } from "../guardrails/index.js";
 * const guard = new PiiGuard({ policy: { mode: "redact", entities: ["email", "phone"], restore: true } });
 * const redaction = guard.begin();
 * const prompt = redaction.redactInput(userText); // what the shard, cache and logs see
 * ```
 */
export { PII_ENTITY_TYPES, type PiiEntityType, type PiiMatch, type PiiMode, type PiiDirection, type PiiObserver } from "./types.js";
export { PiiBlockedError, PiiDetectionError } from "./errors.js";
export { PiiDetector, type PiiDetectorOptions } from "./pii-detector.js";
export { luhnValid, type DetectorOptions, type EntityDetector } from "./detectors.js";
export { holdbackStart } from "./holdback.js";
export { PLACEHOLDER_PATTERN } from "./placeholders.js";
export { LogprobTracker, type TextEdit } from "./text-edits.js";
export {
  PiiGuard,
  PiiRedaction,
  OutputStreamScanner,
  type PiiGuardOptions,
  type PiiPolicy,
  type ScannedText,
  type StreamScan,
} from "./pii-guard.js";
export { redactGenerationInput, GuardedGeneration, RestoredGeneration, restoreChunk, restoreResult } from "./generation-stage.js";
export { Guardrails, type GuardrailsOptions } from "./guardrails.js";
export { toGuardrailError } from "./guardrail-errors.js";
