/**
 * Opt-in: real trained weights (TinyStories 260K, MIT) when the project sits
 * beside ../shared/models, or SWITCHYARD_REAL_MODEL points at a GGUF. Skips
 * cleanly otherwise.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

const candidate = process.env.SWITCHYARD_REAL_MODEL ?? path.resolve("..", "shared", "models", "stories260K.gguf");
const present = existsSync(candidate);

describe.skipIf(!present)(`real model (${path.basename(candidate)})`, () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ cache: { enabled: false } }, { file: candidate, contextSize: 512 });
  });
  afterAll(async () => t?.close());

  it("completes 'Once upon a time' with English story text, identically twice at temperature 0", async () => {
    const ask = () => t.client.completions.create({ model: "tiny", prompt: "Once upon a time", max_tokens: 40, temperature: 0 });
    const [a, b] = [await ask(), await ask()];
    const text = a.choices[0]!.text;
    expect(b.choices[0]!.text).toBe(text);
    // Real English: mostly letters and spaces, several common story words.
    const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
    expect(words.length).toBeGreaterThan(15);
    const common = ["the", "a", "was", "she", "he", "and", "to", "little", "day", "her", "his", "there"];
    expect(words.filter((w) => common.includes(w)).length).toBeGreaterThan(3);
    expect(a.usage!.completion_tokens).toBe(40);
  });

  it("chats through the general wrapper (no template in the file)", async () => {
    const res = await t.client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Tell me a story about a cat." }], max_tokens: 30, temperature: 0 });
    expect(res.choices[0]!.message.content!.length).toBeGreaterThan(10);
  });
});
