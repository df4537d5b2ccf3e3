/**
 * OpenAI's files and vector-store API on the real path: real gateway, real
 * LanceDB on disk, the offline embedder, the official `openai` client; bodies
 * validated against OpenAI's OpenAPI description; tenants isolated.
 */
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { openAISpec } from "../helpers/openai-spec.js";

const KEY_A = "sk-vs-tenant-a-0000000001";
const KEY_B = "sk-vs-tenant-b-0000000002";
const POLL = { pollIntervalMs: 50 };

const REFUNDS = "# Refund policy\n\nRefunds are issued within 14 days of purchase. Open the order page and press Request refund; the money goes back to the original card.";
const SHIPPING = "Standard shipping takes 3 to 5 business days. Express shipping arrives the next business day when ordered before noon.";
const PASSWORD = "To reset your password, click Forgot password on the sign-in page and follow the link we email you.";

let t: TestGateway;
let a: OpenAI;
let b: OpenAI;

function expectSpec(method: string, route: string, body: unknown): void {
  const spec = openAISpec();
  const result = spec.check(spec.responseRef(method, route, 200, "application/json"), body);
  expect(result.errors, `${method} ${route}`).toEqual([]);
}

beforeAll(async () => {
  t = await startTestGateway({ auth: { keys: [{ key: KEY_A, tenant: "acme" }, { key: KEY_B, tenant: "globex" }] } });
  a = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: KEY_A, maxRetries: 0 });
  b = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: KEY_B, maxRetries: 0 });
});
afterAll(async () => t?.close());

describe("files and vector stores with the official client", { timeout: 180_000 }, () => {
  let refundsId = "";
  let storeId = "";

  it("uploads, lists, retrieves and reads files", async () => {
    const file = await a.files.create({ file: await toFile(Buffer.from(REFUNDS), "refunds.md"), purpose: "assistants" });
    expectSpec("POST", "/files", file);
    expect(file).toMatchObject({ object: "file", filename: "refunds.md", purpose: "assistants", bytes: Buffer.byteLength(REFUNDS) });
    refundsId = file.id;
    expectSpec("GET", "/files/{file_id}", await a.files.retrieve(file.id));
    const list = await a.files.list();
    expect(list.data.map((f) => f.id)).toContain(file.id);
    expect(await (await a.files.content(file.id)).text()).toBe(REFUNDS);
  });

  it("creates a store, attaches a file (in_progress → completed) and searches it", async () => {
    const store = await a.vectorStores.create({ name: "support" });
    expectSpec("POST", "/vector_stores", store);
    storeId = store.id;
    const attached = await a.vectorStores.files.createAndPoll(store.id, { file_id: refundsId, attributes: { lang: "en" } }, POLL);
    expect(attached).toMatchObject({ id: refundsId, object: "vector_store.file", status: "completed", last_error: null, vector_store_id: store.id });
    expectSpec("GET", "/vector_stores/{vector_store_id}/files/{file_id}", attached);

    const shipping = await a.files.create({ file: await toFile(Buffer.from(SHIPPING), "shipping.txt"), purpose: "user_data" });
    const password = await a.files.create({ file: await toFile(Buffer.from(PASSWORD), "password.txt"), purpose: "assistants" });
    const batch = await a.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: [shipping.id, password.id] }, POLL);
    expect(batch).toMatchObject({ object: "vector_store.files_batch", status: "completed", file_counts: { completed: 2, total: 2, failed: 0 } });
    expectSpec("GET", "/vector_stores/{vector_store_id}/file_batches/{batch_id}", batch);

    const retrieved = await a.vectorStores.retrieve(store.id);
    expect(retrieved.file_counts).toMatchObject({ completed: 3, total: 3 });
    expect(retrieved.status).toBe("completed");
    expectSpec("GET", "/vector_stores/{vector_store_id}", retrieved);

    const page = await a.vectorStores.search(store.id, { query: "how do I get a refund for my order", max_num_results: 3 });
    const top = page.data[0];
    expect(top).toMatchObject({ file_id: refundsId, filename: "refunds.md", attributes: { lang: "en" } });
    expect(top?.content[0]?.text).toMatch(/Refunds are issued within 14 days/);
    expect(top?.score).toBeGreaterThan(0);
    expect(top?.score).toBeLessThanOrEqual(1);
    const raw = await fetch(`${t.url}/v1/vector_stores/${store.id}/search`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY_A}`, "content-type": "application/json" },
      body: JSON.stringify({ query: "express shipping", filters: { type: "eq", key: "lang", value: "en" } }),
    });
    const filtered = (await raw.json()) as { data: { file_id: string }[] };
    expectSpec("POST", "/vector_stores/{vector_store_id}/search", filtered);
    expect(filtered.data.every((d) => d.file_id === refundsId)).toBe(true);
  });

  it("fails files that are not text, with last_error", async () => {
    const bin = await a.files.create({ file: await toFile(Buffer.from([0, 1, 2, 255, 0]), "blob.bin"), purpose: "assistants" });
    const attached = await a.vectorStores.files.createAndPoll(storeId, { file_id: bin.id }, POLL);
    expect(attached.status).toBe("failed");
    expect(attached.last_error?.code).toBe("unsupported_file");
    await a.vectorStores.files.delete(bin.id, { vector_store_id: storeId });
  });

  it("detaching and deleting files removes their chunks from search", async () => {
    const list = await a.vectorStores.files.list(storeId);
    expectSpec("GET", "/vector_stores/{vector_store_id}/files", await (await a.vectorStores.files.list(storeId).asResponse()).json());
    const passwordFile = list.data.find((f) => f.id !== refundsId && f.status === "completed");
    await a.files.delete(refundsId);
    const page = await a.vectorStores.search(storeId, { query: "refund within 14 days original card" });
    expect(page.data.some((d) => d.file_id === refundsId)).toBe(false);
    expect((await a.vectorStores.retrieve(storeId)).file_counts.total).toBe(2);
    expect(passwordFile).toBeDefined();
  });

  it("keeps tenants apart: another key sees no files or stores, and gets 404s", async () => {
    expect((await b.files.list()).data).toEqual([]);
    expect((await b.vectorStores.list()).data).toEqual([]);
    await expect(b.vectorStores.retrieve(storeId)).rejects.toMatchObject({ status: 404 });
    await expect(b.vectorStores.search(storeId, { query: "shipping" })).rejects.toMatchObject({ status: 404 });
    const list = await a.vectorStores.files.list(storeId);
    const aFile = list.data[0]!.id;
    await expect(b.files.retrieve(aFile)).rejects.toMatchObject({ status: 404 });
    // Nothing of a's can be read, changed or removed through b's key.
    await expect(b.files.content(aFile)).rejects.toMatchObject({ status: 404 });
    await expect(b.files.delete(aFile)).rejects.toMatchObject({ status: 404 });
    await expect(b.vectorStores.update(storeId, { name: "taken" })).rejects.toMatchObject({ status: 404 });
    await expect(b.vectorStores.files.list(storeId)).rejects.toMatchObject({ status: 404 });
    await expect(b.vectorStores.files.retrieve(aFile, { vector_store_id: storeId })).rejects.toMatchObject({ status: 404 });
    await expect(b.vectorStores.files.delete(aFile, { vector_store_id: storeId })).rejects.toMatchObject({ status: 404 });
    await expect(b.vectorStores.delete(storeId)).rejects.toMatchObject({ status: 404 });
    // The same collection name in another tenant is another store: b's own store sees none of a's chunks.
    const own = await b.vectorStores.create({ name: "mine" });
    const mine = await b.files.create({ file: await toFile(Buffer.from("Globex only: the zebra protocol."), "g.txt"), purpose: "assistants" });
    // Neither can b attach a's file to its own store, nor its own file to a's store.
    await expect(b.vectorStores.files.create(own.id, { file_id: aFile })).rejects.toMatchObject({ status: 404 });
    await expect(b.vectorStores.files.create(storeId, { file_id: mine.id })).rejects.toMatchObject({ status: 404 });
    await expect(b.vectorStores.fileBatches.create(storeId, { file_ids: [mine.id] })).rejects.toMatchObject({ status: 404 });
    await b.vectorStores.files.createAndPoll(own.id, { file_id: mine.id }, POLL);
    const hits = await b.vectorStores.search(own.id, { query: "express shipping next business day" });
    expect(hits.data.every((d) => d.file_id === mine.id)).toBe(true);
    // a's store, files and search are as they were; a does not see b's file either.
    expect((await a.vectorStores.retrieve(storeId)).name).toBe("support");
    expect((await a.vectorStores.files.list(storeId)).data.map((f) => f.id)).toContain(aFile);
    expect((await a.files.retrieve(aFile)).id).toBe(aFile);
    await expect(a.files.retrieve(mine.id)).rejects.toMatchObject({ status: 404 });
    const aHits = await a.vectorStores.search(storeId, { query: "Globex zebra protocol" });
    expect(aHits.data.every((d) => d.file_id !== mine.id)).toBe(true);
  });

  it("answers client mistakes with OpenAI's error envelope", async () => {
    await expect(a.vectorStores.search(storeId, { query: "x", max_num_results: 500 })).rejects.toMatchObject({ status: 400 });
    await expect(a.vectorStores.files.create(storeId, { file_id: "file-000000000000000000000000" })).rejects.toMatchObject({ status: 404 });
    const res = await fetch(`${t.url}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${KEY_A}`, "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("file");
    const deleted = await a.vectorStores.delete(storeId);
    expect(deleted).toMatchObject({ id: storeId, deleted: true });
    expectSpec("DELETE", "/vector_stores/{vector_store_id}", deleted);
    await expect(a.vectorStores.retrieve(storeId)).rejects.toMatchObject({ status: 404 });
  });
});
