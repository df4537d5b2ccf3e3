import { describe, expect, it } from "vitest";
import {
  MemorySemanticStore,
  questionAnchors,
  SemanticCache,
  semanticEligibility,
  semanticScope,
  type CachedResponse,
  type SemanticEligibilityInput,
  type SemanticScopeParts,
} from "../../src/cache/index.js";
import { HashingEmbedder } from "../../src/rag/index.js";

const embedder = new HashingEmbedder();
const parts: SemanticScopeParts = {
  tenant: "acme",
  endpoint: "chat",
  model: "tiny",
  modelIdentity: "tiny.gguf:1",
  system: ["You are a support bot."],
  params: { temperature: 0, maxTokens: 64 },
};

function answer(text: string): CachedResponse {
  return { chunks: [{ text, tokens: 1 }], text, finishReason: "stop", usage: { promptTokens: 3, completionTokens: 1 }, createdAt: 1 };
}

function cacheWith(now: () => number = Date.now, threshold = 0.8) {
  return new SemanticCache({ embedder, store: new MemorySemanticStore({ now, maxEntriesPerScope: 3 }), threshold, ttlMs: 60_000, now });
}

async function put(cache: SemanticCache, scope: string, question: string, text: string): Promise<void> {
  await cache.store(scope, question, await cache.lookup(scope, question), answer(text));
}

describe("semantic cache", () => {
  const scope = semanticScope(parts, embedder.id);

  it("a paraphrase hits with its similarity; a different question misses", async () => {
    const cache = cacheWith();
    await put(cache, scope, "How can I cancel my order?", "cancel-answer");
    const para = await cache.lookup(scope, "how can i cancel my orders");
    expect(para.hit?.response.text).toBe("cancel-answer");
    expect(para.hit!.similarity).toBeGreaterThanOrEqual(0.8);
    expect(para.hit!.similarity).toBeLessThan(1);
    expect((await cache.lookup(scope, "Where is my refund for the broken blender?")).hit).toBeUndefined();
  });

  it("never crosses tenants, models, system prompts, parameters or collection versions", async () => {
    const cache = cacheWith();
    await put(cache, scope, "How can I cancel my order?", "acme-answer");
    const others: SemanticScopeParts[] = [
      { ...parts, tenant: "globex" },
      { ...parts, model: "other" },
      { ...parts, modelIdentity: "tiny.gguf:2" },
      { ...parts, system: ["You are a pirate."] },
      { ...parts, params: { temperature: 0, maxTokens: 65 } },
      { ...parts, ragVersion: "3" },
    ];
    for (const p of others) {
      const other = semanticScope(p, embedder.id);
      expect(other).not.toBe(scope);
      expect((await cache.lookup(other, "How can I cancel my order?")).hit).toBeUndefined();
    }
    expect(semanticScope(parts, "another-embedder")).not.toBe(scope);
  });

  it("needs the same numbers and placeholders (anchors) in both questions", async () => {
    const cache = cacheWith();
    await put(cache, scope, "What is the status of order 1234?", "order-1234");
    expect((await cache.lookup(scope, "what is the status of order 5678?")).hit).toBeUndefined();
    expect((await cache.lookup(scope, "What's the status of order 1234")).hit?.response.text).toBe("order-1234");
    expect(questionAnchors("mail <EMAIL_1> about 12 and 3")).toEqual(["12", "3", "<EMAIL_1>"]);
  });

  it("expires entries after ttlMs and keeps at most maxEntriesPerScope", async () => {
    let now = 1_000_000;
    const cache = cacheWith(() => now);
    await put(cache, scope, "How can I cancel my order?", "old");
    now += 60_001;
    expect((await cache.lookup(scope, "How can I cancel my order?")).hit).toBeUndefined();
    const store = new MemorySemanticStore({ maxEntriesPerScope: 2 });
    const small = new SemanticCache({ embedder, store, threshold: 0.99, ttlMs: 60_000 });
    for (const q of ["one question", "two question", "three question"]) await put(small, scope, q, q);
    expect(store.stats()).toEqual({ scopes: 1, entries: 2 });
    expect((await small.lookup(scope, "one question")).hit).toBeUndefined();
    expect((await small.lookup(scope, "three question")).hit?.response.text).toBe("three question");
  });

  it("rejects thresholds outside (0, 1]", async () => {
    expect(() => cacheWith(Date.now, 0)).toThrow(RangeError);
    expect(() => cacheWith(Date.now, 1.5)).toThrow(RangeError);
    await expect(cacheWith().lookup("s", "q", 0)).rejects.toThrow(RangeError);
  });
});

describe("semantic eligibility", () => {
  const base: SemanticEligibilityInput = {
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "  How do I   reset my password? " },
    ],
    hasTools: false,
    n: 1,
    logprobs: false,
    deterministic: true,
    allowSampled: false,
  };

  it("takes one user turn after system messages, whitespace normalised", () => {
    expect(semanticEligibility(base)).toEqual({ eligible: true, question: "How do I reset my password?", system: ["Be brief."] });
  });

  it("refuses multi-turn, tools, n > 1, logprobs and sampled requests unless sampled is allowed", () => {
    const multi = { ...base, messages: [...base.messages, { role: "assistant", content: "Sure." }, { role: "user", content: "And?" }] };
    expect(semanticEligibility(multi)).toEqual({ eligible: false, reason: "multi_turn" });
    expect(semanticEligibility({ ...base, messages: [{ role: "tool", content: "42" }] })).toEqual({ eligible: false, reason: "multi_turn" });
    expect(semanticEligibility({ ...base, hasTools: true })).toEqual({ eligible: false, reason: "tools" });
    expect(semanticEligibility({ ...base, n: 2 })).toEqual({ eligible: false, reason: "n" });
    expect(semanticEligibility({ ...base, logprobs: true })).toEqual({ eligible: false, reason: "logprobs" });
    expect(semanticEligibility({ ...base, deterministic: false })).toEqual({ eligible: false, reason: "sampled" });
    expect(semanticEligibility({ ...base, deterministic: false, allowSampled: true }).eligible).toBe(true);
    expect(semanticEligibility({ ...base, messages: [{ role: "user", content: "   " }] })).toEqual({ eligible: false, reason: "empty" });
  });
});
