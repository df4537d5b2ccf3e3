/**
 * `tools`, `tool_choice` and `parallel_tool_calls` → the engine's
 * {@link ToolsRequest}, with OpenAI's rules and our own limits checked here so
 * every refusal is a 400 naming the field.
 */
import { invalidRequest } from "../../errors.js";
import type { ToolsRequest } from "../../types.js";
import type { ChatRequest } from "./schemas.js";
import { toolParametersSchema } from "./tool-schema.js";

/**
 * `undefined` when the request has no tools or `tool_choice` is `none` (plain chat).
 *
 * @example
 * ```ts
 * toolsRequestOf({ ...req, tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }], tool_choice: "required" });
 * // { tools: [{ name: "f", parameters: { type: "object" } }], choice: "required", parallel: true }
 * ```
 */
export function toolsRequestOf(req: ChatRequest): ToolsRequest | undefined {
  const tools = req.tools ?? [];
  const choice = req.tool_choice ?? undefined;
  if (tools.length === 0) {
    if (choice !== undefined && choice !== "none") {
      throw invalidRequest("tool_choice is only allowed when tools are specified.", { param: "tool_choice" });
    }
    return undefined;
  }
  const seen = new Set<string>();
  const definitions = tools.map((t, i) => {
    if (seen.has(t.function.name)) {
      throw invalidRequest(`Duplicate tool name '${t.function.name}'.`, { param: `tools[${i}].function.name` });
    }
    seen.add(t.function.name);
    return {
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      // Checked even for tool_choice "none": a schema we cannot enforce is refused the same way every time.
      parameters: toolParametersSchema(t.function.parameters, `tools[${i}].function.parameters`),
    };
  });
  if (choice === "none") return undefined;
  if (req.logprobs) {
    throw invalidRequest("logprobs cannot be combined with tool calls; use tool_choice 'none' or drop logprobs.", { param: "logprobs" });
  }
  if (req.response_format && req.response_format.type !== "text") {
    throw invalidRequest("response_format cannot be combined with tool calls; use tool_choice 'none'.", { param: "response_format" });
  }
  const parallel = req.parallel_tool_calls ?? true;
  if (typeof choice === "object") {
    if (!seen.has(choice.function.name)) {
      throw invalidRequest(`tool_choice names '${choice.function.name}', which is not in tools.`, { param: "tool_choice" });
    }
    return { tools: definitions, choice: { name: choice.function.name }, parallel };
  }
  return { tools: definitions, choice: choice ?? "auto", parallel };
}
