/**
 * The pure pieces behind tools and logprobs, without a model: the forced-call
 * stream scanner, LlamaChat call collection, the text stream (stop strings,
 * UTF-8 hold-back, logprob attachment), the sampler, the tool schema check,
 * and the OpenAI renderings.
 */
import { describe, expect, it } from "vitest";
import { ForcedCallStream } from "../../src/engine/forced-call-stream.js";
import { AutoCallCollector } from "../../src/engine/auto-calls.js";
import { TokenTextStream } from "../../src/engine/token-text-stream.js";
import { TokenSampler, type Candidate } from "../../src/engine/sampler.js";
import { forcedCallSchema } from "../../src/engine/tools.js";
import { toChatHistory } from "../../src/engine/chat-history.js";
import { toolParametersSchema } from "../../src/server/openai/tool-schema.js";
import { ToolCallIds, toolCallDeltas } from "../../src/server/openai/tool-calls.js";
import { chatRenderer, completionRenderer } from "../../src/server/openai/openai-format.js";
import { mergedUsage } from "../../src/server/generation/respond.js";
import { GatewayError } from "../../src/errors.js";
import type { ToolCallFragment, TokenLogprob } from "../../src/types.js";

/** Feeds text in pieces of `size` characters and collects the fragments. */
function feed(text: string, size: number): { fragments: ToolCallFragment[]; stream: ForcedCallStream } {
  const stream = new ForcedCallStream();
  const fragments: ToolCallFragment[] = [];
  for (let i = 0; i < text.length; i += size) fragments.push(...stream.push(text.slice(i, i + size)));
  return { fragments, stream };
}

function reassemble(fragments: ToolCallFragment[]): Array<{ name: string; arguments: string }> {
  const calls: Array<{ name: string; arguments: string }> = [];
  for (const f of fragments) {
    if (f.name !== undefined) calls[f.index] = { name: f.name, arguments: "" };
    calls[f.index]!.arguments += f.arguments;
  }
  return calls;
}

describe("ForcedCallStream", () => {
  const one = '{"name": "get_weather", "arguments": {"city": "Pa\\"ris}", "nested": {"a": [1, {"b": "}"}]}}}';

  it.each([1, 2, 7, one.length])("announces the name first, then streams the raw arguments (pieces of %i)", (size) => {
    const { fragments, stream } = feed(one, size);
    expect(fragments[0]).toEqual({ index: 0, name: "get_weather", arguments: "" });
    expect(fragments.slice(1).every((f) => f.name === undefined)).toBe(true);
    const args = '{"city": "Pa\\"ris}", "nested": {"a": [1, {"b": "}"}]}}';
    expect(reassemble(fragments)).toEqual([{ name: "get_weather", arguments: args }]);
    expect(stream.calls).toEqual([{ name: "get_weather", arguments: args }]);
    expect(JSON.parse(args)).toEqual({ city: 'Pa"ris}', nested: { a: [1, { b: "}" }] } });
  });

  it("handles an array of calls with whitespace and escaped names", () => {
    const text = ' [ {"name":"a","arguments":{}} ,\n {"name": "b\\u005fc", "arguments": {"x": true}} ] ';
    const { fragments, stream } = feed(text, 3);
    expect(stream.calls).toEqual([
      { name: "a", arguments: "{}" },
      { name: "b_c", arguments: '{"x": true}' },
    ]);
    expect(reassemble(fragments)).toEqual(stream.calls);
  });

  it("keeps a call cut short (max_tokens) as far as it got", () => {
    const { stream } = feed('{"name": "f", "arguments": {"a": "hal', 4);
    expect(stream.calls).toEqual([{ name: "f", arguments: '{"a": "hal' }]);
    expect(feed('{"name": "f', 4).stream.calls).toEqual([]);
  });
});

describe("AutoCallCollector", () => {
  it("maps LlamaChat's parameter chunks to fragments, without trailing whitespace", () => {
    const sent: ToolCallFragment[] = [];
    const calls = new AutoCallCollector((f) => sent.push(...f));
    for (const piece of ["{", ' "a"', ": 1", " }", "\n", "\n"]) calls.onParamsChunk(0, "f", piece);
    const result = calls.finish([{ functionName: "f", params: { a: 1 } }, { functionName: "g", params: undefined }]);
    expect(result).toEqual([
      { name: "f", arguments: '{ "a": 1 }' },
      { name: "g", arguments: "{}" },
    ]);
    expect(reassemble(sent)).toEqual(result);
  });
});

describe("TokenTextStream", () => {
  // Token n decodes to pieces[n]; the detokenizer here needs no context.
  const pieces = ["Hel", "lo", " wor", "ld", "!", " St", "OP", " more"];
  const detok = (tokens: readonly number[]) => tokens.map((t) => pieces[t]).join("");
  const entry = (t: number): Omit<TokenLogprob, "offset"> => ({ token: pieces[t]!, logprob: -t, bytes: [], top: [] });

  it("cuts at a stop string split over tokens, holds back partial matches, drops the stop's tokens", () => {
    const stream = new TokenTextStream(detok, ["StOP"]);
    const out: string[] = [];
    const lps: TokenLogprob[] = [];
    for (let t = 0; t < pieces.length && !stream.stopped; t++) {
      const piece = stream.push(t, entry(t));
      if (piece) {
        out.push(piece.text);
        lps.push(...piece.logprobs);
        // Nothing that could begin the stop string is ever sent early.
        expect(piece.text.endsWith(" St")).toBe(false);
      }
    }
    const last = stream.finish();
    if (last) out.push(last.text);
    expect(stream.stopped).toBe(true);
    expect(out.join("")).toBe("Hello world! ");
    expect(stream.text).toBe("Hello world! ");
    // " St" starts inside the returned text, so its entry stays; "OP" is wholly the stop string.
    expect(lps.map((l) => l.token)).toEqual(["Hel", "lo", " wor", "ld", "!", " St"]);
    expect(lps.map((l) => l.offset)).toEqual([0, 3, 5, 9, 11, 12]);
  });

  it("holds tokens that end inside a UTF-8 character", () => {
    // Token 0 alone is half of "é" (U+FFFD); with token 1 it completes.
    const stream = new TokenTextStream((tokens) => (tokens.length === 1 && tokens[0] === 0 ? "\uFFFD" : "é"), []);
    expect(stream.push(0)).toBeUndefined();
    expect(stream.push(1)).toEqual({ text: "é", tokens: 2, logprobs: [] });
    expect(stream.finish()).toBeUndefined();
  });
});

describe("TokenSampler", () => {
  const candidates: Candidate[] = [
    [10, 0.5],
    [11, 0.3],
    [12, 0.15],
    [13, 0.05],
  ];
  const settings = { temperature: 1, topK: 0, topP: 1, presencePenalty: 0, frequencyPenalty: 0 };

  it("is greedy at temperature 0 and honours penalties", () => {
    expect(new TokenSampler({ ...settings, temperature: 0 }).choose(candidates, [])).toBe(10);
    expect(new TokenSampler({ ...settings, temperature: 0, presencePenalty: 2 }).choose(candidates, [10])).toBe(11);
  });

  it("is reproducible for a seed, restricted by top_k and top_p", () => {
    const draw = (extra: object, seed: number) => {
      const s = new TokenSampler({ ...settings, ...extra, seed });
      return Array.from({ length: 200 }, () => s.choose(candidates, []));
    };
    expect(draw({}, 1)).toEqual(draw({}, 1));
    expect(draw({}, 1)).not.toEqual(draw({}, 2));
    expect(new Set(draw({}, 3))).toEqual(new Set([10, 11, 12, 13]));
    expect(new Set(draw({ topK: 2 }, 3))).toEqual(new Set([10, 11]));
    expect(new Set(draw({ topP: 0.75 }, 3))).toEqual(new Set([10, 11]));
  });
});

describe("tool schemas", () => {
  const param = "tools[0].function.parameters";

  it("accepts any valid JSON schema unchanged: what the grammar cannot carry is validated afterwards", () => {
    const schemas = [
      {
        $schema: "http://json-schema.org/draft-07/schema#",
        type: "object",
        title: "x",
        properties: { u: { anyOf: [{ const: "c" }, { $ref: "#/definitions/F" }] }, d: { type: "string", format: "date" } },
        definitions: { F: { type: ["string", "null"], description: "f" } },
        required: ["u"],
        additionalProperties: false,
      },
      { type: "object", properties: { a: { type: "string", pattern: "x" }, n: { type: "number", maximum: 3 }, e: { type: "string", format: "email" }, l: { allOf: [{ type: "string" }] } } },
      { type: "object", properties: { m: { type: "object", propertyNames: { maxLength: 3 }, additionalProperties: { type: "integer", exclusiveMinimum: 0 } } } },
    ];
    for (const schema of schemas) expect(toolParametersSchema(schema, param)).toBe(schema);
    expect(toolParametersSchema(undefined, param)).toEqual({ type: "object", properties: {} });
  });

  it.each([
    [{ type: "array" }, "must have type 'object'"],
    [{ type: "object", properties: { a: { type: "strin" } } }, "not a valid JSON schema"],
    [{ type: "object", properties: { a: { $ref: "#/$defs/missing" } } }, "resolve reference"],
    [{ type: "object", properties: { a: { type: "string", minLength: -1 } } }, "minLength"],
  ])("refuses %j", (schema, message) => {
    let caught: unknown;
    try {
      toolParametersSchema(schema, param);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect((caught as GatewayError).status).toBe(400);
    expect((caught as GatewayError).param).toBe(param);
    expect((caught as GatewayError).message).toContain(message);
  });

  it("forces one call of the named tool, or an array when parallel calls are allowed and templated", () => {
    const tools = [
      { name: "a", parameters: { type: "object" } },
      { name: "b", parameters: { type: "object" } },
    ];
    const single = forcedCallSchema({ tools, choice: { name: "b" }, parallel: true }, true);
    expect(single).toMatchObject({ properties: { name: { const: "b" } } });
    expect(forcedCallSchema({ tools, choice: "required", parallel: true }, false)).toHaveProperty("anyOf");
    expect(forcedCallSchema({ tools, choice: "required", parallel: true }, true)).toMatchObject({ type: "array", minItems: 1, items: { anyOf: [{}, {}] } });
    expect(forcedCallSchema({ tools, choice: "required", parallel: false }, true)).toHaveProperty("anyOf");
  });
});

describe("history and renderings", () => {
  it("turns assistant tool calls and their results into function-call items", () => {
    const history = toChatHistory([
      { role: "user", content: "q" },
      {
        role: "assistant",
        content: "",
        toolCalls: [
          { id: "c1", type: "function", function: { name: "f", arguments: '{"a":1}' } },
          { id: "c2", type: "function", function: { name: "g", arguments: "" } },
        ],
      },
      { role: "tool", content: "plain text", toolCallId: "c2" },
      { role: "tool", content: '{"ok":true}', toolCallId: "c1" },
      { role: "tool", content: "stray", toolCallId: "c9" },
    ]);
    expect(history).toEqual([
      { type: "user", text: "q" },
      {
        type: "model",
        response: [
          { type: "functionCall", name: "f", params: { a: 1 }, result: { ok: true } },
          { type: "functionCall", name: "g", params: undefined, result: "plain text" },
        ],
      },
      { type: "user", text: "Tool result (c9):\nstray" },
      { type: "model", response: [] },
    ]);
  });

  it("renders tool-call deltas with one id per call", () => {
    const ids = new ToolCallIds();
    const deltas = toolCallDeltas(
      [
        { index: 0, name: "f", arguments: "{" },
        { index: 0, arguments: "}" },
      ],
      ids,
    );
    expect(deltas).toEqual([
      { index: 0, id: ids.of(0), type: "function", function: { name: "f", arguments: "" } },
      { index: 0, function: { arguments: "{" } },
      { index: 0, function: { arguments: "}" } },
    ]);
  });

  it("renders logprobs in chat and legacy completion shapes", () => {
    const lp: TokenLogprob = { token: "a", logprob: -0.1, bytes: [97], offset: 0, top: [{ token: "a", logprob: -0.1, bytes: [97] }, { token: "b", logprob: -2.5, bytes: [98] }] };
    const meta = { id: "x", created: 1, model: "m" };
    const extra = { switchyard: { queue_ms: 0, ttft_ms: 0, decode_ms: 0, cached_prompt_tokens: 0, shard: "s", cache: "bypass" as const } };
    const chat = chatRenderer(meta, { withUsage: false, withLogprobs: true }).body([{ index: 0, text: "a", finishReason: "stop", logprobs: [lp] }], { promptTokens: 1, completionTokens: 1 }, extra) as {
      choices: Array<{ logprobs: unknown }>;
    };
    expect(chat.choices[0]!.logprobs).toEqual({
      content: [{ token: "a", logprob: -0.1, bytes: [97], top_logprobs: [{ token: "a", logprob: -0.1, bytes: [97] }, { token: "b", logprob: -2.5, bytes: [98] }] }],
      refusal: null,
    });
    const legacy = completionRenderer(meta, { withUsage: false, withLogprobs: true }).delta(1, { text: "a", logprobs: [{ ...lp, top: [{ token: "b", logprob: -2.5, bytes: [98] }] }] }) as {
      choices: Array<{ index: number; logprobs: unknown }>;
    };
    expect(legacy.choices[0]).toMatchObject({
      index: 1,
      logprobs: { tokens: ["a"], token_logprobs: [-0.1], top_logprobs: [{ b: -2.5, a: -0.1 }], text_offset: [0] },
    });
    expect(mergedUsage([{ promptTokens: 5, completionTokens: 2 }, { promptTokens: 5, completionTokens: 3 }])).toEqual({ promptTokens: 5, completionTokens: 5 });
  });
});
