/**
 * Structured JSON logs (pino). Message text and keys are never logged by
 * default: callers log ids, tenants, models, shards, statuses and durations.
 */
import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger };

export interface CreateLoggerOptions {
  level?: string;
  /** Where to write; stdout by default (tests pass a capture stream). */
  destination?: DestinationStream;
}

/**
 * @example
 * ```ts
 * const log = createLogger({ level: "info" });
 * log.info({ requestId, model, status: 200, durationMs: 12 }, "request");
 * ```
 */
export function createLogger({ level = "info", destination }: CreateLoggerOptions = {}): Logger {
  return pino(
    {
      level,
      base: { service: "switchyard" },
      // Belt and braces: never print credentials even if a caller logs a header object. Plain paths,
      // no wildcards: a wildcard makes every log call walk the logged object.
      redact: { paths: ["authorization", "headers.authorization", "apiKey", "key", "headers[\"x-api-key\"]"], censor: "[redacted]" },
    },
    destination,
  );
}
