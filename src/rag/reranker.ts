/**
 * Reranking: a cross-encoder scores (query, passage) pairs after fusion, and
 * the top candidates are reordered by that score. Off unless
 * `rag.rerankModel` names a reranker GGUF (bge-reranker, jina-reranker,
 * Qwen3-Reranker: a model with a classification head and rank pooling), run
 * in the gateway process through node-llama-cpp's `LlamaRankingContext`.
 */
import { getLlama, LlamaLogLevel, type LlamaModel, type LlamaRankingContext } from "node-llama-cpp";

/** Scores passages for a query; higher is more relevant. */
export interface Reranker {
  /** Stable identity (the model file), for logs. */
  readonly id: string;
  /** One score in [0, 1] per document, in order. */
  rank(query: string, documents: readonly string[]): Promise<number[]>;
  /** Loads the model now (else on first use); rejects when it cannot rank. */
  load(): Promise<void>;
  /** Idempotent. */
  dispose(): Promise<void>;
}

export interface GgufRerankerOptions {
  /** Path of the reranker GGUF. */
  file: string;
  /** Tokens per (query, passage) pair; longer passages are cut into overlapping windows and the best window counts. Default 512. */
  contextSize?: number;
  /** CPU threads; default 1 (the gateway process shares the machine with the shards). */
  threads?: number;
}

/** A model that has no classification head cannot rank: the config names the wrong file. */
export class NotARerankerError extends Error {
  constructor(file: string, cause: unknown) {
    super(`rag.rerankModel '${file}' cannot rank passages (it needs a classification head and rank pooling, e.g. a bge-reranker GGUF): ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "NotARerankerError";
  }
}

/**
 * A reranker GGUF loaded in this process. {@link load} loads it (once; the
 * gateway calls it at startup so a wrong file fails there); `rank` loads on
 * first use otherwise. One pair is evaluated at a time (node-llama-cpp's
 * ranking context has one sequence).
 *
 * @example
 * ```ts
 * const reranker = new GgufReranker({ file: "models/bge-reranker-v2-m3-q8_0.gguf" });
 * await reranker.load();
 * await reranker.rank("refund window", ["Refunds within 14 days.", "Shipping takes 3 days."]); // [0.93, 0.02]
 * await reranker.dispose();
 * ```
 */
export class GgufReranker implements Reranker {
  readonly id: string;
  private loading: Promise<{ model: LlamaModel; context: LlamaRankingContext }> | undefined;
  private disposed = false;

  constructor(private readonly options: GgufRerankerOptions) {
    this.id = `gguf-rerank:${options.file}`;
  }

  /** Loads the model and its ranking context; rejects with {@link NotARerankerError} for a model that cannot rank. */
  async load(): Promise<void> {
    await this.loaded();
  }

  private loaded(): Promise<{ model: LlamaModel; context: LlamaRankingContext }> {
    if (this.disposed) return Promise.reject(new Error("The reranker is disposed."));
    this.loading ??= (async () => {
      const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
      const model = await llama.loadModel({ modelPath: this.options.file });
      try {
        const context = await model.createRankingContext({ contextSize: this.options.contextSize ?? 512, threads: this.options.threads ?? 1 });
        return { model, context };
      } catch (err) {
        await model.dispose();
        throw new NotARerankerError(this.options.file, err);
      }
    })();
    // A failed load may be retried (e.g. the file appears later).
    this.loading.catch(() => (this.loading = undefined));
    return this.loading;
  }

  async rank(query: string, documents: readonly string[]): Promise<number[]> {
    if (documents.length === 0) return [];
    const { context } = await this.loaded();
    return context.rankAll(query, [...documents], { onOverflow: "maxChunk" });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const loading = this.loading;
    this.loading = undefined;
    const loaded = await loading?.catch(() => undefined);
    if (loaded) {
      await loaded.context.dispose();
      await loaded.model.dispose();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/**
 * Reorders the first `topN` candidates by the reranker's score (the rest keep
 * their order after them); each reranked candidate's score becomes the
 * reranker's. Stable for equal scores.
 *
 * @example
 * ```ts
 * const hits = await rerank(reranker, "refund window", fused, (h) => h.hit.text, 20);
 * ```
 */
export async function rerank<T extends { score: number }>(reranker: Reranker, query: string, candidates: readonly T[], text: (c: T) => string, topN: number): Promise<T[]> {
  const head = candidates.slice(0, topN);
  const scores = await reranker.rank(query, head.map(text));
  const rescored = head.map((c, i) => ({ c: { ...c, score: scores[i] ?? 0 }, i }));
  rescored.sort((a, b) => b.c.score - a.c.score || a.i - b.i);
  return [...rescored.map((r) => r.c), ...candidates.slice(topN)];
}
