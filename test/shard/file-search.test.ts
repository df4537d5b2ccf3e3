/**
 * The Responses API's `file_search` tool on the real path: real gateway and
 * shard processes on the generated tiny model, real LanceDB on disk, the
 * offline embedder, the official `openai` client. The answer is grounded in the
 * tenant's vector stores; the `file_search_call` item (results with
 * `include`), the `file_citation` annotations, every body and every stream
 * event are checked against OpenAI's published spec; another tenant's store is a 404.
 */
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_ANSWER_TEXT } from "../../src/rag/index.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { openAISpec } from "../helpers/openai-spec.js";

const KEY_A = "sk-fs-tenant-a-0000000001";
const KEY_B = "sk-fs-tenant-b-0000000002";
const POLL = { pollIntervalMs: 50 };

const REFUNDS = "Refund policy. Refunds are issued within 14 days of purchase. Open the order page and press Request refund; the money goes back to the original card.";
const SHIPPING = "Shipping. Standard shipping takes 3 to 5 business days. Express shipping arrives the next business day when ordered before noon.";
const QUESTION = "How many days do I have to get a refund for my purchase?";

let t: TestGateway;
let a: OpenAI;
let b: OpenAI;
let storeId = "";
let refundsId = "";
let shippingId = "";

function expectSpecBody(body: unknown): void {
  const spec = openAISpec();
  const check = spec.check(spec.responseRef("POST", "/responses", 200, "application/json"), JSON.parse(JSON.stringify({ ...(body as object), output_text: undefined })));
  expect(check.errors, JSON.stringify(body).slice(0, 800)).toEqual([]);
  expect(check.extensions).toEqual([]);
}

function expectSpecEvents(events: ReadonlyArray<{ type: string; sequence_number: number }>): void {
  const spec = openAISpec();
  const invalid = events.flatMap((e) => {
    const { errors, extensions } = spec.check(spec.unionMemberRef("ResponseStreamEvent", e.type), e);
    return errors.length || extensions.length ? [{ event: e.type, errors, extensions }] : [];
  });
  expect(invalid).toEqual([]);
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
}

const fileSearch = (extra: Partial<OpenAI.Responses.FileSearchTool> = {}): OpenAI.Responses.FileSearchTool => ({ type: "file_search", vector_store_ids: [storeId], ...extra });

beforeAll(async () => {
  openAISpec();
  t = await startTestGateway({ cache: { enabled: false }, auth: { keys: [{ key: KEY_A, tenant: "acme" }, { key: KEY_B, tenant: "globex" }] } }, { contextSize: 2048 });
  a = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: KEY_A, maxRetries: 0 });
  b = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: KEY_B, maxRetries: 0 });
  const store = await a.vectorStores.create({ name: "support" });
  storeId = store.id;
  refundsId = (await a.files.create({ file: await toFile(Buffer.from(REFUNDS), "refunds.txt"), purpose: "assistants" })).id;
  shippingId = (await a.files.create({ file: await toFile(Buffer.from(SHIPPING), "shipping.txt"), purpose: "assistants" })).id;
  const batch = await a.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: [refundsId, shippingId] }, POLL);
  expect(batch.file_counts).toMatchObject({ completed: 2, failed: 0 });
}, 180_000);
afterAll(async () => t?.close());

describe("responses.create with the file_search tool", { timeout: 180_000 }, () => {
  it("grounds the answer: a file_search_call item (results when included) before the message, file_citation annotations", async () => {
    const res = await a.responses.create({
      model: "tiny",
      input: QUESTION,
      tools: [fileSearch({ max_num_results: 2 })],
      include: ["file_search_call.results"],
      max_output_tokens: 24,
      temperature: 0,
    });
    expectSpecBody(res);
    expect(res.output.map((o) => o.type)).toEqual(["file_search_call", "message"]);
    const call = res.output[0] as OpenAI.Responses.ResponseFileSearchToolCall;
    expect(call.id).toMatch(/^fs_/);
    expect(call.status).toBe("completed");
    expect(call.queries).toEqual([QUESTION]);
    expect(call.results?.length).toBe(2);
    expect(call.results?.[0]).toMatchObject({ file_id: refundsId, filename: "refunds.txt" });
    expect(call.results?.[0]?.text).toContain("within 14 days");
    expect(call.results?.[0]?.score).toBeGreaterThan(call.results?.[1]?.score ?? 1);

    const message = res.output[1] as OpenAI.Responses.ResponseOutputMessage;
    const part = message.content[0] as OpenAI.Responses.ResponseOutputText;
    expect(part.text.length).toBeGreaterThan(0);
    const cited = part.annotations.filter((x) => x.type === "file_citation");
    // Every found file is cited once (inline where the model wrote [n], else at the end of the text).
    expect(new Set(cited.map((x) => x.file_id))).toEqual(new Set([refundsId, shippingId]));
    for (const x of cited) {
      expect(x.filename).toBe(x.file_id === refundsId ? "refunds.txt" : "shipping.txt");
      expect(x.index).toBeGreaterThanOrEqual(0);
      expect(x.index).toBeLessThanOrEqual(part.text.length);
    }

    // The sources are in the model's prompt: the same question without the tool reads far fewer tokens.
    const plain = await a.responses.create({ model: "tiny", input: QUESTION, max_output_tokens: 16, temperature: 0 });
    expect(res.usage!.input_tokens).toBeGreaterThan(plain.usage!.input_tokens + 40);
  });

  it("leaves results out unless include asks for them; a stored response and its continuation keep the item", async () => {
    const res = await a.responses.create({ model: "tiny", input: QUESTION, tools: [fileSearch()], max_output_tokens: 16, temperature: 0 });
    expectSpecBody(res);
    const call = res.output[0] as OpenAI.Responses.ResponseFileSearchToolCall;
    expect(call).toMatchObject({ type: "file_search_call", status: "completed", results: null });
    expect((await a.responses.retrieve(res.id)).output).toEqual(res.output);
    const next = await a.responses.create({ model: "tiny", previous_response_id: res.id, input: "And for shipping?", tools: [fileSearch()], max_output_tokens: 16, temperature: 0 });
    expectSpecBody(next);
    // A follow-up searches with the conversation's recent user turns (retrievalQuery).
    expect(next.output[0]).toMatchObject({ type: "file_search_call", queries: [expect.stringContaining("And for shipping?")] });
    // Handing the output back as input (manual conversation state) is accepted too.
    const manual = await a.responses.create({
      model: "tiny",
      input: [{ role: "user", content: QUESTION }, ...(res.output as OpenAI.Responses.ResponseInputItem[]), { role: "user", content: "Thanks" }],
      max_output_tokens: 16,
      temperature: 0,
    });
    expect(manual.status).not.toBe("failed");
  });

  it("streams the file_search_call events, then the message with annotation events; every event valid", async () => {
    const stream = await a.responses.create({
      model: "tiny",
      input: QUESTION,
      tools: [fileSearch()],
      include: ["file_search_call.results"],
      max_output_tokens: 16,
      temperature: 0,
      stream: true,
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    expectSpecEvents(events);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 7)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.file_search_call.in_progress",
      "response.file_search_call.searching",
      "response.file_search_call.completed",
      "response.output_item.done",
    ]);
    const added = events[2] as OpenAI.Responses.ResponseOutputItemAddedEvent;
    const done = events[6] as OpenAI.Responses.ResponseOutputItemDoneEvent;
    expect(added).toMatchObject({ output_index: 0, item: { type: "file_search_call", status: "in_progress" } });
    expect(done).toMatchObject({ output_index: 0, item: { id: added.item.id, type: "file_search_call", status: "completed", queries: [QUESTION] } });
    for (const e of events.slice(3, 6)) expect(e).toMatchObject({ output_index: 0, item_id: added.item.id });
    expect(events[7]).toMatchObject({ type: "response.output_item.added", output_index: 1, item: { type: "message" } });
    const annotations = events.flatMap((e) => (e.type === "response.output_text.annotation.added" ? [e] : []));
    expect(annotations.length).toBeGreaterThan(0);
    expect(annotations.map((e) => e.annotation_index)).toEqual(annotations.map((_, i) => i));
    expect(types.indexOf("response.output_text.annotation.added")).toBeLessThan(types.indexOf("response.output_text.done"));
    const last = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(last.response.output.map((o) => o.type)).toEqual(["file_search_call", "message"]);
    expect(last.response.output[0]).toEqual(done.item);
    const part = (last.response.output[1] as OpenAI.Responses.ResponseOutputMessage).content[0] as OpenAI.Responses.ResponseOutputText;
    expect(part.annotations).toEqual(annotations.map((e) => e.annotation));
  });

  it("answers 'I don't know' without the model when the search finds nothing (a filter no file matches)", async () => {
    const res = await a.responses.create({
      model: "tiny",
      input: QUESTION,
      tools: [fileSearch({ filters: { type: "eq", key: "lang", value: "fr" } })],
      include: ["file_search_call.results"],
      temperature: 0,
    });
    expectSpecBody(res);
    expect(res.output[0]).toMatchObject({ type: "file_search_call", results: [] });
    expect(res.output_text).toBe(NO_ANSWER_TEXT);
  });

  it("searches only the key's tenant: another tenant's or an unknown store is a 404; bad tools are 400s", async () => {
    await expect(b.responses.create({ model: "tiny", input: QUESTION, tools: [fileSearch()], max_output_tokens: 16 })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      b.responses.create({ model: "tiny", input: QUESTION, tools: [fileSearch()], max_output_tokens: 16, stream: true }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(a.responses.create({ model: "tiny", input: QUESTION, tools: [{ type: "file_search", vector_store_ids: ["vs_missing"] }], max_output_tokens: 16 })).rejects.toMatchObject({
      status: 404,
      error: { code: "vector_store_not_found" },
    });
    await expect(a.responses.create({ model: "tiny", input: QUESTION, tools: [{ type: "file_search", vector_store_ids: [] }], max_output_tokens: 16 })).rejects.toMatchObject({ status: 400 });
    await expect(a.responses.create({ model: "tiny", input: QUESTION, tools: [fileSearch({ max_num_results: 51 })], max_output_tokens: 16 })).rejects.toMatchObject({ status: 400 });
    await expect(a.responses.create({ model: "tiny", input: QUESTION, tools: [fileSearch(), fileSearch()], max_output_tokens: 16 })).rejects.toMatchObject({
      status: 400,
      error: { param: "tools[1]" },
    });
  });
});
