import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  ChatMLChatWrapper,
  getLlama,
  LlamaChatSession,
  LlamaCompletion,
  LlamaLogLevel,
  resolveChatWrapper,
  type Llama,
  type LlamaContextSequence,
  type LlamaModel,
} from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTinyModel, writeTinyModel } from "../../src/engine/tiny-model/index.js";

// This machine has 2 cores; one decode thread is measured to be much faster than two
// here (the ggml threadpool competes with Node's own threads), and never leave it unset.
const THREADS = 1;
const LLAMA_TIMEOUT_MS = 60_000;

let tempDir: string;
let llama: Llama;
let model: LlamaModel;
let modelPath: string;

async function sha256(filePath: string): Promise<string> {
  return createHash("sha256").update(await readFile(filePath)).digest("hex");
}

/** Generates greedily on `sequence`, counting the tokens actually produced. */
async function complete(
  sequence: LlamaContextSequence,
  prompt: string,
  maxTokens: number,
): Promise<{ text: string; tokens: number; stopReason: string }> {
  const completion = new LlamaCompletion({ contextSequence: sequence });
  let tokens = 0;
  const { response, metadata } = await completion.generateCompletionWithMeta(prompt, {
    maxTokens,
    temperature: 0,
    onToken: (chunk) => {
      tokens += chunk.length;
    },
  });
  return { text: response, tokens, stopReason: metadata.stopReason };
}

// Printable ASCII plus newline: what the zeroed output rows restrict greedy decoding to.
const PRINTABLE = /^[\x20-\x7e\n]*$/;

beforeAll(async () => {
  tempDir = await mkdtemp(path.join(os.tmpdir(), "switchyard-tiny-model-"));
  modelPath = await ensureTinyModel(tempDir);
  llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  model = await llama.loadModel({ modelPath });
}, LLAMA_TIMEOUT_MS);

afterAll(async () => {
  await model?.dispose();
  await llama?.dispose();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

describe("tiny model files", () => {
  it("names the default model after its options and only generates it once", async () => {
    expect(path.basename(modelPath)).toBe("tiny-l2-w64-s42.gguf");
    const before = await stat(modelPath);
    expect(await ensureTinyModel(tempDir)).toBe(modelPath);
    expect((await stat(modelPath)).mtimeMs).toBe(before.mtimeMs);
  });

  it("is byte-identical for the same seed and differs for another seed", async () => {
    const a = path.join(tempDir, "a.gguf");
    const b = path.join(tempDir, "b.gguf");
    const c = path.join(tempDir, "c.gguf");
    await writeTinyModel(a, { seed: 7 });
    await writeTinyModel(b, { seed: 7 });
    await writeTinyModel(c, { seed: 8 });
    expect(await sha256(a)).toBe(await sha256(b));
    expect(await sha256(a)).not.toBe(await sha256(c));
    expect((await stat(a)).size).toBe((await stat(c)).size);
  });

  it("survives concurrent ensureTinyModel calls and leaves no temporary files", async () => {
    const dir = path.join(tempDir, "concurrent", "nested");
    const paths = await Promise.all([ensureTinyModel(dir, { seed: 3 }), ensureTinyModel(dir, { seed: 3 })]);
    expect(paths[0]).toBe(paths[1]);
    expect(await readdir(dir)).toEqual(["tiny-l2-w64-s3.gguf"]);
    const reference = path.join(tempDir, "reference.gguf");
    await writeTinyModel(reference, { seed: 3 });
    expect(await sha256(paths[0] ?? "")).toBe(await sha256(reference));
  });

  it("encodes non-default options in the file name", async () => {
    const filePath = await ensureTinyModel(tempDir, { layers: 1, width: 32, heads: 2, ffn: 96, contextLength: 256, seed: 1 });
    expect(path.basename(filePath)).toBe("tiny-l1-w32-h2-f96-c256-s1.gguf");
  });

  it("rejects invalid shapes", async () => {
    await expect(ensureTinyModel(tempDir, { width: 48 })).rejects.toThrow(RangeError);
    await expect(ensureTinyModel(tempDir, { ffn: 100 })).rejects.toThrow(RangeError);
    await expect(ensureTinyModel(tempDir, { heads: 3 })).rejects.toThrow(RangeError);
    await expect(ensureTinyModel(tempDir, { seed: -1 })).rejects.toThrow(RangeError);
  });

  it("generates the default model well under a second", async () => {
    const start = performance.now();
    await writeTinyModel(path.join(tempDir, "timed.gguf"));
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe("tiny model in llama.cpp", () => {
  it("loads as a llama model with the requested training context", () => {
    expect(model.fileInfo.metadata.general.architecture).toBe("llama");
    expect(model.fileInfo.metadata.general.alignment).toBe(32);
    expect(model.trainContextSize).toBe(2048);
    expect(model.fileInfo.version).toBe(3);

    const tokens = model.fileInfo.metadata.tokenizer.ggml.tokens;
    expect(tokens.length).toBeGreaterThan(300);
    expect(tokens.length).toBeLessThanOrEqual(1024);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it("round-trips any UTF-8 text through the tokenizer", () => {
    const texts = [
      "Hello world, the time is 12:30!",
      "café naïve résumé Ångström",
      "emoji 🚀 and 👩‍💻 too",
      "tabs\tand\nnew lines",
      "中文 and ελληνικά",
    ];
    for (const text of texts) {
      expect(model.detokenize(model.tokenize(text))).toBe(text);
    }
    // Common words are whole pieces, not letters or bytes.
    expect(model.tokenize("the world")).toHaveLength(2);
  });

  it("treats <|im_end|> as a single special end-of-generation token", () => {
    const special = model.tokenize("<|im_end|>", true);
    expect(special).toHaveLength(1);
    const [imEnd] = special;
    expect(model.isSpecialToken(imEnd)).toBe(true);
    expect(model.isEogToken(imEnd)).toBe(true);
    expect(model.tokens.eos).toBe(imEnd);
    expect(model.tokens.eot).toBe(imEnd);
    // As plain text it is just characters.
    expect(model.tokenize("<|im_end|>", false).length).toBeGreaterThan(1);
  });

  it("resolves to the ChatML chat wrapper", async () => {
    const wrapper = resolveChatWrapper(model);
    expect(wrapper).toBeInstanceOf(ChatMLChatWrapper);
    expect(wrapper?.wrapperName).toBe("ChatML");

    const context = await model.createContext({ contextSize: 512, threads: THREADS });
    try {
      const session = new LlamaChatSession({ contextSequence: context.getSequence() });
      expect(session.chatWrapper).toBeInstanceOf(ChatMLChatWrapper);
    } finally {
      await context.dispose();
    }
  }, LLAMA_TIMEOUT_MS);

  it("generates exactly max_tokens of deterministic printable text at temperature 0", async () => {
    const context = await model.createContext({ contextSize: 512, threads: THREADS });
    try {
      const sequence = context.getSequence();
      const first = await complete(sequence, "The quick brown fox", 40);
      await sequence.clearHistory();
      const second = await complete(sequence, "The quick brown fox", 40);

      expect(first.tokens).toBe(40);
      expect(first.stopReason).toBe("maxTokens");
      expect(second).toEqual(first);
      expect(first.text).toMatch(PRINTABLE);
      expect(first.text.trim().length).toBeGreaterThan(10);
    } finally {
      await context.dispose();
    }
  }, LLAMA_TIMEOUT_MS);

  it("decodes two sequences in one batch exactly as each alone", async () => {
    const prompts = ["The quick brown fox", "Once upon a time there was"];
    const alone: string[] = [];
    {
      const context = await model.createContext({ contextSize: 512, threads: THREADS });
      try {
        const sequence = context.getSequence();
        for (const prompt of prompts) {
          await sequence.clearHistory();
          alone.push((await complete(sequence, prompt, 40)).text);
        }
      } finally {
        await context.dispose();
      }
    }
    expect(alone[0]).not.toBe(alone[1]);

    const context = await model.createContext({ contextSize: 1024, sequences: 2, threads: THREADS });
    try {
      const sequences = [context.getSequence(), context.getSequence()];
      const together = await Promise.all(
        prompts.map((prompt, index) => {
          const sequence = sequences[index];
          if (!sequence) throw new Error("missing sequence");
          return complete(sequence, prompt, 40);
        }),
      );
      expect(together.map((result) => result.tokens)).toEqual([40, 40]);
      expect(together.map((result) => result.text)).toEqual(alone);
    } finally {
      await context.dispose();
    }
  }, LLAMA_TIMEOUT_MS);
});

describe("larger tiny model", () => {
  it("generates an 8-layer, width-512 model, and it loads and generates", async () => {
    const bigPath = await ensureTinyModel(tempDir, { layers: 8, width: 512 });
    expect(path.basename(bigPath)).toBe("tiny-l8-w512-s42.gguf");

    const big = await llama.loadModel({ modelPath: bigPath });
    try {
      expect(big.fileInfo.metadata.general.architecture).toBe("llama");
      const context = await big.createContext({ contextSize: 512, threads: THREADS });
      try {
        const result = await complete(context.getSequence(), "The quick brown fox", 20);
        expect(result.tokens).toBe(20);
        expect(result.stopReason).toBe("maxTokens");
        expect(result.text).toMatch(PRINTABLE);
      } finally {
        await context.dispose();
      }
    } finally {
      await big.dispose();
    }
  }, LLAMA_TIMEOUT_MS);
});
