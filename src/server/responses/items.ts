/**
 * Conversation items of the Responses API in their stored ("resource") shape:
 * every item has an `id`, and input messages, output messages, function calls
 * and their outputs are the only kinds a local text model produces or reads;
 * `file_search_call` items record the gateway's own searches (never replayed to the model).
 * A conversation (what `previous_response_id` continues) is a list of these.
 */
import { randomBytes } from "node:crypto";

export interface InputTextPart {
  type: "input_text";
  text: string;
}

/** A source of the answer (OpenAI's FileCitationBody); `index` is the character offset in the text it applies at. */
export interface FileCitation {
  type: "file_citation";
  file_id: string;
  filename: string;
  index: number;
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

/** One chunk a file search found (FileSearchToolCall `results[]`). */
export interface FileSearchResult {
  file_id: string;
  filename: string;
  text: string;
  /** 0 to 1. */
  score: number;
  attributes: Record<string, string | number | boolean>;
}

/** The `file_search` tool's run (FileSearchToolCall): `results` only when `include` asks for them. */
export interface FileSearchCallItem {
  id: string;
  type: "file_search_call";
  status: "in_progress" | "searching" | "completed" | "incomplete" | "failed";
  queries: string[];
  results: FileSearchResult[] | null;
}

export type ConversationItem = InputMessageItem | OutputMessageItem | FunctionCallItem | FunctionCallOutputItem | FileSearchCallItem;

/**
 * A new id with OpenAI's prefixes: `resp`, `msg`, `fc` (function call), `fco` (its output), `fs` (file search call).
 *
 * @example
 * ```ts
 * newItemId("msg"); // "msg_5f0c…" (48 hex digits)
 * ```
 */
export function newItemId(prefix: "resp" | "msg" | "fc" | "fco" | "fs"): string {
  return `${prefix}_${randomBytes(24).toString("hex")}`;
}

/** The text of an item's content (parts joined). */
export function itemText(item: InputMessageItem | OutputMessageItem): string {
  return item.content.map((p) => (p.type === "refusal" ? p.refusal : p.text)).join("");
}
