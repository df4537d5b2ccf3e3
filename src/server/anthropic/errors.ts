/**
 * Anthropic's error envelope, `{"type":"error","error":{"type","message"}}`,
 * with Anthropic's status codes. Every error still starts as a GatewayError
 * (one error module); this only maps how /v1/messages shows it: an overloaded
 * gateway (503) is Anthropic's 529 `overloaded_error`, a deadline its 504
 * `timeout_error`, anything else of ours a 500 `api_error`.
 */
import type { GatewayError } from "../../errors.js";

export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "timeout_error"
  | "api_error"
  | "overloaded_error";

export interface AnthropicErrorBody {
  type: "error";
  error: { type: AnthropicErrorType; message: string };
  request_id?: string;
}

/** Status and `error.type` of a gateway error on the Messages API. */
export function anthropicStatus(err: GatewayError): { status: number; type: AnthropicErrorType } {
  switch (err.status) {
    case 400:
    case 422:
      return { status: 400, type: "invalid_request_error" };
    case 401:
      return { status: 401, type: "authentication_error" };
    case 403:
      return { status: 403, type: "permission_error" };
    case 404:
      return { status: 404, type: "not_found_error" };
    case 413:
      return { status: 413, type: "request_too_large" };
    case 429:
      return { status: 429, type: "rate_limit_error" };
    case 503:
      return { status: 529, type: "overloaded_error" };
    case 504:
      return { status: 504, type: "timeout_error" };
    default:
      return err.status >= 400 && err.status < 500 ? { status: err.status, type: "invalid_request_error" } : { status: 500, type: "api_error" };
  }
}

/**
 * @example
 * ```ts
 * anthropicErrorBody(invalidRequest("max_tokens: Field required"), "req_1");
 * // { type: "error", error: { type: "invalid_request_error", message: "max_tokens: Field required" }, request_id: "req_1" }
 * ```
 */
export function anthropicErrorBody(err: GatewayError, requestId?: string): AnthropicErrorBody {
  // Anthropic prefixes the offending field; our messages name it through `param`.
  const message = err.param && !err.message.includes(err.param) ? `${err.param}: ${err.message}` : err.message;
  return { type: "error", error: { type: anthropicStatus(err).type, message }, ...(requestId ? { request_id: requestId } : {}) };
}
