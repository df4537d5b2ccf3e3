/**
 * Body limit: 413 before the body is read whole. A declared Content-Length over
 * the limit is refused at once; the rest of the upload is drained (up to a cap)
 * so the client, still sending, reads our 413 instead of a reset connection.
 * A body without a declared length (chunked) is counted as it is read
 * (`readBodyText` in `../body.ts`, which reads the limit this sets). Nothing
 * here touches `c.req.raw`, so no WHATWG `Request` is built for the check.
 */
import type { Readable } from "node:stream";
import type { MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { payloadTooLarge } from "../../../errors.js";
import type { AppEnv } from "../env.js";
import { nodeBindings } from "../../../util/node-bindings.js";

export interface BodyLimitOptions {
  maxBytes: number;
  /** Past this many bytes we stop draining and let the connection close. Default 64 MiB. */
  maxDrainBytes?: number;
  /**
   * Who counts a body with no declared length: `reader` (default) — `readBodyText`, which every JSON
   * route reads through; `stream` — Hono's streaming body limit around the request body, for routes
   * that read it some other way (multipart uploads via `c.req.parseBody()`).
   */
  chunked?: "reader" | "stream";
}

async function drain(body: AsyncIterable<Uint8Array> | null, cap: number): Promise<void> {
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
export function bodyLimit({ maxBytes, maxDrainBytes = 64 * 1024 * 1024, chunked = "reader" }: BodyLimitOptions): MiddlewareHandler<AppEnv> {
  const streaming =
    chunked === "stream"
      ? honoBodyLimit({
          maxSize: maxBytes,
          onError: () => {
            throw payloadTooLarge(maxBytes);
          },
        })
      : undefined;
  return async function bodyLimitMiddleware(c, next) {
    const declared = Number(c.req.header("content-length"));
    if (Number.isFinite(declared) && declared > maxBytes) {
      const incoming: Readable | undefined = nodeBindings(c)?.incoming;
      await drain(incoming ?? c.req.raw.body, maxDrainBytes);
      throw payloadTooLarge(maxBytes);
    }
    c.set("bodyLimitBytes", maxBytes);
    return streaming ? streaming(c, next) : next();
  };
}
