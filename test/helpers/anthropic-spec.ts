/**
 * JSON Schemas of Anthropic's Messages API responses, for ajv. Anthropic
 * publishes no OpenAPI description; these are transcribed from the types of the
 * official client, @anthropic-ai/sdk 1.14 (`resources/messages/messages.d.ts`:
 * Message, Usage, TextBlock, ToolUseBlock, RawMessageStreamEvent members,
 * MessageTokensCount) and the error shape of its docs
 * (`{"type":"error","error":{"type","message"}}`). Objects are closed
 * (`additionalProperties: false`) wherever the SDK type lists every field, so an
 * undeclared field fails instead of passing silently. Also checks that a stream's
 * events come in the order Anthropic's SDK accumulates them.
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";

const int = { type: "integer", minimum: 0 };
const nullableInt = { anyOf: [int, { type: "null" }] };
const stopReason = { anyOf: [{ enum: ["end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal", "model_context_window_exceeded"] }, { type: "null" }] };

const textBlock = {
  type: "object",
  additionalProperties: false,
  required: ["type", "text"],
  properties: { type: { const: "text" }, text: { type: "string" }, citations: { anyOf: [{ type: "array" }, { type: "null" }] } },
};
const toolUseBlock = {
  type: "object",
  additionalProperties: false,
  required: ["type", "id", "name", "input"],
  properties: { type: { const: "tool_use" }, id: { type: "string", pattern: "^toolu_" }, name: { type: "string" }, input: { type: "object" } },
};
const usage = {
  type: "object",
  additionalProperties: false,
  required: ["input_tokens", "output_tokens"],
  properties: {
    input_tokens: int,
    output_tokens: int,
    cache_creation_input_tokens: nullableInt,
    cache_read_input_tokens: nullableInt,
    service_tier: { anyOf: [{ enum: ["standard", "priority", "batch"] }, { type: "null" }] },
  },
};
const message = {
  type: "object",
  additionalProperties: false,
  required: ["id", "type", "role", "content", "model", "stop_reason", "stop_sequence", "usage"],
  properties: {
    id: { type: "string", pattern: "^msg_" },
    type: { const: "message" },
    role: { const: "assistant" },
    content: { type: "array", items: { anyOf: [textBlock, toolUseBlock] } },
    model: { type: "string" },
    stop_reason: stopReason,
    stop_sequence: { anyOf: [{ type: "string" }, { type: "null" }] },
    usage,
  },
};
const errorBody = {
  type: "object",
  additionalProperties: false,
  required: ["type", "error"],
  properties: {
    type: { const: "error" },
    error: {
      type: "object",
      additionalProperties: false,
      required: ["type", "message"],
      properties: {
        type: { enum: ["invalid_request_error", "authentication_error", "billing_error", "permission_error", "not_found_error", "request_too_large", "rate_limit_error", "timeout_error", "api_error", "overloaded_error"] },
        message: { type: "string" },
      },
    },
    request_id: { type: "string" },
  },
};
const event = (type: string, properties: Record<string, unknown> = {}, required: string[] = []) => ({
  type: "object",
  additionalProperties: false,
  required: ["type", ...required],
  properties: { type: { const: type }, ...properties },
});
const events: Record<string, object> = {
  message_start: event("message_start", { message }, ["message"]),
  content_block_start: event("content_block_start", { index: int, content_block: { anyOf: [textBlock, toolUseBlock] } }, ["index", "content_block"]),
  content_block_delta: event(
    "content_block_delta",
    {
      index: int,
      delta: {
        anyOf: [
          { type: "object", additionalProperties: false, required: ["type", "text"], properties: { type: { const: "text_delta" }, text: { type: "string" } } },
          { type: "object", additionalProperties: false, required: ["type", "partial_json"], properties: { type: { const: "input_json_delta" }, partial_json: { type: "string" } } },
        ],
      },
    },
    ["index", "delta"],
  ),
  content_block_stop: event("content_block_stop", { index: int }, ["index"]),
  message_delta: event(
    "message_delta",
    {
      delta: { type: "object", additionalProperties: false, required: ["stop_reason", "stop_sequence"], properties: { stop_reason: stopReason, stop_sequence: { anyOf: [{ type: "string" }, { type: "null" }] } } },
      usage: {
        type: "object",
        additionalProperties: false,
        required: ["output_tokens"],
        properties: { output_tokens: int, input_tokens: nullableInt, cache_creation_input_tokens: nullableInt, cache_read_input_tokens: nullableInt },
      },
    },
    ["delta", "usage"],
  ),
  message_stop: event("message_stop"),
  ping: event("ping"),
  error: errorBody,
};

const ajv = new Ajv2020({ strict: true, allErrors: true });
const compiled = new Map<string, ValidateFunction>();
function validator(name: string, schema: object): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(name, v);
  }
  return v;
}

function errorsOf(v: ValidateFunction, body: unknown): string[] {
  return v(body) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`);
}

export const anthropicSpec = {
  message: (body: unknown) => errorsOf(validator("message", message), body),
  error: (body: unknown) => errorsOf(validator("error", errorBody), body),
  countTokens: (body: unknown) =>
    errorsOf(validator("count", { type: "object", additionalProperties: false, required: ["input_tokens"], properties: { input_tokens: int } }), body),
  /** Each event against its type's schema, then the order: start, blocks (start, deltas, stop, by index), delta, stop. */
  stream(list: ReadonlyArray<{ type: string; [k: string]: unknown }>): string[] {
    const problems: string[] = [];
    list.forEach((e, i) => {
      const schema = events[e.type];
      if (!schema) problems.push(`event ${i}: unknown type ${e.type}`);
      else problems.push(...errorsOf(validator(e.type, schema), e).map((m) => `event ${i} (${e.type}): ${m}`));
    });
    const types = list.map((e) => e.type).filter((t) => t !== "ping");
    if (types.at(-1) === "error") return problems;
    if (types[0] !== "message_start") problems.push("the first event is not message_start");
    if (types.at(-1) !== "message_stop" || types.at(-2) !== "message_delta") problems.push("the stream does not end with message_delta, message_stop");
    let open: number | undefined;
    let next = 0;
    for (const e of list) {
      if (e.type === "content_block_start") {
        if (open !== undefined) problems.push(`block ${String(e.index)} started while block ${open} is open`);
        if (e.index !== next) problems.push(`block ${String(e.index)} started, expected ${next}`);
        open = e.index as number;
        next++;
      } else if (e.type === "content_block_delta" && e.index !== open) problems.push(`delta for block ${String(e.index)} outside it`);
      else if (e.type === "content_block_stop") {
        if (e.index !== open) problems.push(`stop for block ${String(e.index)} that is not open`);
        open = undefined;
      } else if ((e.type === "message_delta" || e.type === "message_stop") && open !== undefined) problems.push(`${e.type} while block ${open} is open`);
    }
    return problems;
  },
};
