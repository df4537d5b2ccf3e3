/**
 * Renders one generation as an Anthropic `message` and, when streamed, as
 * Anthropic's events: `message_start`, per content block `content_block_start`
 * → `content_block_delta` (`text_delta` | `input_json_delta`)… →
 * `content_block_stop` (a `ping` after the first block starts), then
 * `message_delta` (stop_reason, usage) and `message_stop`; a failure after the
 * stream started is an `error` event. Body and stream come from the same
 * renderer, so they agree block for block.
 */
import { violationsBlock } from "../generation/schema-stage.js";
import type { SchemaViolation } from "../../types.js";
import { randomBytes } from "node:crypto";
import type { GatewayError } from "../../errors.js";
import type { GeneratedChunk, GenerationResult } from "../../types.js";
import { anthropicErrorBody } from "./errors.js";

export type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use";

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  service_tier: "standard";
}

export type ContentBlock = { type: "text"; text: string; citations: null } | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: ContentBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
  /** Extension: where the output breaks the request's schemas. */
  switchyard?: { schema_violations?: Array<SchemaViolation & { choice: number }> };
}

/** One streamed event: its `type` is also the SSE event name. */
export type AnthropicEvent = { type: string } & Record<string, unknown>;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * An id in Anthropic's style.
 *
 * @example
 * ```ts
 * anthropicId("toolu"); // "toolu_01…" (24 letters and digits after the prefix)
 * ```
 */
export function anthropicId(prefix: "msg" | "toolu"): string {
  let id = `${prefix}_01`;
  for (const b of randomBytes(22)) id += ALPHABET[b % ALPHABET.length];
  return id;
}

function usageOf(inputTokens: number, outputTokens: number): AnthropicUsage {
  // Anthropic's cache counters are prompt-cache billing; a KV prefix reused on a shard is not that.
  return { input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, service_tier: "standard" };
}

/** Parsed tool input; arguments cut short by max_tokens are not JSON and give `{}`. */
function parseInput(args: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(args === "" ? "{}" : args);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The stop reason a client sees (`stop_sequence` when the backend reports which stop string matched).
 *
 * @example
 * ```ts
 * stopReasonOf({ finishReason: "stop", toolCalls: [call] }); // "tool_use"
 * ```
 */
export function stopReasonOf(result: Pick<GenerationResult, "finishReason" | "toolCalls" | "stopSequence">): StopReason {
  if (result.finishReason === "length") return "max_tokens";
  if (result.toolCalls?.length) return "tool_use";
  return result.stopSequence ? "stop_sequence" : "end_turn";
}

interface OpenBlock {
  index: number;
  block: ContentBlock;
  /** Text or JSON streamed so far. */
  streamed: string;
  closed: boolean;
}

/**
 * @example
 * ```ts
 * const r = new AnthropicRenderer({ id: anthropicId("msg"), model: "tiny" });
 * send(r.start(promptTokens));
 * for (const chunk of chunks) send(r.chunk(chunk));
 * const { events, message } = r.finish(result);
 * ```
 */
export class AnthropicRenderer {
  private text: OpenBlock | undefined;
  private readonly calls = new Map<number, OpenBlock>();
  private readonly blocks: OpenBlock[] = [];
  private pinged = false;

  constructor(private readonly ctx: { id: string; model: string }) {}

  private message(content: ContentBlock[], stopReason: StopReason | null, usage: AnthropicUsage, stopSequence: string | null = null): AnthropicMessage {
    return { id: this.ctx.id, type: "message", role: "assistant", model: this.ctx.model, content, stop_reason: stopReason, stop_sequence: stopSequence, usage };
  }

  /** `message_start`, with the prompt's token count when known before the first token. */
  start(inputTokens: number): AnthropicEvent[] {
    return [{ type: "message_start", message: this.message([], null, usageOf(inputTokens, 0)) }];
  }

  private open(block: ContentBlock, events: AnthropicEvent[]): OpenBlock {
    const open: OpenBlock = { index: this.blocks.length, block, streamed: "", closed: false };
    this.blocks.push(open);
    const start = block.type === "text" ? { type: "text", text: "", citations: null } : { ...block, input: {} };
    events.push({ type: "content_block_start", index: open.index, content_block: start });
    if (!this.pinged) {
      this.pinged = true;
      events.push({ type: "ping" });
    }
    return open;
  }

  private close(open: OpenBlock, events: AnthropicEvent[]): void {
    if (open.closed) return;
    open.closed = true;
    events.push({ type: "content_block_stop", index: open.index });
  }

  private textDelta(text: string, events: AnthropicEvent[]): void {
    if (!this.text || this.text.closed) this.text = this.open({ type: "text", text: "", citations: null }, events);
    this.text.streamed += text;
    events.push({ type: "content_block_delta", index: this.text.index, delta: { type: "text_delta", text } });
  }

  private callBlock(index: number, name: string, events: AnthropicEvent[]): OpenBlock {
    const known = this.calls.get(index);
    if (known) return known;
    if (this.text) this.close(this.text, events);
    const open = this.open({ type: "tool_use", id: anthropicId("toolu"), name, input: {} }, events);
    this.calls.set(index, open);
    return open;
  }

  private jsonDelta(open: OpenBlock, json: string, events: AnthropicEvent[]): void {
    open.streamed += json;
    events.push({ type: "content_block_delta", index: open.index, delta: { type: "input_json_delta", partial_json: json } });
  }

  chunk(chunk: GeneratedChunk): AnthropicEvent[] {
    const events: AnthropicEvent[] = [];
    if (chunk.text) this.textDelta(chunk.text, events);
    for (const f of chunk.toolCalls ?? []) {
      const open = this.callBlock(f.index, f.name ?? "", events);
      if (f.arguments) this.jsonDelta(open, f.arguments, events);
    }
    return events;
  }

  /** Closes every block with the final result (blocks the stream never opened are opened first) and ends the message. */
  finish(result: GenerationResult): { events: AnthropicEvent[]; message: AnthropicMessage } {
    const events: AnthropicEvent[] = [];
    const calls = result.toolCalls ?? [];
    if (result.text && !this.text) this.textDelta(result.text, events);
    if (this.text) {
      this.text.block = { type: "text", text: this.text.streamed, citations: null };
      this.close(this.text, events);
    }
    calls.forEach((c, i) => {
      const open = this.callBlock(i, c.name, events);
      if (open.streamed === "" && c.arguments) this.jsonDelta(open, c.arguments, events);
      if (open.block.type === "tool_use") open.block = { ...open.block, name: c.name, input: parseInput(c.arguments) };
      this.close(open, events);
    });
    const stopReason = stopReasonOf(result);
    const stopSequence = stopReason === "stop_sequence" ? (result.stopSequence ?? null) : null;
    const usage = usageOf(result.usage.promptTokens, result.usage.completionTokens);
    // Schema violations (README, "Structured output") in a `switchyard` extension block: on the message, and on message_delta when streamed.
    const violations = violationsBlock([result]);
    const extension = violations.schema_violations ? { switchyard: violations } : {};
    events.push({
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: stopSequence },
      usage: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      ...extension,
    });
    events.push({ type: "message_stop" });
    return { events, message: { ...this.message(this.blocks.map((b) => b.block), stopReason, usage, stopSequence), ...extension } };
  }

  /** A failure after the stream started: Anthropic's `error` event. */
  fail(err: GatewayError): AnthropicEvent[] {
    return [{ ...anthropicErrorBody(err) }];
  }
}
