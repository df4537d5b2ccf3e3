/**
 * Backend failures → the gateway's one error envelope: which failures are the
 * client's own (never retried, never trip a breaker), and which HTTP error a
 * client sees for each. The scheduler (`model-pool.ts`) only asks these two
 * questions; the answers live here.
 */
import { AbortError, GatewayError, engineFailure, invalidRequest, isAbortError, timeout, unavailable } from "../errors.js";
import { BackendError } from "./backend.js";

const CLIENT_CODES: ReadonlySet<string> = new Set(["context_length_exceeded", "invalid_grammar", "invalid_request", "aborted"]);

/**
 * Errors that are the client's own (never trip a breaker, never retried).
 *
 * @example
 * ```ts
 * isClientFault(new BackendError("invalid_request", "bad")); // true
 * isClientFault(new BackendError("crashed", "gone"));        // false
 * ```
 */
export function isClientFault(err: unknown): boolean {
  if (err instanceof AbortError || isAbortError(err)) return true;
  if (err instanceof GatewayError) return err.isClientError;
  if (err instanceof BackendError) return CLIENT_CODES.has(err.code);
  return false;
}

export interface ToClientErrorOptions {
  /** The request field a `context_length_exceeded` names: `messages` (default) for chats, `input` for embeddings. */
  inputParam?: string;
}

/**
 * Maps a backend failure to the one error envelope (aborts pass through).
 *
 * @example
 * ```ts
 * toClientError(new BackendError("context_length_exceeded", "too long")).status; // 400
 * ```
 */
export function toClientError(err: unknown, { inputParam = "messages" }: ToClientErrorOptions = {}): Error {
  if (err instanceof GatewayError || err instanceof AbortError) return err;
  if (err instanceof BackendError) {
    switch (err.code) {
      case "context_length_exceeded":
        return invalidRequest(err.message, { param: inputParam, code: "context_length_exceeded" });
      case "invalid_grammar":
        return invalidRequest(err.message, { param: err.param ?? "response_format", code: err.param?.startsWith("tools") ? "invalid_tools" : "invalid_response_format" });
      case "invalid_request":
        return invalidRequest(err.message, err.param ? { param: err.param } : {});
      case "crashed":
      case "not_ready":
        return unavailable("The model shard serving this request failed; please retry.", 1000);
      case "timeout":
        return timeout(err.message);
      default:
        return engineFailure(undefined, err); // the shard's own message goes to the log, not to the client
    }
  }
  if (isBreakerTimeoutError(err)) return timeout("The model shard did not produce a first token in time; please retry.");
  return engineFailure(undefined, err);
}

/** opossum's own timeout (admission through first token took longer than `breaker.timeoutMs`). */
function isBreakerTimeoutError(err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: string }).code === "ETIMEDOUT";
}
