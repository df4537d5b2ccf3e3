/**
 * Request schemas of Anthropic's `POST /v1/messages` and
 * `POST /v1/messages/count_tokens` (as @anthropic-ai/sdk's MessageCreateParams
 * and MessageCountTokensParams define them). Unknown fields are a 400, as
 * Anthropic answers them ("Extra inputs are not permitted"). Blocks and tools a
 * local text model cannot serve (images, documents, thinking, server tools) pass
 * the schema so translate.ts can refuse them by name.
 */
import { z } from "zod";

const cacheControl = z.looseObject({ type: z.literal("ephemeral") }).nullable().optional();

const textBlock = z.strictObject({
  type: z.literal("text"),
  text: z.string(),
  cache_control: cacheControl,
  citations: z.array(z.unknown()).nullable().optional(),
});

const toolUseBlock = z.strictObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  cache_control: cacheControl,
  caller: z.unknown().optional(),
});

const toolResultBlock = z.strictObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.union([textBlock, z.looseObject({ type: z.string() })]))]).optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl,
});

/** Kinds refused by name in translate.ts. */
const otherBlock = z.looseObject({
  type: z.enum([
    "image",
    "document",
    "search_result",
    "thinking",
    "redacted_thinking",
    "server_tool_use",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
    "mcp_tool_use",
    "mcp_tool_result",
    "container_upload",
  ]),
});

const contentBlock = z.discriminatedUnion("type", [textBlock, toolUseBlock, toolResultBlock, otherBlock]);

export const anthropicMessageSchema = z.strictObject({
  role: z.enum(["user", "assistant"]),
  content: z.union([z.string(), z.array(contentBlock)]),
});

const customTool = z.strictObject({
  type: z.literal("custom").optional(),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, underscores or dashes"),
  description: z.string().optional(),
  input_schema: z.looseObject({ type: z.literal("object") }),
  cache_control: cacheControl,
  strict: z.boolean().optional(),
  defer_loading: z.boolean().optional(),
  input_examples: z.array(z.unknown()).optional(),
  allowed_callers: z.array(z.unknown()).optional(),
});
/** Anthropic's server tools (`web_search_20250305`, `bash_20250124`, ...): refused by name. */
const serverTool = z.looseObject({ type: z.string().refine((t) => t !== "custom"), name: z.string() });

const toolChoice = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal("tool"), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal("none") }),
]);

const system = z.union([z.string(), z.array(textBlock)]);
const thinking = z.looseObject({ type: z.enum(["enabled", "disabled", "adaptive", "between_tools"]) });

/** `output_config`: `format` (a JSON schema the answer must match) and `effort`. */
const outputConfig = z.strictObject({
  effort: z.enum(["low", "medium", "high", "xhigh", "max"]).nullable().optional(),
  format: z.strictObject({ type: z.literal("json_schema"), schema: z.record(z.string(), z.unknown()) }).nullable().optional(),
});

/** Fields count_tokens shares with messages. */
const promptFields = {
  model: z.string().min(1),
  messages: z.array(anthropicMessageSchema).min(1, "messages: at least one message is required"),
  system: system.optional(),
  tools: z.array(z.union([customTool, serverTool])).max(128).optional(),
  tool_choice: toolChoice.optional(),
  thinking: thinking.optional(),
  mcp_servers: z.array(z.unknown()).optional(),
  context_management: z.unknown().optional(),
  output_config: outputConfig.optional(),
  /** Top-level prompt-cache breakpoint. */
  cache_control: cacheControl,
  speed: z.enum(["standard", "fast"]).nullable().optional(),
  user_profile_id: z.string().optional(),
  workspace_id: z.string().optional(),
};

export const createMessageSchema = z.strictObject({
  ...promptFields,
  max_tokens: z.number().int().min(1),
  stop_sequences: z.array(z.string()).optional(),
  /** Sampling fields of earlier API versions (SDK 1.x no longer types them; older clients send them). */
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stream: z.boolean().optional(),
  metadata: z.strictObject({ user_id: z.string().max(256).nullable().optional() }).optional(),
  service_tier: z.enum(["auto", "standard_only"]).optional(),
  container: z.unknown().optional(),
  inference_geo: z.string().nullable().optional(),
  diagnostics: z.unknown().optional(),
});

export const countTokensSchema = z.strictObject(promptFields);

export type CreateMessageRequest = z.infer<typeof createMessageSchema>;
export type CountTokensRequest = z.infer<typeof countTokensSchema>;
export type AnthropicMessageParam = z.infer<typeof anthropicMessageSchema>;
