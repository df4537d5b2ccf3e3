/**
 * Child process of `bench/lora.ts` for the alternative it compares against: ONE process, one
 * model, one context per adapter set (base + LoRA), both decoding at once. Prints one JSON line.
 */
import { readFileSync } from "node:fs";
import { getLlama, LlamaCompletion, LlamaLogLevel } from "node-llama-cpp";

const [modelPath, loraPath, slotsArg, requestsArg, tokensArg] = process.argv.slice(2);
const slots = Number(slotsArg);
const requests = Number(requestsArg);
const maxTokens = Number(tokensArg);

const started = performance.now();
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: modelPath! });
const contexts = await Promise.all([
  model.createContext({ contextSize: 512 * slots, sequences: slots, threads: 1 }),
  model.createContext({ contextSize: 512 * slots, sequences: slots, threads: 1, lora: { adapters: [{ filePath: loraPath!, scale: 1 }] } }),
]);
const loadMs = performance.now() - started;
const runStarted = performance.now();
let tokens = 0;
await Promise.all(
  contexts.flatMap((context) =>
    Array.from({ length: slots }, async (_, s) => {
      const sequence = context.getSequence();
      const completion = new LlamaCompletion({ contextSequence: sequence });
      for (let r = s; r < requests; r += slots) {
        await completion.generateCompletion(`Request ${r}: once upon a time`, { maxTokens, temperature: 0, onToken: (t) => void (tokens += t.length) });
        await sequence.clearHistory();
      }
    }),
  ),
);
const runMs = performance.now() - runStarted;
const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0);
console.log(JSON.stringify({ loadMs, runMs, tokens, rssBytes: rssKb * 1024 }));
for (const c of contexts) await c.dispose();
await model.dispose();
await llama.dispose();
