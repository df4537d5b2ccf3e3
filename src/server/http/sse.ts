/**
 * A minimal SSE writer over a web ReadableStream. Unlike a callback-style
 * helper, it lets the handler decide when the response starts: we start it at
 * the first token, so failures before that are ordinary HTTP errors. It
 * writes frames already rendered by a wire API's renderer (see
 * `generation/renderer.ts`), so it knows nothing of any one API's events.
 *
 * Frames written in the same tick are coalesced: they are joined and
 * encoded once, at the end of the tick (a microtask), and reach the socket
 * as one write — a cache replay or an upstream read holding several events
 * costs one write, not one per event.
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
  let pending = "";
  let ending = false;
  const flush = () => {
    const text = pending;
    pending = "";
    if (closed) return;
    try {
      if (text !== "") controller.enqueue(encoder.encode(text));
      if (ending) {
        closed = true;
        controller.close();
      }
    } catch {
      // Already errored or cancelled.
      closed = true;
    }
  };
  const write = (frames: string) => {
    if (closed || ending || frames === "") return;
    if (pending === "") queueMicrotask(flush);
    pending += frames;
  };
  return {
    stream,
    write,
    end: (frames) => {
      if (closed || ending) return;
      if (frames) write(frames);
      ending = true;
      if (pending === "") flush();
    },
    get closed() {
      return closed;
    },
  };
}
