/**
 * What to search for, given a conversation.
 */
import type { ChatMessage } from "../types.js";

/** A last turn with fewer words than this is likely a follow-up ("and for EU orders?"). */
const FOLLOW_UP_WORDS = 8;
/** Characters kept from the previous user turn when it is added as context. */
const CONTEXT_CHARS = 300;
/** Characters kept from the last user turn (long pastes make poor queries). */
const LAST_TURN_CHARS = 2_000;

/**
 * The retrieval query for a conversation: the last user turn, preceded by
 * (the start of) the previous user turn when the last one is short, since
 * short follow-ups ("what about refunds?") rarely stand on their own. Assistant
 * turns are left out: they repeat retrieved text and would pull the same
 * passages back. Empty string when there is no user turn.
 *
 * @example
 * ```ts
 * retrievalQuery([
 *   { role: "user", content: "How do I change my shipping address?" },
 *   { role: "assistant", content: "Go to Orders…" },
 *   { role: "user", content: "And after it shipped?" },
 * ]); // "How do I change my shipping address?\nAnd after it shipped?"
 * ```
 */
export function retrievalQuery(messages: ChatMessage[]): string {
  const users = messages.filter((m) => m.role === "user" && m.content.trim().length > 0);
  const last = users.at(-1);
  if (last === undefined) return "";
  const lastText = last.content.trim().slice(0, LAST_TURN_CHARS);
  const previous = users.at(-2);
  const words = lastText.split(/\s+/).filter((w) => w.length > 0).length;
  if (previous === undefined || words >= FOLLOW_UP_WORDS) return lastText;
  return `${previous.content.trim().slice(0, CONTEXT_CHARS)}\n${lastText}`;
}
