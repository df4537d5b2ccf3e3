/**
 * Guardrail failures → the gateway's one error envelope: block mode is the
 * client's (400 naming the entity types, never the values); a detection
 * failure is ours and fails closed (503, nothing was sent on).
 */
import { GatewayError, invalidRequest, unavailable } from "../errors.js";
import { PiiBlockedError, PiiDetectionError } from "./errors.js";

/**
 * @example
 * ```ts
 * toGuardrailError(new PiiBlockedError(["email"])).status; // 400
 * ```
 */
export function toGuardrailError(err: unknown): unknown {
  if (err instanceof PiiBlockedError) return invalidRequest(err.message, { param: "messages", code: "pii_detected" });
  if (err instanceof PiiDetectionError) {
    const gw = unavailable(err.message, 1000);
    return new GatewayError(503, gw.type, gw.message, { code: "guardrail_unavailable", headers: gw.headers, cause: err });
  }
  return err;
}
