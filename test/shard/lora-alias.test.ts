/**
 * LoRA adapters per alias on the real path: real shard processes load the generated
 * tiny model with the generated tiny LoRA (llama.cpp's adapter loader, real GGUF).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTinyLora } from "../../src/engine/tiny-model/index.js";
import { startTestGateway, TINY_DIR, type TestGateway } from "../helpers/gateway.js";

describe("adapter aliases", () => {
  let t: TestGateway;
  beforeAll(async () => {
    const lora = await ensureTinyLora(TINY_DIR);
    t = await startTestGateway(
      {},
      {
        slots: 2,
        adapters: [{ name: "tiny-lora", file: lora }],
        aliases: ["default", { name: "tiny-ft", adapters: ["tiny-lora"] }, { name: "tiny-ft-off", adapters: ["tiny-lora@0"] }],
      },
    );
    // Three shard processes start at once; slow on a loaded 2-core machine.
  }, 300_000);
  afterAll(async () => t?.close());

  const complete = async (model: string, prompt = "The cat") => {
    const res = await t.client.completions.create({ model, prompt, max_tokens: 16, temperature: 0 }).withResponse();
    return { text: res.data.choices[0]!.text, shard: res.response.headers.get("x-switchyard-shard"), cache: res.response.headers.get("x-switchyard-cache") };
  };

  it("lists every alias; an adapter alias names its base as parent (vLLM's LoRA convention)", async () => {
    const ids = (await t.client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(["tiny", "default", "tiny-ft", "tiny-ft-off"]));
    expect(await (await fetch(`${t.url}/v1/models/tiny-ft`)).json()).toMatchObject({ id: "tiny-ft", root: "tiny", parent: "tiny" });
    expect(await (await fetch(`${t.url}/v1/models/default`)).json()).toMatchObject({ id: "default", root: "tiny", parent: null });
  });

  it("a request for an unknown adapter alias is a 404 in OpenAI's envelope", async () => {
    const err = (await t.client.completions.create({ model: "tiny-ft-nope", prompt: "x", max_tokens: 1 }).catch((e: unknown) => e)) as { status: number; error: { code: string } };
    expect(err.status).toBe(404);
    expect(err.error.code).toBe("model_not_found");
  });

  it("at temperature 0 the adapted alias answers differently from the base, and with scale 0 identically", async () => {
    const prompt = "Once upon a time";
    const base = await complete("tiny", prompt);
    const adapted = await complete("tiny-ft", prompt);
    const off = await complete("tiny-ft-off", prompt);
    expect(adapted.text).not.toBe(base.text);
    expect(off.text).toBe(base.text);
    // Each alias ran on its own shard.
    expect(adapted.shard).toBe("tiny-ft#0");
    expect(base.shard).toBe("tiny#0");
    // Deterministic: the same alias answers the same again.
    expect((await complete("tiny-ft", prompt)).text).toBe(adapted.text);
  });

  it("requests for different adapter sets in flight together each get their own model's answer", async () => {
    const prompts = ["a", "b", "c"].map((p) => `Tell me about ${p}`);
    const sequential = [];
    for (const p of prompts) sequential.push([(await complete("tiny", p)).text, (await complete("tiny-ft", p)).text]);
    const concurrent = await Promise.all(prompts.map(async (p) => Promise.all([complete("tiny", p), complete("tiny-ft", p)])));
    expect(concurrent.map((pair) => pair.map((r) => r.text))).toEqual(sequential);
  });

  it("the response cache never answers an alias with the base's (or another adapter set's) text", async () => {
    const prompt = `cache check ${Date.now()}`;
    const base = await complete("tiny", prompt);
    expect(base.cache).toBe("miss");
    const adapted = await complete("tiny-ft", prompt);
    expect(adapted.cache).toBe("miss");
    expect(adapted.text).not.toBe(base.text);
    const off = await complete("tiny-ft-off", prompt);
    expect(off.cache).toBe("miss");
    expect((await complete("tiny-ft", prompt)).cache).toBe("hit");
  });
});
