/**
 * The request body, read once per request straight from the Node request
 * (see `node-bindings.ts`) and kept in the `bodyText` context variable for
 * whoever reads it next (the rate limiter's estimate, then the route's
 * parse). Checked as it is read: the body limit (a declared Content-Length
 * over it is refused earlier by the body-limit middleware; a chunked body is
 * counted here), strict UTF-8 (invalid bytes are a 400, never replaced with
 * U+FFFD), and a bound on JSON nesting before `JSON.parse` and anything that
 * walks the value recursively.
 */
import type { Context } from "hono";
import { invalidRequest, payloadTooLarge } from "../../errors.js";
import { nodeBindings } from "../../util/node-bindings.js";

export interface BodyVariables {
  /** The body as text, once read. */
  bodyText: string | undefined;
  /** Set by the body-limit middleware: the most bytes a body may have. */
  bodyLimitBytes: number | undefined;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function decode(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw invalidRequest("The request body is not valid UTF-8.", { code: "invalid_encoding" });
  }
}

function readIncoming(c: Context, limit: number): Promise<Uint8Array> {
  const { incoming } = nodeBindings(c)!;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
      incoming.off("aborted", onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // The rest is drained by @hono/node-server once the 413 is sent.
        reject(payloadTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err?: unknown) => {
      cleanup();
      reject(err instanceof Error ? err : new Error("The client closed the connection while sending the body.", { cause: err }));
    };
    incoming.on("data", onData);
    incoming.once("end", onEnd);
    incoming.once("error", onError);
    incoming.once("aborted", onError);
  });
}

/**
 * The body as text (read once, then from the context).
 *
 * @example
 * ```ts
 * const text = await readBodyText(c);
 * ```
 */
export async function readBodyText(c: Context): Promise<string> {
  const cached = c.get("bodyText") as string | undefined;
  if (cached !== undefined) return cached;
  const limit = (c.get("bodyLimitBytes") as number | undefined) ?? Infinity;
  let bytes: Uint8Array;
  if (nodeBindings(c)) bytes = await readIncoming(c, limit);
  else {
    bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > limit) throw payloadTooLarge(limit);
  }
  const text = decode(bytes);
  c.set("bodyText", text);
  // Hono's own body cache too: a later `c.req.text()` / `c.req.json()` reads this text, not the spent stream.
  // (Typed as the values, stored as promises of them: see hono/dist/request.js `#cachedBody`.)
  (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(text);
  return text;
}

/** Path segments shown in the error: enough to name the parameter, not 5,000 of them. */
const PATH_LEVELS = 4;

function paramOfPath(segments: ReadonlyArray<string | number>): string | null {
  if (segments.length === 0) return null;
  return segments.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${p}`)).join("");
}

/**
 * Where JSON text nests deeper than `maxDepth` (objects and arrays), as the
 * path of the parameter it happens under (`metadata.a.b`, at most
 * {@link PATH_LEVELS} segments), or `undefined` when it does not. One pass
 * over the characters, no recursion; strings are skipped. Malformed JSON is
 * left to `JSON.parse`.
 *
 * @example
 * ```ts
 * tooDeep('{"a":[[1]]}', 2); // { param: "a[0]" }
 * tooDeep('{"a":[1]}', 2);   // undefined
 * ```
 */
export function tooDeep(text: string, maxDepth: number): { param: string | null } | undefined {
  // Nesting d deep needs d opening brackets.
  if (text.length <= maxDepth) return undefined;
  let depth = 0;
  let stringStart = -1;
  let lastString = "";
  // Per level 1..PATH_LEVELS: is it an array, and the key or index being parsed in it.
  const isArray: boolean[] = [];
  const segment: Array<string | number> = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (stringStart >= 0) {
      if (ch === 92 /* \ */) i++;
      else if (ch === 34 /* " */) {
        if (depth <= PATH_LEVELS) lastString = text.slice(stringStart, i);
        stringStart = -1;
      }
      continue;
    }
    switch (ch) {
      case 34: // "
        stringStart = i + 1;
        break;
      case 123: // {
      case 91: // [
        depth++;
        if (depth > maxDepth) return { param: paramOfPath(segment.slice(0, Math.min(depth - 1, PATH_LEVELS))) };
        if (depth <= PATH_LEVELS) {
          isArray[depth - 1] = ch === 91;
          segment[depth - 1] = ch === 91 ? 0 : "";
        }
        break;
      case 125: // }
      case 93: // ]
        depth--;
        break;
      case 58: // :
        if (depth >= 1 && depth <= PATH_LEVELS && !isArray[depth - 1]) segment[depth - 1] = lastString;
        break;
      case 44: // ,
        if (depth >= 1 && depth <= PATH_LEVELS && isArray[depth - 1]) segment[depth - 1] = (segment[depth - 1] as number) + 1;
        break;
      default:
    }
  }
  return undefined;
}
