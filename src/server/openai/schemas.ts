/**
 * Request schemas for the OpenAI endpoints. Objects are strict: an unknown
 * field is a 400 naming it (as OpenAI does), never silently ignored. Fields we
 * know but cannot honour are accepted only at their neutral value.
 */
import { z } from "zod";

const textPart = z.strictObject({ type: z.literal("text"), text: z.string() });
const content = z.union([z.string(), z.array(textPart)]);
const refusalPart = z.strictObject({ type: z.literal("refusal"), refusal: z.string() });
/** Images, audio and files (user messages): accepted by the schema so params.ts refuses them by name (text-only models). */
const mediaPart = z.looseObject({ type: z.enum(["image_url", "input_audio", "file"]) });
const userContent = z.union([z.string(), z.array(z.discriminatedUnion("type", [textPart, mediaPart]))]);
const assistantContent = z.union([z.string(), z.array(z.discriminatedUnion("type", [textPart, refusalPart]))]);

const toolCall = z.strictObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.strictObject({ name: z.string(), arguments: z.string() }),
});

export const chatMessageSchema = z.discriminatedUnion("role", [
  z.strictObject({ role: z.literal("system"), content, name: z.string().optional() }),
  z.strictObject({ role: z.literal("developer"), content, name: z.string().optional() }),
  z.strictObject({ role: z.literal("user"), content: userContent, name: z.string().optional() }),
  z.strictObject({
    role: z.literal("assistant"),
    content: assistantContent.nullable().optional(),
    name: z.string().optional(),
    refusal: z.string().nullable().optional(),
    tool_calls: z.array(toolCall).optional(),
    /** Audio replies and the deprecated `function_call`: refused by name in params.ts. */
    audio: z.unknown().optional(),
    function_call: z.unknown().optional(),
  }),
  // `name` is not in OpenAI's current spec, but @langchain/openai always sends it on tool results
  // (LangGraph's ToolNode sets it), so refusing it breaks every standard agent loop.
  z.strictObject({ role: z.literal("tool"), content, tool_call_id: z.string(), name: z.string().optional() }),
]);

/** OpenAI's rule for function names. */
const functionName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, underscores or dashes");

const functionTool = z.strictObject({
  type: z.literal("function"),
  function: z.strictObject({
    name: functionName,
    description: z.string().optional(),
    /** A JSON schema of type object; absent = no parameters. Expressibility is checked in tool-schema.ts. */
    parameters: z.record(z.string(), z.unknown()).optional(),
    /** Calls are always grammar-constrained, so `strict` changes nothing. */
    strict: z.boolean().nullable().optional(),
  }),
});

const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.strictObject({ type: z.literal("function"), function: z.strictObject({ name: z.string() }) }),
]);

const stop = z.union([z.string(), z.array(z.string()).max(16)]).nullable().optional();
const nullableNumber = (min: number, max: number) => z.number().min(min).max(max).nullable().optional();

const responseFormat = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({
    type: z.literal("json_schema"),
    json_schema: z.strictObject({
      name: z.string().min(1).max(64),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

/** Extensions shared by chat and completions. */
const extensions = {
  /** Extension (llama.cpp): top-k sampling; 0 = off. */
  top_k: z.number().int().min(0).max(1000).optional(),
  /** Extension: scheduling priority; higher runs first. */
  priority: z.union([z.number().int().min(-10).max(10), z.enum(["interactive", "batch"])]).optional(),
  /** Extension: per-request deadline in ms (capped by config). */
  timeout: z.number().int().positive().optional(),
};

const common = {
  model: z.string().min(1),
  max_tokens: z.number().int().min(1).nullable().optional(),
  temperature: nullableNumber(0, 2),
  top_p: nullableNumber(0, 1),
  stop,
  seed: z.number().int().nullable().optional(),
  presence_penalty: nullableNumber(-2, 2),
  frequency_penalty: nullableNumber(-2, 2),
  n: z.number().int().min(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.strictObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  user: z.string().max(256).optional(),
  logit_bias: z.record(z.string(), z.number()).nullable().optional(),
  ...extensions,
};

export const chatRequestSchema = z.strictObject({
  ...common,
  messages: z.array(chatMessageSchema).min(1, "messages must contain at least one message"),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  response_format: responseFormat.optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  tools: z.array(functionTool).max(128).nullable().optional(),
  tool_choice: toolChoice.nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  /**
   * Fields of OpenAI's spec that cannot change a local model's output: accepted, listed in
   * `x-switchyard-ignored-params` (see `ignoredChatParams`). Nothing is stored.
   */
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  store: z.boolean().nullable().optional(),
  service_tier: z.string().nullable().optional(),
  safety_identifier: z.string().max(64).nullable().optional(),
  prompt_cache_key: z.string().nullable().optional(),
  prompt_cache_retention: z.enum(["in_memory", "24h"]).nullable().optional(),
  prompt_cache_options: z.record(z.string(), z.unknown()).nullable().optional(),
  prediction: z.looseObject({ type: z.literal("content") }).nullable().optional(),
  verbosity: z.enum(["low", "medium", "high"]).nullable().optional(),
  reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullable().optional(),
  moderation: z.unknown().optional(),
  /** Fields whose output cannot be honoured here: refused by name in params.ts. */
  modalities: z.array(z.enum(["text", "audio"])).nullable().optional(),
  audio: z.unknown().optional(),
  web_search_options: z.unknown().optional(),
  functions: z.array(z.unknown()).optional(),
  function_call: z.unknown().optional(),
  /** Extension: ground the answer in a collection. */
  rag: z
    .strictObject({
      collection: z.string().min(1),
      top_k: z.number().int().min(1).max(50).optional(),
      mode: z.enum(["vector", "fulltext", "hybrid"]).optional(),
      filter: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
      /** Passages scoring below this are dropped; none left → "I don't know". */
      score_floor: z.number().optional(),
    })
    .optional(),
});

export const completionRequestSchema = z.strictObject({
  ...common,
  /** Text, or token ids (OpenAI's `number[]`, evaluated as given: no BOS added); one prompt per request. */
  prompt: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int()).min(1), z.array(z.array(z.number().int()).min(1)).min(1)]),
  /** 0 only with `echo` (score the prompt without generating, as OpenAI's legacy API and vLLM allow). */
  max_tokens: z.number().int().min(0).nullable().optional(),
  /** Put the prompt before the completion; with `logprobs`, its tokens scored (the first: null). Not streamed. */
  echo: z.boolean().nullable().optional(),
  logprobs: z.number().int().min(0).max(5).nullable().optional(),
  suffix: z.string().nullable().optional(),
  best_of: z.number().int().min(1).nullable().optional(),
});

export const embeddingRequestSchema = z.strictObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int()), z.array(z.array(z.number().int()))]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().max(256).optional(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type CompletionRequest = z.infer<typeof completionRequestSchema>;
