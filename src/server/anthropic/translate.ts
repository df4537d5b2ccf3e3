/**
 * Anthropic Messages request → the chat-completions request the generation
 * pipeline runs: `system` becomes a system message, `tool_use` blocks become
 * assistant tool calls, `tool_result` blocks become tool messages (before the
 * user text of the same turn, as Anthropic orders them), tools keep their
 * `input_schema`, and `tool_choice` `auto`/`any`/`tool`/`none` map to
 * `auto`/`required`/named/`none`. What a local text model cannot serve is a
 * 400 naming the field; what cannot change its output is listed as ignored.
 */
import { invalidRequest } from "../../errors.js";
import type { ChatRequest } from "../openai/schemas.js";
import type { AnthropicMessageParam, CountTokensRequest, CreateMessageRequest } from "./schemas.js";

type ChatMessageParam = ChatRequest["messages"][number];

export interface TranslatedMessages {
  chat: ChatRequest;
  /** Fields accepted without effect on a local model's output. */
  ignored: string[];
}

const unsupported = (param: string, message: string) => invalidRequest(message, { param, code: "unsupported_parameter" });

function blockRefusal(type: string, param: string): Error {
  if (type === "thinking" || type === "redacted_thinking") return unsupported(param, `Content blocks of type '${type}' are not supported: this model has no extended thinking.`);
  if (type === "image" || type === "document") return unsupported(param, `Content blocks of type '${type}' are not supported by this server (text-only models).`);
  return unsupported(param, `Content blocks of type '${type}' are not supported by this server.`);
}

function toolResultText(content: NonNullable<Extract<Exclude<AnthropicMessageParam["content"], string>[number], { type: "tool_result" }>["content"]> | undefined, param: string): string {
  if (content === undefined) return "";
  if (typeof content === "string") return content;
  return content
    .map((b, k) => {
      if (b.type !== "text" || typeof b.text !== "string") throw blockRefusal(b.type, `${param}.content[${k}]`);
      return b.text;
    })
    .join("\n");
}

function turnMessages(m: AnthropicMessageParam, i: number): ChatMessageParam[] {
  if (typeof m.content === "string") return [{ role: m.role, content: m.content }];
  const texts: string[] = [];
  const calls: NonNullable<Extract<ChatMessageParam, { role: "assistant" }>["tool_calls"]> = [];
  const results: ChatMessageParam[] = [];
  m.content.forEach((block, j) => {
    const param = `messages[${i}].content[${j}]`;
    switch (block.type) {
      case "text":
        texts.push(block.text);
        break;
      case "tool_use":
        if (m.role !== "assistant") throw invalidRequest("tool_use blocks may only appear in assistant messages.", { param });
        calls.push({ id: block.id, type: "function", function: { name: block.name, arguments: JSON.stringify(block.input) } });
        break;
      case "tool_result": {
        if (m.role !== "user") throw invalidRequest("tool_result blocks may only appear in user messages.", { param });
        const text = toolResultText(block.content, param);
        results.push({ role: "tool", tool_call_id: block.tool_use_id, content: block.is_error ? `Error: ${text}` : text });
        break;
      }
      default:
        throw blockRefusal(block.type, param);
    }
  });
  const text = texts.join("\n");
  if (m.role === "assistant") return [{ role: "assistant", content: calls.length && !text ? null : text, ...(calls.length ? { tool_calls: calls } : {}) }];
  return [...results, ...(text || results.length === 0 ? [{ role: "user" as const, content: text }] : [])];
}

function systemText(system: CreateMessageRequest["system"]): string | undefined {
  if (system === undefined) return undefined;
  return typeof system === "string" ? system : system.map((b) => b.text).join("\n");
}

function toolsOf(tools: NonNullable<CreateMessageRequest["tools"]>): NonNullable<ChatRequest["tools"]> {
  return tools.map((tool, i) => {
    if (!("input_schema" in tool) || (tool.type !== undefined && tool.type !== "custom")) {
      throw unsupported(`tools[${i}].type`, `Server tool '${String(tool.type)}' is not supported by this server; only custom tools (input_schema) are.`);
    }
    const t = tool as Extract<typeof tool, { input_schema: unknown }>;
    return { type: "function" as const, function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.input_schema } };
  });
}

function toolChoiceOf(choice: CreateMessageRequest["tool_choice"]): Pick<ChatRequest, "tool_choice" | "parallel_tool_calls"> {
  if (!choice) return {};
  const parallel = "disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use ? { parallel_tool_calls: false } : {};
  switch (choice.type) {
    case "auto":
      return { tool_choice: "auto", ...parallel };
    case "any":
      return { tool_choice: "required", ...parallel };
    case "tool":
      return { tool_choice: { type: "function", function: { name: choice.name } }, ...parallel };
    case "none":
      return { tool_choice: "none" };
  }
}

/** Refusals shared by messages and count_tokens. */
function checkPromptFields(req: CountTokensRequest): void {
  if (req.thinking && req.thinking.type !== "disabled") throw unsupported("thinking", "Extended thinking is not supported by this model.");
  if (req.mcp_servers?.length) throw unsupported("mcp_servers", "MCP servers are not supported by this server.");
  if (req.context_management != null) throw unsupported("context_management", "context_management is not supported by this server.");
}

/** `output_config.format` is a JSON schema for the answer: the chat request's `response_format`. */
function responseFormatOf(config: CountTokensRequest["output_config"]): Pick<ChatRequest, "response_format"> {
  const format = config?.format;
  return format ? { response_format: { type: "json_schema", json_schema: { name: "output", schema: format.schema } } } : {};
}

/** Fields that cannot change a local model's output. */
function ignoredFields(req: CreateMessageRequest | CountTokensRequest): string[] {
  const ignored: string[] = [];
  if (JSON.stringify(req).includes("\"cache_control\"")) ignored.push("cache_control");
  if (req.output_config?.effort != null) ignored.push("output_config.effort");
  for (const name of ["speed", "user_profile_id", "workspace_id"] as const) if (req[name] != null) ignored.push(name);
  if ("max_tokens" in req) for (const name of ["service_tier", "inference_geo", "diagnostics"] as const) if (req[name] != null) ignored.push(name);
  return ignored;
}

/**
 * @example
 * ```ts
 * const { chat } = translateMessages(req);
 * chat.messages[0]; // { role: "system", content: "…" } when `system` was given
 * ```
 */
export function translateMessages(req: CreateMessageRequest | CountTokensRequest): TranslatedMessages {
  checkPromptFields(req);
  const ignored = ignoredFields(req);
  const system = systemText(req.system);
  const messages: ChatMessageParam[] = [...(system ? [{ role: "system" as const, content: system }] : []), ...req.messages.flatMap(turnMessages)];
  const tools = req.tools?.length ? toolsOf(req.tools) : undefined;
  const chat: ChatRequest = { model: req.model, messages, ...(tools ? { tools } : {}), ...toolChoiceOf(req.tool_choice), ...responseFormatOf(req.output_config) };
  if (!("max_tokens" in req)) return { chat, ignored };
  if (req.container != null) throw unsupported("container", "Containers are not supported by this server.");
  const userId = req.metadata?.user_id;
  return {
    chat: {
      ...chat,
      max_tokens: req.max_tokens,
      ...(req.stop_sequences?.length ? { stop: req.stop_sequences } : {}),
      ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
      ...(req.top_p === undefined ? {} : { top_p: req.top_p }),
      ...(req.top_k === undefined ? {} : { top_k: req.top_k }),
      ...(userId ? { user: userId } : {}),
    },
    ignored,
  };
}
