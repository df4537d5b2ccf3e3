/** Anthropic's Messages API: request translation, message/event rendering and Anthropic's error envelope. */
export { createMessageSchema, countTokensSchema, type CreateMessageRequest, type CountTokensRequest } from "./schemas.js";
export { translateMessages, type TranslatedMessages } from "./translate.js";
export { AnthropicRenderer, anthropicId, stopReasonOf, type AnthropicEvent, type AnthropicMessage, type StopReason } from "./render.js";
export { anthropicErrorBody, anthropicStatus, type AnthropicErrorBody, type AnthropicErrorType } from "./errors.js";
