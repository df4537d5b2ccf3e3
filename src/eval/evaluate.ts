/**
 * `switchyard eval perplexity`: loads each model in turn on this machine and measures what
 * choosing a variant needs: perplexity on the user's text, prompt and decode speed, time to
 * first token, file size and memory.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { getLlama, LlamaCompletion, LlamaLogLevel, type Token } from "node-llama-cpp";
import { sequencePerplexity, type PerplexityScore, type WindowOptions } from "./perplexity.js";

export interface EvaluateOptions extends WindowOptions {
  /** llama.cpp threads. Default: the machine's cores less one. */
  threads?: number;
  /** llama.cpp backend; `false` = CPU. Default `"auto"`. */
  gpu?: "auto" | "cuda" | "vulkan" | "metal" | false;
  /** Tokens generated for the decode-speed measurement. Default 32. */
  decodeTokens?: number;
  /** Called when a model starts and finishes. */
  onProgress?: (message: string) => void;
}

export interface ModelEvaluation extends PerplexityScore {
  model: string;
  file: string;
  fileBytes: number;
  /** Weights as loaded (llama.cpp's `model.size`). */
  modelBytes: number;
  /** Context (KV cache) state size for `contextSize`. */
  contextBytes: number;
  /** Process resident memory after the model and context were loaded. */
  rssBytes: number;
  loadMs: number;
  /** Prompt evaluation: tokens evaluated per second during scoring. */
  promptTokensPerSecond: number;
  /** Greedy decode rate after the first token. */
  decodeTokensPerSecond: number;
  /** Time to first token for a prompt of up to 64 tokens of the text. */
  ttftMs: number;
}

/**
 * @example
 * ```ts
 * const [f32, q4] = await evaluateModels(["m-f32.gguf", "m-q4_0.gguf"], text, { contextSize: 256, stride: 128 });
 * ```
 */
export async function evaluateModels(files: readonly string[], text: string, options: EvaluateOptions): Promise<ModelEvaluation[]> {
  const llama = await getLlama({ gpu: options.gpu ?? "auto", build: "never", logLevel: LlamaLogLevel.error });
  const results: ModelEvaluation[] = [];
  try {
    for (const file of files) {
      options.onProgress?.(`evaluating ${file}`);
      const loadStarted = performance.now();
      const model = await llama.loadModel({ modelPath: file });
      try {
        const context = await model.createContext({
          contextSize: options.contextSize,
          ...(options.threads === undefined ? {} : { threads: options.threads }),
        });
        try {
          const loadMs = performance.now() - loadStarted;
          const rssBytes = process.memoryUsage().rss;
          const sequence = context.getSequence();
          const score = await sequencePerplexity(sequence, model, text, options);
          const speed = await measureDecode(sequence, model.tokenize(text, false).slice(0, 64), options.decodeTokens ?? 32);
          results.push({
            model: path.basename(file),
            file,
            fileBytes: (await stat(file)).size,
            modelBytes: model.size,
            contextBytes: context.stateSize,
            rssBytes,
            loadMs,
            promptTokensPerSecond: score.evaluated / (score.evalMs / 1000),
            ...speed,
            ...score,
          });
          options.onProgress?.(`${path.basename(file)}: perplexity ${score.perplexity.toFixed(4)} over ${score.scored} tokens`);
        } finally {
          await context.dispose();
        }
      } finally {
        await model.dispose();
      }
    }
  } finally {
    await llama.dispose();
  }
  return results;
}

/** TTFT and greedy decode rate for `prompt`, on a cleared sequence. */
async function measureDecode(sequence: Parameters<typeof sequencePerplexity>[0], prompt: Token[], maxTokens: number): Promise<{ ttftMs: number; decodeTokensPerSecond: number }> {
  await sequence.clearHistory();
  const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
  const started = performance.now();
  let first = 0;
  let count = 0;
  await completion.generateCompletion(prompt, {
    maxTokens,
    temperature: 0,
    onToken: (tokens) => {
      if (first === 0) first = performance.now();
      count += tokens.length;
    },
  });
  const ended = performance.now();
  completion.dispose();
  await sequence.clearHistory();
  return { ttftMs: (first || ended) - started, decodeTokensPerSecond: count > 1 ? (count - 1) / ((ended - first) / 1000) : 0 };
}

/**
 * The variant to deploy: among those whose perplexity is within `budget` (a fraction, 0.02 =
 * 2%) of the best, the smallest file, then the fastest decode.
 */
export function pickWithinBudget(results: readonly ModelEvaluation[], budget: number): ModelEvaluation | undefined {
  if (results.length === 0) return undefined;
  const best = Math.min(...results.map((r) => r.perplexity));
  return results
    .filter((r) => r.perplexity <= best * (1 + budget))
    .sort((a, b) => a.fileBytes - b.fileBytes || b.decodeTokensPerSecond - a.decodeTokensPerSecond)[0];
}
