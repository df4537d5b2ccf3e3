/**
 * Reads a `text/event-stream` body as it arrives, yielding each event's data
 * with the time its bytes were read: what a client measures TTFT and
 * inter-token latency from. The remote backend reads upstream streams with
 * it; the load-test runner measures with it.
 */

export interface TimedEvent {
  data: string;
  /** performance.now() when the chunk holding the end of this event was read. */
  at: number;
}

/**
 * @example
 * ```ts
 * for await (const { data, at } of sseEvents(res.body!)) if (data === "[DONE]") break;
 * ```
 */
export async function* sseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<TimedEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of body) {
    const at = performance.now();
    buffer += decoder.decode(bytes, { stream: true });
    let sep = buffer.search(/\r?\n\r?\n/);
    while (sep !== -1) {
      const event = buffer.slice(0, sep);
      buffer = buffer.slice(sep).replace(/^\r?\n\r?\n/, "");
      const data = event
        .split(/\r?\n/)
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) yield { data, at };
      sep = buffer.search(/\r?\n\r?\n/);
    }
  }
}
