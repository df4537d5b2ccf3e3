/**
 * The Anthropic Messages layer without a model: request translation (into a
 * chat request the chat schema accepts), the message body and stream events
 * validated against Anthropic's published shapes, and the error envelope.
 */
import { describe, expect, it } from "vitest";
import { GatewayError, invalidRequest, overloaded, rateLimited, timeout, unauthorized } from "../../src/errors.js";
import { chatRequestSchema } from "../../src/server/openai/schemas.js";
import {
  AnthropicRenderer,
  anthropicErrorBody,
  anthropicStatus,
  countTokensSchema,
  createMessageSchema,
  translateMessages,
  type AnthropicEvent,
} from "../../src/server/anthropic/index.js";
import type { GenerationResult } from "../../src/types.js";
import { anthropicSpec } from "../helpers/anthropic-spec.js";

const parse = (body: Record<string, unknown>) => createMessageSchema.parse({ model: "tiny", max_tokens: 32, ...body });

function refusal(body: Record<string, unknown>): GatewayError {
  try {
    translateMessages(parse(body));
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

const weather = { name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { enum: ["Paris"] } }, required: ["city"] } };
const result = (patch: Partial<GenerationResult> = {}): GenerationResult => ({
  text: "Hello world",
  finishReason: "stop",
  usage: { promptTokens: 10, completionTokens: 2 },
  timings: { queueMs: 0, ttftMs: 1, decodeMs: 2, cachedPromptTokens: 3 },
  shard: "tiny#0",
  ...patch,
});

describe("Anthropic: request translation", () => {
  it("maps system, sampling fields and a text conversation to a valid chat request", () => {
    const { chat, ignored } = translateMessages(
      parse({
        system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
        messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: [{ type: "text", text: "Hello" }] }, { role: "user", content: [{ type: "text", text: "More" }] }],
        stop_sequences: ["END"],
        temperature: 0.5,
        top_p: 0.9,
        top_k: 40,
        metadata: { user_id: "u-1" },
        service_tier: "auto",
      }),
    );
    expect(chatRequestSchema.safeParse(chat).success).toBe(true);
    expect(chat).toMatchObject({
      max_tokens: 32,
      stop: ["END"],
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      user: "u-1",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello" },
        { role: "user", content: "More" },
      ],
    });
    expect(ignored.sort()).toEqual(["cache_control", "service_tier"]);
  });

  it("maps a tool round trip: tool_use → assistant tool_calls, tool_result → tool messages before the user's text", () => {
    const { chat } = translateMessages(
      parse({
        tools: [weather],
        tool_choice: { type: "any", disable_parallel_tool_use: true },
        messages: [
          { role: "user", content: "Weather?" },
          { role: "assistant", content: [{ type: "text", text: "Checking." }, { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }] },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "18C" }] },
              { type: "text", text: "Thanks" },
            ],
          },
        ],
      }),
    );
    expect(chatRequestSchema.safeParse(chat).success).toBe(true);
    expect(chat.messages.slice(1)).toEqual([
      { role: "assistant", content: "Checking.", tool_calls: [{ id: "toolu_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }] },
      { role: "tool", tool_call_id: "toolu_1", content: "18C" },
      { role: "user", content: "Thanks" },
    ]);
    expect(chat.tools).toEqual([{ type: "function", function: { name: "get_weather", description: "Weather", parameters: weather.input_schema } }]);
    expect(chat).toMatchObject({ tool_choice: "required", parallel_tool_calls: false });
    expect(translateMessages(parse({ messages: [{ role: "user", content: "x" }], tools: [weather], tool_choice: { type: "tool", name: "get_weather" } })).chat.tool_choice).toEqual({
      type: "function",
      function: { name: "get_weather" },
    });
    expect(translateMessages(parse({ messages: [{ role: "user", content: "x" }], tools: [weather], tool_choice: { type: "none" } })).chat.tool_choice).toBe("none");
  });

  it("output_config.format becomes response_format; its effort is ignored", () => {
    const schema = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] };
    const { chat, ignored } = translateMessages(parse({ messages: [{ role: "user", content: "x" }], output_config: { format: { type: "json_schema", schema }, effort: "low" } }));
    expect(chat.response_format).toEqual({ type: "json_schema", json_schema: { name: "output", schema } });
    expect(ignored).toEqual(["output_config.effort"]);
  });

  it("count_tokens takes the prompt fields only", () => {
    const body = { model: "tiny", system: "S", messages: [{ role: "user", content: "Hi" }], tools: [weather] };
    const { chat } = translateMessages(countTokensSchema.parse(body));
    expect(chat.messages).toEqual([{ role: "system", content: "S" }, { role: "user", content: "Hi" }]);
    expect(chat.max_tokens).toBeUndefined();
    expect(countTokensSchema.safeParse({ ...body, max_tokens: 5 }).success).toBe(false);
  });

  it("refuses what a local text model cannot serve, naming the field", () => {
    const image = { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } };
    expect(refusal({ messages: [{ role: "user", content: [image] }] })).toMatchObject({ status: 400, param: "messages[0].content[0]" });
    expect(refusal({ messages: [{ role: "assistant", content: [{ type: "thinking", thinking: "hm", signature: "s" }] }] }).message).toMatch(/thinking/);
    expect(refusal({ messages: [{ role: "user", content: "x" }], thinking: { type: "enabled", budget_tokens: 1024 } })).toMatchObject({ param: "thinking" });
    expect(refusal({ messages: [{ role: "user", content: "x" }], tools: [{ type: "web_search_20250305", name: "web_search" }] })).toMatchObject({ param: "tools[0].type" });
    expect(refusal({ messages: [{ role: "user", content: [{ type: "tool_use", id: "t", name: "f", input: {} }] }] })).toMatchObject({ param: "messages[0].content[0]" });
    expect(createMessageSchema.safeParse({ model: "tiny", messages: [{ role: "user", content: "x" }] }).success).toBe(false);
    expect(createMessageSchema.safeParse({ model: "tiny", max_tokens: 5, messages: [{ role: "user", content: "x" }], temperature: 1.5 }).success).toBe(false);
  });
});

describe("Anthropic: rendering against the published shapes", () => {
  const renderer = () => new AnthropicRenderer({ id: "msg_01abc", model: "tiny" });

  it("a text message, streamed and not, agree", () => {
    const r = renderer();
    const events: AnthropicEvent[] = [...r.start(10), ...r.chunk({ text: "Hello", tokens: 1 }), ...r.chunk({ text: "", tokens: 0 }), ...r.chunk({ text: " world", tokens: 1 })];
    const { events: tail, message } = r.finish(result());
    const all = [...events, ...tail];
    expect(anthropicSpec.stream(all)).toEqual([]);
    expect(anthropicSpec.message(message)).toEqual([]);
    // The checks can fail: a missing stop, a block left open, an undeclared field.
    expect(anthropicSpec.stream(all.slice(0, -1))).not.toEqual([]);
    expect(anthropicSpec.stream(all.filter((e) => e.type !== "content_block_stop"))).not.toEqual([]);
    expect(anthropicSpec.message({ ...message, extra: 1 })).not.toEqual([]);
    expect(all.map((e) => e.type)).toEqual(["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
    expect(message).toMatchObject({ content: [{ type: "text", text: "Hello world" }], stop_reason: "end_turn", usage: { input_tokens: 10, output_tokens: 2 } });
    const body = renderer().finish(result()).message;
    expect({ ...body, id: "" }).toEqual({ ...message, id: "" });
  });

  it("text then a tool call: tool_use with parsed input, stop_reason tool_use", () => {
    const r = renderer();
    const events = [
      ...r.start(10),
      ...r.chunk({ text: "Let me check.", tokens: 3 }),
      ...r.chunk({ text: "", tokens: 1, toolCalls: [{ index: 0, name: "get_weather", arguments: "" }] }),
      ...r.chunk({ text: "", tokens: 4, toolCalls: [{ index: 0, arguments: "{\"city\":\"Paris\"}" }] }),
    ];
    const { events: tail, message } = r.finish(result({ text: "Let me check.", toolCalls: [{ name: "get_weather", arguments: "{\"city\":\"Paris\"}" }] }));
    expect(anthropicSpec.stream([...events, ...tail])).toEqual([]);
    expect(anthropicSpec.message(message)).toEqual([]);
    expect(message.content).toEqual([
      { type: "text", text: "Let me check.", citations: null },
      { type: "tool_use", id: expect.stringMatching(/^toolu_/), name: "get_weather", input: { city: "Paris" } },
    ]);
    expect(message.stop_reason).toBe("tool_use");
    expect([...events, ...tail].filter((e) => e.type === "content_block_delta").map((e) => (e.delta as { type: string }).type)).toEqual(["text_delta", "input_json_delta"]);
  });

  it("max_tokens and stop_sequence stop reasons; an empty answer has no blocks", () => {
    expect(renderer().finish(result({ finishReason: "length" })).message.stop_reason).toBe("max_tokens");
    const stopped = renderer().finish(result({ stopSequence: "END" })).message;
    expect(stopped).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: "END" });
    const r = renderer();
    const empty = [...r.start(4), ...r.finish(result({ text: "" })).events];
    expect(anthropicSpec.stream(empty)).toEqual([]);
  });

  it("errors: Anthropic's envelope and status codes, mid-stream as an error event", () => {
    expect(anthropicStatus(invalidRequest("bad"))).toEqual({ status: 400, type: "invalid_request_error" });
    expect(anthropicStatus(unauthorized())).toEqual({ status: 401, type: "authentication_error" });
    expect(anthropicStatus(rateLimited("slow down", 1000))).toEqual({ status: 429, type: "rate_limit_error" });
    expect(anthropicStatus(overloaded("busy", 1000))).toEqual({ status: 529, type: "overloaded_error" });
    expect(anthropicStatus(timeout("late"))).toEqual({ status: 504, type: "timeout_error" });
    expect(anthropicStatus(new GatewayError(500, "server_error", "x"))).toEqual({ status: 500, type: "api_error" });
    const body = anthropicErrorBody(invalidRequest("Field required", { param: "max_tokens" }), "req_1");
    expect(body).toEqual({ type: "error", error: { type: "invalid_request_error", message: "max_tokens: Field required" }, request_id: "req_1" });
    expect(anthropicSpec.error(body)).toEqual([]);
    const r = renderer();
    const failed = [...r.start(3), ...r.chunk({ text: "Hi", tokens: 1 }), ...r.fail(new GatewayError(500, "server_error", "The model backend failed."))];
    expect(anthropicSpec.stream(failed)).toEqual([]);
    expect(failed.at(-1)).toMatchObject({ type: "error", error: { type: "api_error" } });
  });
});
