/**
 * Responses request → the chat-completions request the generation pipeline
 * runs. Input items (and a stored conversation continued through
 * `previous_response_id`) become chat messages; `text.format` becomes
 * `response_format`; function tools keep their schema; a `file_search` tool is
 * handed back for the route to ground the answer in. Every field is honoured,
 * ignored (listed, for the `x-switchyard-ignored-params` header) or refused with
 * a 400 naming it.
 */
import { invalidRequest } from "../../errors.js";
import type { ChatRequest } from "../openai/schemas.js";
import type { ContentPart, CreateResponseRequest, FileSearchTool, InputItem } from "./schemas.js";
import { itemText, newItemId, type ConversationItem } from "./items.js";

type ChatMessageParam = ChatRequest["messages"][number];

export interface TranslatedRequest {
  /** The equivalent chat-completions request (never streamed: the renderer decides). */
  chat: ChatRequest;
  /** This request's input, as stored items with ids. */
  input: ConversationItem[];
  /** Fields accepted but without effect on a local model's output. */
  ignored: string[];
  /** `include` asked for output-text log probabilities. */
  logprobs: boolean;
  /** The request's `file_search` tool: the answer is grounded in these vector stores. */
  fileSearch?: FileSearchTool | undefined;
  /** `include` asked for `file_search_call.results`. */
  searchResults: boolean;
}

const unsupported = (param: string, message: string) => invalidRequest(message, { param, code: "unsupported_parameter" });

/** Flattens message content parts to text; images, files and audio are refused by name. */
function partsText(parts: string | ContentPart[], param: string): string {
  if (typeof parts === "string") return parts;
  return parts
    .map((p, j) => {
      switch (p.type) {
        case "input_text":
        case "output_text":
          return p.text;
        case "refusal":
          return p.refusal;
        default:
          throw unsupported(`${param}[${j}]`, `Content of type '${p.type}' is not supported by this server (text-only models).`);
      }
    })
    .join("");
}

/**
 * Client-sent input items → stored items with ids (the shape `input_items` lists).
 *
 * @example
 * ```ts
 * toConversationItems("Hi"); // [{ id: "msg_…", type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: "Hi" }] }]
 * ```
 */
export function toConversationItems(input: CreateResponseRequest["input"]): ConversationItem[] {
  if (input === undefined) return [];
  if (typeof input === "string") return [{ id: newItemId("msg"), type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: input }] }];
  return input.map((item: InputItem, i): ConversationItem => {
    const param = `input[${i}]`;
    if (!("type" in item) || item.type === undefined || item.type === "message") {
      const m = item;
      const text = partsText(m.content, `${param}.content`);
      if (m.role === "assistant") {
        return { id: m.id ?? newItemId("msg"), type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [], logprobs: [] }] };
      }
      return { id: m.id ?? newItemId("msg"), type: "message", role: m.role, status: "completed", content: [{ type: "input_text", text }] };
    }
    switch (item.type) {
      case "function_call":
        return { id: item.id ?? newItemId("fc"), type: "function_call", call_id: item.call_id, name: item.name, arguments: item.arguments, status: "completed" };
      case "function_call_output":
        return { id: item.id ?? newItemId("fco"), type: "function_call_output", call_id: item.call_id, output: partsText(item.output, `${param}.output`), status: "completed" };
      case "file_search_call":
        return {
          id: item.id,
          type: "file_search_call",
          status: item.status,
          queries: item.queries,
          results: item.results?.map((r) => ({ file_id: r.file_id, filename: r.filename, text: r.text, score: r.score, attributes: r.attributes ?? {} })) ?? null,
        };
      default:
        throw unsupported(`${param}.type`, `Input items of type '${item.type}' are not supported by this server.`);
    }
  });
}

/**
 * Conversation items → chat messages: consecutive function calls join one
 * assistant message (after its text, if any); their outputs become tool messages.
 *
 * @example
 * ```ts
 * toChatMessages([callItem, outputItem]);
 * // [{ role: "assistant", content: null, tool_calls: [{ id: call_id, … }] }, { role: "tool", tool_call_id: call_id, content: "…" }]
 * ```
 */
export function toChatMessages(items: readonly ConversationItem[]): ChatMessageParam[] {
  const out: ChatMessageParam[] = [];
  for (const item of items) {
    switch (item.type) {
      case "message":
        if (item.role === "assistant") out.push({ role: "assistant", content: itemText(item) });
        else out.push({ role: item.role, content: itemText(item) });
        break;
      case "function_call": {
        const call = { id: item.call_id, type: "function" as const, function: { name: item.name, arguments: item.arguments } };
        const last = out.at(-1);
        if (last?.role === "assistant") last.tool_calls = [...(last.tool_calls ?? []), call];
        else out.push({ role: "assistant", content: null, tool_calls: [call] });
        break;
      }
      case "function_call_output":
        out.push({ role: "tool", tool_call_id: item.call_id, content: item.output });
        break;
      case "file_search_call":
        // A past search: its sources grounded that turn's answer; a new turn searches again.
        break;
    }
  }
  return out;
}

type Tool = NonNullable<CreateResponseRequest["tools"]>[number];
const isFileSearch = (t: Tool): t is FileSearchTool => t.type === "file_search";

/** At most one `file_search` tool (OpenAI's rule too). */
function fileSearchOf(tools: NonNullable<CreateResponseRequest["tools"]>): FileSearchTool | undefined {
  const found = tools.flatMap((t, i) => (isFileSearch(t) ? [{ tool: t, i }] : []));
  if (found.length > 1) throw invalidRequest("Only one file_search tool may be given.", { param: `tools[${found[1]!.i}]` });
  return found[0]?.tool;
}

/** Function tools for the model; built-in tools that exist on OpenAI's platform but not here are refused. */
function checkTools(tools: NonNullable<CreateResponseRequest["tools"]>): NonNullable<ChatRequest["tools"]> {
  return tools.flatMap((tool, i) => {
    if (isFileSearch(tool)) return [];
    if (tool.type !== "function" || !("name" in tool)) {
      throw unsupported(`tools[${i}].type`, `Built-in tool '${tool.type}' is not supported by this server; only function and file_search tools are.`);
    }
    const t = tool as Extract<typeof tool, { name: string }>;
    return [
      {
        type: "function" as const,
        function: {
          name: t.name,
          ...(t.description ? { description: t.description } : {}),
          ...(t.parameters ? { parameters: t.parameters } : {}),
          ...(t.strict == null ? {} : { strict: t.strict }),
        },
      },
    ];
  });
}

/**
 * The model's tool_choice. The file search runs before the model whenever the tool is given, so
 * choosing it (`{ type: "file_search" }`, or `required` with no function tool) is already honoured.
 */
function toolChoiceOf(choice: CreateResponseRequest["tool_choice"], functionTools: number, fileSearch: boolean): ChatRequest["tool_choice"] {
  if (choice == null) return undefined;
  if (fileSearch && functionTools === 0 && (choice === "required" || (typeof choice === "object" && choice.type === "file_search"))) return undefined;
  if (typeof choice === "object" && choice.type === "file_search") {
    if (!fileSearch) throw invalidRequest("tool_choice names file_search but no file_search tool is given.", { param: "tool_choice" });
    return "auto";
  }
  if (typeof choice === "string") return choice;
  if (choice.type === "function" && typeof choice.name === "string") return { type: "function", function: { name: choice.name } };
  throw unsupported("tool_choice", `tool_choice of type '${choice.type}' is not supported by this server.`);
}

function responseFormatOf(text: CreateResponseRequest["text"]): ChatRequest["response_format"] {
  const format = text?.format;
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json_object" };
  return {
    type: "json_schema",
    json_schema: {
      name: format.name,
      schema: format.schema,
      ...(format.description ? { description: format.description } : {}),
      ...(format.strict == null ? {} : { strict: format.strict }),
    },
  };
}

/** Fields that cannot change a local model's output: accepted, reported, otherwise ignored. */
function ignoredFields(req: CreateResponseRequest): string[] {
  const ignored: string[] = [];
  const set = (name: keyof CreateResponseRequest) => req[name] !== undefined && req[name] !== null;
  for (const name of [
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "prompt_cache_options",
    "service_tier",
    "reasoning",
    "max_tool_calls",
    "truncation",
    "stream_options",
  ] as const) {
    if (set(name)) ignored.push(name);
  }
  if (req.text?.verbosity != null) ignored.push("text.verbosity");
  if (req.include?.includes("reasoning.encrypted_content")) ignored.push("include");
  return ignored;
}

const INCLUDE_HONOURED = new Set(["message.output_text.logprobs", "reasoning.encrypted_content", "file_search_call.results"]);

/**
 * @param history the stored conversation `previous_response_id` continues (empty for a new one)
 *
 * @example
 * ```ts
 * const { chat, input, ignored } = translateRequest(req, stored?.conversation ?? []);
 * ```
 */
export function translateRequest(req: CreateResponseRequest, history: readonly ConversationItem[]): TranslatedRequest {
  if (req.background) throw unsupported("background", "Background responses are not supported by this server.");
  if (req.conversation != null) throw unsupported("conversation", "Conversations are not supported by this server; use previous_response_id.");
  if (req.prompt != null) throw unsupported("prompt", "Prompt templates are not supported by this server.");
  if (req.context_management != null) throw unsupported("context_management", "context_management is not supported by this server.");
  if (req.moderation != null) throw unsupported("moderation", "moderation is not supported by this server.");
  req.include?.forEach((value, i) => {
    if (!INCLUDE_HONOURED.has(value)) throw unsupported(`include[${i}]`, `include value '${value}' is not supported by this server.`);
  });
  const input = toConversationItems(req.input);
  const messages: ChatMessageParam[] = [
    ...(req.instructions ? [{ role: "system" as const, content: req.instructions }] : []),
    ...toChatMessages([...history, ...input]),
  ];
  if (messages.length === 0 || (messages.length === 1 && req.instructions)) {
    throw invalidRequest("input must contain at least one item (or continue a stored response with previous_response_id).", { param: "input" });
  }
  const logprobs = req.include?.includes("message.output_text.logprobs") ?? false;
  const fileSearch = req.tools?.length ? fileSearchOf(req.tools) : undefined;
  const functionTools = req.tools?.length ? checkTools(req.tools) : [];
  const tools = functionTools.length ? functionTools : undefined;
  const toolChoice = toolChoiceOf(req.tool_choice, functionTools.length, fileSearch !== undefined);
  const responseFormat = responseFormatOf(req.text);
  const chat: ChatRequest = {
    model: req.model,
    messages,
    ...(req.max_output_tokens == null ? {} : { max_completion_tokens: req.max_output_tokens }),
    ...(req.temperature == null ? {} : { temperature: req.temperature }),
    ...(req.top_p == null ? {} : { top_p: req.top_p }),
    ...(req.top_k === undefined ? {} : { top_k: req.top_k }),
    ...(req.priority === undefined ? {} : { priority: req.priority }),
    ...(req.timeout === undefined ? {} : { timeout: req.timeout }),
    ...(req.user ? { user: req.user } : {}),
    ...(tools ? { tools } : {}),
    ...(toolChoice === undefined ? {} : { tool_choice: toolChoice }),
    ...(req.parallel_tool_calls == null ? {} : { parallel_tool_calls: req.parallel_tool_calls }),
    ...(responseFormat ? { response_format: responseFormat } : {}),
    ...(logprobs ? { logprobs: true, top_logprobs: req.top_logprobs ?? 0 } : {}),
  };
  const searchResults = req.include?.includes("file_search_call.results") ?? false;
  return { chat, input, ignored: ignoredFields(req), logprobs, fileSearch, searchResults };
}
