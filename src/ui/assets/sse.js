// @ts-check
/* global TextDecoder */
/**
 * Server-sent events from a fetch() response body. EventSource cannot POST or
 * send an Authorization header, and fetch gives us AbortController for Stop.
 */

/**
 * Yields the `data:` payload of each event as it arrives (`[DONE]` included),
 * however the bytes were split across network reads.
 *
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<string>}
 */
export async function* sseData(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // Events end with a blank line; normalise CRLF so one rule finds them.
      buffer = buffer.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
          .join("\n");
        if (data) yield data;
      }
      if (done) {
        finished = true;
        return;
      }
    }
  } finally {
    // The consumer stopped early (an error event, Stop): tell the server we are gone.
    if (!finished) reader.cancel().catch(() => undefined);
    else reader.releaseLock();
  }
}
