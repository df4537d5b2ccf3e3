/**
 * Conversation items of the Responses API in their stored ("resource") shape:
 * every item has an `id`, and input messages, output messages, function calls
 * and their outputs are the only kinds a local text model produces or reads.
 * A conversation (what `previous_response_id` continues) is a list of these.
 */
import { randomBytes } from "node:crypto";

export interface InputTextPart {
  type: "input_text";
  text: string;
}

export interface OutputTextPart {
  type: "output_text";
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}

export interface RefusalPart {
  type: "refusal";
  refusal: string;
}

/** A user, system or developer message (InputMessageResource). */
export interface InputMessageItem {
  id: string;
  type: "message";
  role: "user" | "system" | "developer";
  status: "completed";
  content: InputTextPart[];
}

/** An assistant message (OutputMessage), generated here or replayed from the client's input. */
export interface OutputMessageItem {
  id: string;
  type: "message";
  role: "assistant";
  status: "in_progress" | "completed" | "incomplete";
  content: Array<OutputTextPart | RefusalPart>;
}

export interface FunctionCallItem {
  id: string;
  type: "function_call";
  call_id: string;
  name: string;
  arguments: string;
  status: "in_progress" | "completed" | "incomplete";
}

export interface FunctionCallOutputItem {
  id: string;
  type: "function_call_output";
  call_id: string;
  output: string;
  status: "completed";
}

export type ConversationItem = InputMessageItem | OutputMessageItem | FunctionCallItem | FunctionCallOutputItem;

/**
 * A new id with OpenAI's prefixes: `resp`, `msg`, `fc` (function call), `fco` (its output).
 *
 * @example
 * ```ts
 * newItemId("msg"); // "msg_5f0c…" (48 hex digits)
 * ```
 */
export function newItemId(prefix: "resp" | "msg" | "fc" | "fco"): string {
  return `${prefix}_${randomBytes(24).toString("hex")}`;
}

/** The text of an item's content (parts joined). */
export function itemText(item: InputMessageItem | OutputMessageItem): string {
  return item.content.map((p) => (p.type === "refusal" ? p.refusal : p.text)).join("");
}
