/**
 * OpenAI's wire format: request schemas, request → engine params, response
 * shapes, tool-call ids and deltas, and the chat/completions plans and
 * renderer over the generation pipeline.
 */
export { chatRequestSchema, completionRequestSchema, embeddingRequestSchema, chatMessageSchema, type ChatRequest, type CompletionRequest } from "./schemas.js";
export { toChatMessages, chatParams, completionParams, completionInput, ignoredChatParams } from "./params.js";
export {
  chatRenderer,
  completionRenderer,
  openAIFinishReason,
  timingsBlock,
  usageBlock,
  type Renderer,
  type RendererOptions,
  type ResponseMeta,
  type ChoiceBody,
  type ChoiceDelta,
  type OpenAIFinishReason,
  type SwitchyardTimings,
} from "./openai-format.js";
export { openAIRenderer, type OpenAIRendererOptions } from "./renderer.js";
export { chatPlan, completionPlan } from "./plans.js";
export { ToolCallIds, toolCallDeltas, withIds, newToolCallId, type ToolCallDelta } from "./tool-calls.js";
export { toolsRequestOf } from "./tool-params.js";
export { toolParametersSchema } from "./tool-schema.js";
