/**
 * A minimal SSE writer over a web ReadableStream. Unlike a callback-style
 * helper, it lets the handler decide when the response starts: we start it at
 * the first token, so failures before that are ordinary HTTP errors. It
 * writes frames already rendered by a wire API's renderer (see
 * `generation/renderer.ts`), so it knows nothing of any one API's events.
 */

const encoder = new TextEncoder();

export interface SseWriter {
  readonly stream: ReadableStream<Uint8Array>;
  /** Writes ready SSE text (one or more frames). */
  write(frames: string): void;
  /** Writes the last frames (if any) and ends the stream. */
  end(frames?: string): void;
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
  const write = (frames: string) => {
    if (closed || frames === "") return;
    try {
      controller.enqueue(encoder.encode(frames));
    } catch {
      closed = true;
    }
  };
  return {
    stream,
    write,
    end: (frames) => {
      if (frames) write(frames);
      if (closed) return;
      closed = true;
      try {
        controller.close();
      } catch {
        // Already errored or cancelled.
      }
    },
    get closed() {
      return closed;
    },
  };
}
