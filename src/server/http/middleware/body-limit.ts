/**
 * Body limit: 413 before the body is read whole. A declared Content-Length over
 * the limit is refused at once; the rest of the upload is drained (up to a cap)
 * so the client, still sending, reads our 413 instead of a reset connection.
 * Chunked bodies are counted as they stream by Hono's own bodyLimit.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { payloadTooLarge } from "../../../errors.js";

export interface BodyLimitOptions {
  maxBytes: number;
  /** Past this many bytes we stop draining and let the connection close. Default 64 MiB. */
  maxDrainBytes?: number;
}

async function drain(body: ReadableStream<Uint8Array> | null, cap: number): Promise<void> {
  if (!body) return;
  let seen = 0;
  try {
    for await (const chunk of body) {
      seen += chunk.byteLength;
      if (seen > cap) break;
    }
  } catch {
    // Client went away mid-upload: nothing to drain.
  }
}

/**
 * @example
 * ```ts
 * app.use("/v1/*", bodyLimit({ maxBytes: 1024 * 1024 }));
 * ```
 */
export function bodyLimit({ maxBytes, maxDrainBytes = 64 * 1024 * 1024 }: BodyLimitOptions): MiddlewareHandler {
  const streaming = honoBodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw payloadTooLarge(maxBytes);
    },
  });
  return async function bodyLimitMiddleware(c, next) {
    const declared = Number(c.req.header("content-length"));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await drain(c.req.raw.body, maxDrainBytes);
      throw payloadTooLarge(maxBytes);
    }
    return streaming(c, next);
  };
}
