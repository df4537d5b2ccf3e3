/** The response cache on the real path: real gateway, real shards, real socket. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSse, startTestGateway, type TestGateway } from "../helpers/gateway.js";

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({}, { slots: 2 });
});
afterAll(async () => {
  await t?.close();
});

let counter = 0;
/** A fresh prompt per test so tests do not hit each other's entries. */
const fresh = () => `cache question ${++counter} ${Date.now()}`;

async function chat(body: unknown, headers: Record<string, string> = {}): Promise<{ res: Response; json: { choices: Array<{ message: { content: string } }> } }> {
  const res = await fetch(`${t.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { res, json: (await res.json()) as { choices: Array<{ message: { content: string } }> } };
}

describe("response cache over HTTP", () => {
  it("hits after a miss for the same request with other key order and whitespace", async () => {
    const q = fresh();
    const first = await chat({ model: "tiny", messages: [{ role: "user", content: q }], max_tokens: 8, temperature: 0 });
    expect(first.res.headers.get("x-switchyard-cache")).toBe("miss");
    const reordered = `{ "temperature": 0,\n  "max_tokens": 8, "messages": [ {"content": ${JSON.stringify(q)}, "role": "user"} ], "model": "tiny" }`;
    const second = await chat(reordered);
    expect(second.res.headers.get("x-switchyard-cache")).toBe("hit");
    expect(second.res.headers.get("x-switchyard-shard")).toBe("cache");
    expect(second.json.choices[0]!.message.content).toBe(first.json.choices[0]!.message.content);
  });

  it("an alias of the same model shares the entry", async () => {
    const q = fresh();
    await chat({ model: "tiny", messages: [{ role: "user", content: q }], max_tokens: 4, temperature: 0 });
    const viaAlias = await chat({ model: "default", messages: [{ role: "user", content: q }], max_tokens: 4, temperature: 0 });
    expect(viaAlias.res.headers.get("x-switchyard-cache")).toBe("hit");
  });

  it("misses when any output-affecting parameter changes", async () => {
    const q = fresh();
    const base = { model: "tiny", messages: [{ role: "user", content: q }], max_tokens: 6, temperature: 0 };
    await chat(base);
    const variants: Array<Record<string, unknown>> = [
      { max_tokens: 7 },
      { top_p: 0.5 },
      { top_k: 5 },
      { seed: 3 },
      { stop: ["zz"] },
      { presence_penalty: 0.5 },
      { frequency_penalty: 0.5 },
      { response_format: { type: "json_object" } },
      { messages: [{ role: "system", content: "be brief" }, { role: "user", content: q }] },
    ];
    for (const patch of variants) {
      const { res } = await chat({ ...base, ...patch });
      expect(res.headers.get("x-switchyard-cache"), JSON.stringify(patch)).toBe("miss");
    }
    expect((await chat(base)).res.headers.get("x-switchyard-cache")).toBe("hit");
  });

  it("never caches a non-deterministic request (temperature 0.7 without seed)", async () => {
    const body = { model: "tiny", messages: [{ role: "user", content: fresh() }], max_tokens: 4, temperature: 0.7 };
    expect((await chat(body)).res.headers.get("x-switchyard-cache")).toBe("bypass");
    expect((await chat(body)).res.headers.get("x-switchyard-cache")).toBe("bypass");
    // ...but the same with a seed is deterministic, so it is cached.
    const seeded = { ...body, seed: 11 };
    expect((await chat(seeded)).res.headers.get("x-switchyard-cache")).toBe("miss");
    expect((await chat(seeded)).res.headers.get("x-switchyard-cache")).toBe("hit");
  });

  it("honours Cache-Control no-cache (no lookup, still stores) and no-store (neither)", async () => {
    const body = { model: "tiny", messages: [{ role: "user", content: fresh() }], max_tokens: 4, temperature: 0 };
    expect((await chat(body, { "cache-control": "no-store" })).res.headers.get("x-switchyard-cache")).toBe("bypass");
    expect((await chat(body)).res.headers.get("x-switchyard-cache")).toBe("miss");
    expect((await chat(body, { "cache-control": "no-cache" })).res.headers.get("x-switchyard-cache")).toBe("bypass");
    expect((await chat(body)).res.headers.get("x-switchyard-cache")).toBe("hit");
  });

  it("replays a stored non-stream answer as a valid stream, and a streamed miss serves a later non-stream hit", async () => {
    const q1 = fresh();
    const body1 = { model: "tiny", messages: [{ role: "user", content: q1 }], max_tokens: 9, temperature: 0 };
    const plain = await chat(body1);
    const streamed = await fetch(`${t.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...body1, stream: true, stream_options: { include_usage: true } }),
    });
    expect(streamed.headers.get("x-switchyard-cache")).toBe("hit");
    expect(streamed.headers.get("x-switchyard-shard")).toBe("cache");
    const events = await readSse(streamed);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: Array<{ delta: { content?: string; role?: string }; finish_reason: string | null }>; usage?: { completion_tokens: number } });
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(1); // chunked by tokens
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(plain.json.choices[0]!.message.content);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(9);

    const q2 = fresh();
    const body2 = { model: "tiny", messages: [{ role: "user", content: q2 }], max_tokens: 9, temperature: 0 };
    const s2 = await fetch(`${t.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...body2, stream: true }) });
    expect(s2.headers.get("x-switchyard-cache")).toBe("miss");
    const text2 = (await readSse(s2))
      .slice(0, -1)
      .map((e) => (JSON.parse(e) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? "")
      .join("");
    const after = await chat(body2);
    expect(after.res.headers.get("x-switchyard-cache")).toBe("hit");
    expect(after.json.choices[0]!.message.content).toBe(text2);
  });

  it("coalesces 10 concurrent identical misses into one generation", async () => {
    const cache = t.gateway.cache!;
    const before = cache.counters();
    const body = { model: "tiny", messages: [{ role: "user", content: fresh() }], max_tokens: 200, temperature: 0 };
    const results = await Promise.all(Array.from({ length: 10 }, () => chat(body)));
    const texts = new Set(results.map((r) => r.json.choices[0]!.message.content));
    expect(texts.size).toBe(1);
    const after = cache.counters();
    const misses = after.miss - before.miss;
    const hits = after.hit - before.hit;
    // Every request either joined the one generation or (arriving after it was stored) hit the cache.
    expect(misses + hits).toBe(10);
    expect(misses - (after.coalesced - before.coalesced)).toBe(1);
    expect(after.coalesced - before.coalesced).toBeGreaterThan(0);
    expect(after.stored - before.stored).toBe(1);
  });

  it("does not store errors", async () => {
    const before = t.gateway.cache!.counters();
    const body = { model: "tiny", messages: [{ role: "user", content: "word ".repeat(2000) }], max_tokens: 4, temperature: 0 };
    expect((await chat(body)).res.status).toBe(400);
    expect((await chat(body)).res.status).toBe(400);
    expect(t.gateway.cache!.counters().stored).toBe(before.stored);
  });
});
