/**
 * Tool calls on the way out: `call_…` ids (given by the server, not the
 * engine) and OpenAI's streamed `delta.tool_calls` pieces.
 */
import { randomBytes } from "node:crypto";
import type { GeneratedToolCall, ToolCall, ToolCallFragment } from "../../types.js";

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A new tool call id in OpenAI's style.
 *
 * @example
 * ```ts
 * newToolCallId(); // "call_Xk3v9QpL2mN8rT1wY6zB4cD7"
 * ```
 */
export function newToolCallId(): string {
  const bytes = randomBytes(24);
  let id = "call_";
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

/**
 * The ids of one choice's calls: stable per call index, so a streamed call and
 * its later argument pieces agree.
 *
 * @example
 * ```ts
 * const ids = new ToolCallIds();
 * ids.of(0) === ids.of(0); // true
 * ```
 */
export class ToolCallIds {
  private readonly ids = new Map<number, string>();

  of(index: number): string {
    let id = this.ids.get(index);
    if (!id) {
      id = newToolCallId();
      this.ids.set(index, id);
    }
    return id;
  }
}

/** OpenAI's streamed tool-call delta item. */
export type ToolCallDelta =
  | { index: number; id: string; type: "function"; function: { name: string; arguments: string } }
  | { index: number; function: { arguments: string } };

/**
 * Fragments → OpenAI stream items: the first piece of a call carries id, type,
 * name and empty arguments; the arguments follow as their own pieces.
 *
 * @example
 * ```ts
 * toolCallDeltas([{ index: 0, name: "f", arguments: "" }, { index: 0, arguments: "{\"a\":1}" }], ids);
 * // [{ index: 0, id: "call_…", type: "function", function: { name: "f", arguments: "" } }, { index: 0, function: { arguments: "{\"a\":1}" } }]
 * ```
 */
export function toolCallDeltas(fragments: readonly ToolCallFragment[], ids: ToolCallIds): ToolCallDelta[] {
  const out: ToolCallDelta[] = [];
  for (const f of fragments) {
    if (f.name !== undefined) out.push({ index: f.index, id: ids.of(f.index), type: "function", function: { name: f.name, arguments: "" } });
    if (f.arguments) out.push({ index: f.index, function: { arguments: f.arguments } });
  }
  return out;
}

/**
 * Generated calls in OpenAI's message shape, with ids.
 *
 * @example
 * ```ts
 * withIds([{ name: "f", arguments: "{}" }], new ToolCallIds());
 * // [{ id: "call_…", type: "function", function: { name: "f", arguments: "{}" } }]
 * ```
 */
export function withIds(calls: readonly GeneratedToolCall[], ids: ToolCallIds): ToolCall[] {
  return calls.map((c, i) => ({ id: ids.of(i), type: "function", function: { name: c.name, arguments: c.arguments } }));
}
