/**
 * Tools on the engine side: the function list node-llama-cpp's chat wrappers
 * document, and the JSON schema that forces a call when one is required.
 */
import type { ChatModelFunctions, ChatWrapper, GbnfJsonSchema } from "node-llama-cpp";
import type { ToolsRequest } from "../types.js";

/**
 * Tools as node-llama-cpp functions (no handlers: the caller, not the engine, runs them).
 *
 * @example
 * ```ts
 * functionsOf([{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }]);
 * // { get_weather: { params: { type: "object", ... } } }
 * ```
 */
export function functionsOf(tools: ToolsRequest["tools"]): ChatModelFunctions {
  const functions: Record<string, ChatModelFunctions[string]> = {};
  for (const tool of tools) {
    functions[tool.name] = {
      ...(tool.description ? { description: tool.description } : {}),
      // The server checked that the schema only uses what node-llama-cpp's grammar expresses.
      params: tool.parameters as GbnfJsonSchema,
    };
  }
  return functions;
}

/**
 * True when the chat template has a syntax for several calls in one turn.
 *
 * @example
 * ```ts
 * supportsParallelCalls(new ChatMLChatWrapper()); // false
 * ```
 */
export function supportsParallelCalls(chatWrapper: ChatWrapper): boolean {
  return chatWrapper.settings.functions.parallelism != null;
}

/**
 * The JSON schema a forced answer must match: `{"name": <tool>, "arguments": <its parameters>}`,
 * one of the allowed tools (the named one, or any), or an array of such calls when
 * several are allowed. `name` comes first, so a streamed call is named before its arguments.
 *
 * @example
 * ```ts
 * forcedCallSchema({ tools, choice: "required", parallel: false }, false);
 * // { oneOf: [{ type: "object", properties: { name: { const: "a" }, arguments: {...} }, ... }, ...] }
 * ```
 */
export function forcedCallSchema(request: ToolsRequest, parallelSupported: boolean): Record<string, unknown> {
  const allowed = typeof request.choice === "object" ? request.tools.filter((t) => t.name === (request.choice as { name: string }).name) : request.tools;
  const calls = allowed.map((tool) => ({
    type: "object",
    properties: { name: { const: tool.name }, arguments: tool.parameters },
    required: ["name", "arguments"],
    additionalProperties: false,
  }));
  const one = calls.length === 1 ? calls[0]! : { oneOf: calls };
  // A named tool is exactly one call, as OpenAI does.
  const several = request.parallel && parallelSupported && typeof request.choice !== "object";
  return several ? { type: "array", items: one, minItems: 1 } : one;
}
