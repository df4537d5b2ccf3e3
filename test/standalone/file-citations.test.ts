/**
 * The `file_search` tool's pieces without a model: the request translation
 * (the tool is handed to the route, never to the model; tool_choice and
 * include), the `file_citation` annotations and the renderer's item order.
 */
import { describe, expect, it } from "vitest";
import { createResponseSchema, ResponseRenderer, translateRequest } from "../../src/server/responses/index.js";
import { fileCitations } from "../../src/server/responses/render.js";
import type { FileSearchResult } from "../../src/server/responses/items.js";
import type { GenerationResult } from "../../src/types.js";

const result = (file_id: string, filename: string): FileSearchResult => ({ file_id, filename, text: "t", score: 0.5, attributes: {} });
const refunds = result("file-a", "refunds.md");
const shipping = result("file-b", "shipping.md");

describe("fileCitations", () => {
  it("cites at each [n] marker, then once at the end for each found file not cited inline", () => {
    const text = "Within 14 days [1]. See also [3] and [1].";
    expect(fileCitations(text, [refunds, shipping])).toEqual([
      { type: "file_citation", file_id: "file-a", filename: "refunds.md", index: 15 },
      { type: "file_citation", file_id: "file-a", filename: "refunds.md", index: 37 },
      { type: "file_citation", file_id: "file-b", filename: "shipping.md", index: text.length },
    ]);
  });

  it("cites a file once at the end even when several of its chunks were found; nothing found, nothing cited", () => {
    expect(fileCitations("No markers.", [refunds, refunds, shipping]).map((c) => c.file_id)).toEqual(["file-a", "file-b"]);
    expect(fileCitations("[1]", [])).toEqual([]);
  });
});

describe("file_search in a request", () => {
  const parse = (body: Record<string, unknown>) => createResponseSchema.parse({ model: "tiny", input: "refunds?", ...body });

  it("hands the tool to the route, keeps function tools for the model, honours include and tool_choice", () => {
    const fn = { type: "function", name: "lookup", parameters: { type: "object" } };
    const t = translateRequest(parse({ tools: [{ type: "file_search", vector_store_ids: ["vs_1"], max_num_results: 3 }, fn], include: ["file_search_call.results"], tool_choice: { type: "file_search" } }), []);
    expect(t.fileSearch).toEqual({ type: "file_search", vector_store_ids: ["vs_1"], max_num_results: 3 });
    expect(t.searchResults).toBe(true);
    expect(t.chat.tools?.map((x) => x.function.name)).toEqual(["lookup"]);
    expect(t.chat.tool_choice).toBe("auto");
    const only = translateRequest(parse({ tools: [{ type: "file_search", vector_store_ids: ["vs_1"] }], tool_choice: "required" }), []);
    expect(only.chat.tools).toBeUndefined();
    expect(only.chat.tool_choice).toBeUndefined();
    expect(only.searchResults).toBe(false);
  });

  it("refuses malformed tools in the schema", () => {
    expect(createResponseSchema.safeParse({ model: "tiny", tools: [{ type: "file_search" }] }).success).toBe(false);
    expect(createResponseSchema.safeParse({ model: "tiny", tools: [{ type: "file_search", vector_store_ids: ["vs_1"], max_num_results: 0 }] }).success).toBe(false);
    expect(createResponseSchema.safeParse({ model: "tiny", tools: [{ type: "file_search", vector_store_ids: ["vs_1"], bogus: 1 }] }).success).toBe(false);
    expect(() => translateRequest(parse({ tool_choice: { type: "file_search" } }), [])).toThrow(/no file_search tool/);
  });

  it("puts the file_search_call item first, with results only when included", () => {
    const req = parse({});
    const done: GenerationResult = { text: "Yes [1].", finishReason: "stop", usage: { promptTokens: 5, completionTokens: 3 }, shard: "s", timings: { queueMs: 0, ttftMs: 0, decodeMs: 0, cachedPromptTokens: 0 } };
    const ctx = { id: "resp_1", createdAt: 1, model: "tiny", request: req, logprobs: false };
    const withResults = new ResponseRenderer({ ...ctx, fileSearch: { queries: ["refunds?"], results: [refunds], includeResults: true } }).finish(done).response;
    expect(withResults.output.map((o) => o.type)).toEqual(["file_search_call", "message"]);
    expect(withResults.output[0]).toMatchObject({ status: "completed", queries: ["refunds?"], results: [refunds] });
    const without = new ResponseRenderer({ ...ctx, fileSearch: { queries: ["refunds?"], results: [refunds], includeResults: false } }).finish(done).response;
    expect(without.output[0]).toMatchObject({ results: null });
    expect(without.output[1]).toMatchObject({ content: [{ annotations: [{ type: "file_citation", file_id: "file-a", index: 4 }] }] });
  });
});
