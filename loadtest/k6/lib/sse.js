// @ts-check
/**
 * Splits a complete `text/event-stream` body into its `data:` payloads. Plain
 * k6 hands us the body once the stream has ended, so this is all we can do
 * with it: check it, and find the usage chunk that carries the gateway timings.
 */

/**
 * @param {string} body
 * @returns {string[]} payloads, `[DONE]` included
 * @example sseData('data: {"a":1}\n\ndata: [DONE]\n\n') // ['{"a":1}', "[DONE]"]
 */
export function sseData(body) {
  /** @type {string[]} */
  const out = [];
  for (const event of body.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).replace(/^ /, ""))
      .join("\n");
    if (data) out.push(data);
  }
  return out;
}
