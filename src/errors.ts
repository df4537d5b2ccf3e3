/**
 * The one error module. Every error the gateway returns — validation, auth,
 * limits, routing, engine failures, errors inside an SSE stream — is a
 * {@link GatewayError} rendered by {@link errorBody} into OpenAI's envelope:
 * `{"error":{"message","type","param","code"}}`.
 *
 * @example
 * ```ts
 * throw invalidRequest("messages must not be empty", { param: "messages" });
 * ```
 */

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "server_error"
  | "timeout_error";

export interface ErrorBody {
  error: { message: string; type: ErrorType; param: string | null; code: string | null };
}

export interface GatewayErrorInit {
  param?: string | null;
  code?: string | null;
  /** Extra response headers (Retry-After, WWW-Authenticate, ...). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(status: number, type: ErrorType, message: string, init: GatewayErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "GatewayError";
    this.status = status;
    this.type = type;
    this.param = init.param ?? null;
    this.code = init.code ?? null;
    this.headers = init.headers ?? {};
  }

  /** True for errors caused by the client; these never count against a shard's breaker. */
  get isClientError(): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}

export function errorBody(err: GatewayError): ErrorBody {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}

export const invalidRequest = (message: string, init: GatewayErrorInit = {}): GatewayError =>
  new GatewayError(400, "invalid_request_error", message, init);

/**
 * The same client error naming another request field: a search embeds its
 * `query`, so the embedding model's `context_length_exceeded` (which names
 * `input`) is the query's. Anything else is returned unchanged.
 *
 * @example
 * ```ts
 * await rag.search(q).catch((err: unknown) => { throw withParam(err, "context_length_exceeded", "query"); });
 * ```
 */
export function withParam(err: unknown, code: string, param: string): unknown {
  if (!(err instanceof GatewayError) || err.code !== code) return err;
  return new GatewayError(err.status, err.type, err.message, { param, code, headers: err.headers, cause: err.cause });
}

export const unauthorized = (message = "Incorrect or missing API key."): GatewayError =>
  new GatewayError(401, "authentication_error", message, {
    code: "invalid_api_key",
    headers: { "www-authenticate": 'Bearer realm="switchyard"' },
  });

export const forbidden = (message: string, code = "model_not_allowed"): GatewayError =>
  new GatewayError(403, "permission_error", message, { code });

export const notFound = (message: string, init: GatewayErrorInit = {}): GatewayError =>
  new GatewayError(404, "invalid_request_error", message, { code: "not_found", ...init });

export const modelNotFound = (model: string): GatewayError =>
  new GatewayError(404, "invalid_request_error", `The model '${model}' does not exist or you do not have access to it.`, {
    param: "model",
    code: "model_not_found",
  });

export const payloadTooLarge = (limitBytes: number): GatewayError =>
  new GatewayError(413, "invalid_request_error", `Request body exceeds the limit of ${limitBytes} bytes.`, {
    code: "request_too_large",
  });

export const rateLimited = (message: string, retryAfterMs: number, headers: Record<string, string> = {}): GatewayError =>
  new GatewayError(429, "rate_limit_error", message, {
    code: "rate_limit_exceeded",
    headers: retryHeaders(retryAfterMs, headers),
  });

/**
 * 429 for a request that can never be admitted (its reservation alone exceeds
 * the key's tokens/min): no `Retry-After`, since waiting never helps.
 */
export const requestTooLarge = (message: string, headers: Record<string, string> = {}): GatewayError =>
  new GatewayError(429, "rate_limit_error", message, { code: "rate_limit_exceeded", param: "max_tokens", headers });

/** 503 for a full queue, a queue wait past its limit, or every shard out of rotation. */
export const overloaded = (message: string, retryAfterMs: number): GatewayError =>
  new GatewayError(503, "server_error", message, { code: "server_is_overloaded", headers: retryHeaders(retryAfterMs) });

export const unavailable = (message: string, retryAfterMs?: number): GatewayError =>
  new GatewayError(503, "server_error", message, {
    code: "service_unavailable",
    headers: retryAfterMs === undefined ? {} : retryHeaders(retryAfterMs),
  });

/**
 * 503 for a request this gateway will not finish because it is shutting down: refused after SIGTERM,
 * or ended at the drain deadline (still queued, or streaming: then as the stream's error event).
 * `Retry-After` says a retry (on another replica, or here after the restart) is welcome.
 */
export const shuttingDown = (retryAfterMs: number, message = "The server is shutting down; retry the request."): GatewayError =>
  new GatewayError(503, "server_error", message, { code: "server_shutting_down", headers: retryHeaders(retryAfterMs) });

export const timeout = (message: string): GatewayError =>
  new GatewayError(504, "timeout_error", message, { code: "timeout" });

/** An engine failure: the message is ours, never the internal one (no paths or stacks leak). */
export const engineFailure = (message = "The model backend failed while generating.", cause?: unknown): GatewayError =>
  new GatewayError(500, "server_error", message, { code: "engine_error", cause });

function retryHeaders(retryAfterMs: number, extra: Record<string, string> = {}): Record<string, string> {
  const ms = Math.max(0, Math.ceil(retryAfterMs));
  return { "retry-after": String(Math.max(1, Math.ceil(ms / 1000))), "retry-after-ms": String(ms), ...extra };
}

/**
 * The one abort type: the caller went away (client disconnect, a cancelled
 * stream) or its own signal fired. Nobody reads the answer; the HTTP layer
 * closes quietly (499) instead of rendering an error. `cause` is the signal's
 * reason, so a caller can still tell a disconnect from its own deadline.
 *
 * @example
 * ```ts
 * if (signal.aborted) throw new AbortError(signal.reason);
 * ```
 */
export class AbortError extends Error {
  constructor(cause?: unknown, message = "The operation was aborted.") {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "AbortError";
  }
}

/** True for {@link AbortError} and for DOM-style aborts (`name === "AbortError"`, e.g. from `fetch`). */
export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError";
}

/** Maps anything thrown to a GatewayError; unknown errors become a generic 500 with no internals. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return engineFailure("The server had an error while processing your request.", err);
}
