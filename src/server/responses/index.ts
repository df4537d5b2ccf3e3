/** OpenAI's Responses API: request translation, response/event rendering and the stored-response interface. */
export { createResponseSchema, type CreateResponseRequest } from "./schemas.js";
export { translateRequest, toConversationItems, toChatMessages, type TranslatedRequest } from "./translate.js";
export { ResponseRenderer, type ResponseEvent, type ResponseObject, type ResponseRenderContext, type ResponseStatus } from "./render.js";
export { MemoryResponseStore, type MemoryResponseStoreOptions, type ResponseStore, type StoredResponse } from "./store.js";
export { newItemId, type ConversationItem } from "./items.js";
