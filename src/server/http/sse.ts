/**
 * A minimal SSE writer over a web ReadableStream. Unlike a callback-style
 * helper, it lets the handler decide when the response starts: we start it at
 * the first token, so failures before that are ordinary HTTP errors.
 */
import type { GatewayError } from "../../errors.js";
import { errorBody } from "../../errors.js";

const encoder = new TextEncoder();

export interface SseWriter {
  readonly stream: ReadableStream<Uint8Array>;
  send(data: object): void;
  /** Ends with an OpenAI error event, then `[DONE]` (never a fabricated finish_reason). */
  fail(err: GatewayError): void;
  done(): void;
  readonly closed: boolean;
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
} as const;

/** @param onCancel called when the client goes away (the body is cancelled). */
export function createSseWriter(onCancel: () => void): SseWriter {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      closed = true;
      onCancel();
    },
  });
  const write = (payload: string) => {
    if (closed) return;
    try {
      controller.enqueue(encoder.encode(`data: ${payload}\n\n`));
    } catch {
      closed = true;
    }
  };
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      controller.close();
    } catch {
      // Already errored or cancelled.
    }
  };
  return {
    stream,
    send: (data) => write(JSON.stringify(data)),
    fail: (err) => {
      write(JSON.stringify(errorBody(err)));
      write("[DONE]");
      close();
    },
    done: () => {
      write("[DONE]");
      close();
    },
    get closed() {
      return closed;
    },
  };
}
