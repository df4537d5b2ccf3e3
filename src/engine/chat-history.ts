/**
 * OpenAI messages → node-llama-cpp chat history. Assistant tool calls become
 * function-call items inside the model response, each with the result from the
 * `role: tool` message that answers it, so the chat template renders call and
 * result in its own syntax.
 */
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from "node-llama-cpp";
import type { ChatMessage } from "../types.js";

/**
 * A trailing empty model turn makes the model answer as a new assistant message
 * even when the client's list ends with one.
 *
 * @example
 * ```ts
 * toChatHistory([
 *   { role: "user", content: "Weather in Paris?" },
 *   { role: "assistant", content: "", toolCalls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
 *   { role: "tool", content: '{"temp":21}', toolCallId: "call_1" },
 * ]);
 * // [user, model: [{ type: "functionCall", name: "get_weather", params: { city: "Paris" }, result: { temp: 21 } }], model: []]
 * ```
 */
export function toChatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const answered = new Set<number>();
  messages.forEach((m, i) => {
    if (answered.has(i)) return;
    if (m.role === "system" || m.role === "developer") history.push({ type: "system", text: m.content });
    else if (m.role === "assistant") history.push(modelTurn(messages, i, answered));
    else if (m.role === "tool") history.push({ type: "user", text: `Tool result${m.toolCallId ? ` (${m.toolCallId})` : ""}:\n${m.content}` });
    else history.push({ type: "user", text: m.content });
  });
  history.push({ type: "model", response: [] });
  return history;
}

/** The assistant message at `i`, with the results of its calls taken from the tool messages right after it. */
function modelTurn(messages: ChatMessage[], i: number, answered: Set<number>): ChatModelResponse {
  const m = messages[i]!;
  const response: ChatModelResponse["response"] = m.content ? [m.content] : [];
  const calls = m.toolCalls ?? [];
  if (calls.length === 0) return { type: "model", response };
  const results = new Map<string, string>();
  for (let j = i + 1; j < messages.length && messages[j]!.role === "tool"; j++) {
    const id = messages[j]!.toolCallId;
    if (id !== undefined && calls.some((c) => c.id === id) && !results.has(id)) {
      results.set(id, messages[j]!.content);
      answered.add(j);
    }
  }
  for (const call of calls) {
    const item: ChatModelFunctionCall = {
      type: "functionCall",
      name: call.function.name,
      // No arguments at all renders as a call without parameters.
      params: call.function.arguments.trim() === "" ? undefined : parseJson(call.function.arguments),
      result: results.has(call.id) ? parseJson(results.get(call.id)!) : undefined,
    };
    response.push(item);
  }
  return { type: "model", response };
}

/** JSON text as its value (so the template shows JSON, not a quoted string); other text stays text. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
