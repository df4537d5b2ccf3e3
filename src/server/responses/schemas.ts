/**
 * Request schema of OpenAI's `POST /v1/responses` (CreateResponse in OpenAI's
 * OpenAPI description). Every field the spec defines is accepted here; which of
 * them are honoured, ignored or refused is decided in translate.ts, so a refusal
 * names the field and says why. Fields outside the spec are a 400 (strict objects).
 */
import { z } from "zod";

const inputText = z.strictObject({ type: z.literal("input_text"), text: z.string() });
const outputText = z.strictObject({
  type: z.literal("output_text"),
  text: z.string(),
  annotations: z.array(z.unknown()).optional(),
  logprobs: z.array(z.unknown()).optional(),
});
const refusal = z.strictObject({ type: z.literal("refusal"), refusal: z.string() });
/** Images, files and audio: accepted by the schema so the refusal can name them (translate.ts). */
const mediaPart = z.looseObject({ type: z.enum(["input_image", "input_file", "input_audio"]) });
const contentPart = z.discriminatedUnion("type", [inputText, outputText, refusal, mediaPart]);

const status = z.enum(["in_progress", "completed", "incomplete"]).optional();

const messageItem = z.strictObject({
  type: z.literal("message").optional(),
  id: z.string().optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(contentPart)]),
  status,
  phase: z.string().nullable().optional(),
});

const functionCallItem = z.strictObject({
  type: z.literal("function_call"),
  id: z.string().optional(),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  namespace: z.string().optional(),
  status,
});

const functionCallOutputItem = z.strictObject({
  type: z.literal("function_call_output"),
  id: z.string().nullable().optional(),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(contentPart)]),
  status: status.nullable(),
});

/** A `file_search_call` output item handed back as input (manual conversation state): kept, not replayed to the model. */
const fileSearchCallItem = z.strictObject({
  type: z.literal("file_search_call"),
  id: z.string().min(1),
  status: z.enum(["in_progress", "searching", "completed", "incomplete", "failed"]),
  queries: z.array(z.string()),
  results: z
    .array(
      z.looseObject({
        file_id: z.string().default(""),
        filename: z.string().default(""),
        text: z.string().default(""),
        score: z.number().default(0),
        attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullable().default({}),
      }),
    )
    .nullable()
    .optional(),
});

/** Item types a local text model cannot act on (hosted tool calls, reasoning, references): refused by name. */
const otherItem = z.looseObject({
  type: z.enum([
    "item_reference",
    "reasoning",
    "web_search_call",
    "computer_call",
    "computer_call_output",
    "code_interpreter_call",
    "image_generation_call",
    "local_shell_call",
    "local_shell_call_output",
    "mcp_call",
    "mcp_list_tools",
    "mcp_approval_request",
    "mcp_approval_response",
    "custom_tool_call",
    "custom_tool_call_output",
    "shell_call",
    "shell_call_output",
    "apply_patch_call",
    "apply_patch_call_output",
    "compaction",
  ]),
});

/** A message written without `type` (EasyInputMessage) is a message. */
export const inputItemSchema = z.union([
  messageItem,
  z.discriminatedUnion("type", [functionCallItem, functionCallOutputItem, fileSearchCallItem, otherItem]),
]);

const functionTool = z.strictObject({
  type: z.literal("function"),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, underscores or dashes"),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
  output_schema: z.record(z.string(), z.unknown()).nullable().optional(),
  defer_loading: z.boolean().optional(),
});
/** OpenAI's comparison / compound attribute filters (which of them work is the vector-store search's to decide). */
type AttributeFilter = { type: "eq" | "ne" | "gt" | "gte" | "lt" | "lte"; key: string; value: unknown } | { type: "and" | "or"; filters: AttributeFilter[] };
const attributeFilter: z.ZodType<AttributeFilter> = z.lazy(() =>
  z.union([
    z.strictObject({ type: z.enum(["eq", "ne", "gt", "gte", "lt", "lte"]), key: z.string(), value: z.unknown() }),
    z.strictObject({ type: z.enum(["and", "or"]), filters: z.array(attributeFilter).min(1) }),
  ]),
);

/** The hosted `file_search` tool, run here over the tenant's vector stores (FileSearchTool). */
const fileSearchTool = z.strictObject({
  type: z.literal("file_search"),
  vector_store_ids: z.array(z.string().min(1)).min(1).max(10),
  /** OpenAI allows 1 to 50. */
  max_num_results: z.number().int().min(1).max(50).optional(),
  ranking_options: z
    .strictObject({
      ranker: z.string().optional(),
      score_threshold: z.number().min(0).max(1).optional(),
      hybrid_search: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  filters: attributeFilter.nullable().optional(),
});
/** Other built-in tools (`web_search`, `code_interpreter`, ...): refused by name in translate.ts. */
const builtInTool = z.looseObject({ type: z.string().refine((t) => t !== "function" && t !== "file_search") });

const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.strictObject({ type: z.literal("function"), name: z.string() }),
  z.looseObject({ type: z.string() }),
]);

const textFormat = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({
    type: z.literal("json_schema"),
    name: z.string().min(1).max(64),
    description: z.string().optional(),
    schema: z.record(z.string(), z.unknown()),
    strict: z.boolean().nullable().optional(),
  }),
]);

const nullable = <T extends z.ZodType>(t: T) => t.nullable().optional();

export const createResponseSchema = z.strictObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(inputItemSchema)]).optional(),
  instructions: nullable(z.string()),
  previous_response_id: nullable(z.string()),
  /** OpenAI's minimum is 16. */
  max_output_tokens: nullable(z.number().int().min(16)),
  temperature: nullable(z.number().min(0).max(2)),
  top_p: nullable(z.number().min(0).max(1)),
  top_logprobs: nullable(z.number().int().min(0).max(20)),
  text: nullable(z.strictObject({ format: textFormat.optional(), verbosity: nullable(z.enum(["low", "medium", "high"])) })),
  tools: nullable(z.array(z.union([functionTool, fileSearchTool, builtInTool])).max(128)),
  tool_choice: nullable(toolChoice),
  parallel_tool_calls: nullable(z.boolean()),
  max_tool_calls: nullable(z.number().int().min(1)),
  stream: nullable(z.boolean()),
  stream_options: nullable(z.strictObject({ include_obfuscation: z.boolean().optional() })),
  store: nullable(z.boolean()),
  include: nullable(z.array(z.string())),
  metadata: nullable(z.record(z.string(), z.string().max(512))),
  user: z.string().max(256).optional(),
  safety_identifier: nullable(z.string().max(64)),
  prompt_cache_key: nullable(z.string()),
  prompt_cache_retention: nullable(z.enum(["in_memory", "24h"])),
  prompt_cache_options: nullable(z.record(z.string(), z.unknown())),
  service_tier: nullable(z.string()),
  reasoning: nullable(z.record(z.string(), z.unknown())),
  truncation: nullable(z.enum(["auto", "disabled"])),
  background: nullable(z.boolean()),
  conversation: nullable(z.unknown()),
  prompt: nullable(z.unknown()),
  context_management: nullable(z.unknown()),
  moderation: nullable(z.unknown()),
  /** Extensions shared with chat completions. */
  top_k: z.number().int().min(0).max(1000).optional(),
  priority: z.union([z.number().int().min(-10).max(10), z.enum(["interactive", "batch"])]).optional(),
  timeout: z.number().int().positive().optional(),
});

export type CreateResponseRequest = z.infer<typeof createResponseSchema>;
export type InputItem = z.infer<typeof inputItemSchema>;
export type ContentPart = z.infer<typeof contentPart>;
export type FileSearchTool = z.infer<typeof fileSearchTool>;
