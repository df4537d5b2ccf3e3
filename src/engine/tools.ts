/**
 * Tools on the engine side: the function list node-llama-cpp's chat wrappers
 * document, and the JSON schema that forces a call when one is required.
 */
import type { ChatModelFunctions, ChatWrapper } from "node-llama-cpp";
import type { ToolsRequest } from "../types.js";
import { nodeLlamaParams } from "./function-params.js";

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
      // node-llama-cpp's subset of the schema; the gateway validates each call against the whole one.
      params: nodeLlamaParams(tool.parameters),
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
  // A named tool is exactly one call, as OpenAI does.
  const several = request.parallel && parallelSupported && typeof request.choice !== "object";
  const callAt = (i: number) => `${several ? "/items" : ""}${allowed.length === 1 ? "" : `/anyOf/${i}`}`;
  const calls = allowed.map((tool, i) => ({
    type: "object",
    // The parameters' own `$ref`s ("#/$defs/…", "#") now point into this bigger document.
    properties: { name: { const: tool.name }, arguments: rebasedRefs(tool.parameters, `${callAt(i)}/properties/arguments`) },
    required: ["name", "arguments"],
    additionalProperties: false,
  }));
  const one = calls.length === 1 ? calls[0]! : { anyOf: calls };
  return several ? { type: "array", items: one, minItems: 1 } : one;
}

/**
 * A copy of `schema` whose local `$ref`s point to the same places once the schema sits at JSON pointer `base` of another document.
 *
 * @example
 * ```ts
 * rebasedRefs({ $ref: "#/$defs/a", $defs: { a: { type: "string" } } }, "/properties/arguments");
 * // { $ref: "#/properties/arguments/$defs/a", $defs: { a: { type: "string" } } }
 * ```
 */
export function rebasedRefs(schema: unknown, base: string): Record<string, unknown> {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== "object" || node === null) return node;
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [k, k === "$ref" && typeof v === "string" && v.startsWith("#") ? `#${base}${v.slice(1)}` : k === "const" || k === "enum" || k === "default" || k === "examples" ? v : walk(v)]),
    );
  };
  return walk(schema) as Record<string, unknown>;
}
