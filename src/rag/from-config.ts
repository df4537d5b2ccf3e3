/**
 * Builds the RagService the gateway and the CLI use from the config, with the
 * embedder chosen by {@link chooseEmbedder}.
 */
import os from "node:os";
import path from "node:path";
import type { SwitchyardConfig } from "../config/index.js";
import { type ChosenEmbedder, chooseEmbedder, type EmbeddingModelHandle } from "./embedder-choice.js";
import { GgufReranker } from "./reranker.js";
import { RagService, type RagServiceOptions } from "./service.js";
import { RELATIVE_GATE } from "./vector-gate.js";

export interface RagFromConfigOptions {
  /** Looks up a configured model by name (the registry). */
  resolve(name: string): EmbeddingModelHandle | undefined;
  warn(fields: Record<string, unknown>, msg: string): void;
  /** Called when a background index build fails. */
  onBackgroundError?: (err: unknown, collection: string) => void;
  /** Observer of every search (telemetry), see RagServiceOptions.onSearch. */
  onSearch?: RagServiceOptions["onSearch"];
}

/** The word-vector cache directory: `rag.embeddingCacheDir`, default `<os tmpdir>/switchyard-embeddings`. */
export function embeddingCacheDir(config: SwitchyardConfig): string {
  return config.rag.embeddingCacheDir ?? path.join(os.tmpdir(), "switchyard-embeddings");
}

/**
 * `rag.fusion` for the chosen embedder: an unset `relativeGate` is
 * {@link RELATIVE_GATE} with the offline embedder, where it was measured,
 * and 0 (off) with an embedding model (see vector-gate.ts, 3).
 *
 * @example
 * ```ts
 * fusionFromConfig({ method: "convex", vectorWeight: 0.5, calibrate: true }, "model").relativeGate; // 0
 * ```
 */
export function fusionFromConfig(fusion: SwitchyardConfig["rag"]["fusion"], source: ChosenEmbedder["source"]): NonNullable<RagServiceOptions["fusion"]> {
  return { ...fusion, relativeGate: fusion.relativeGate ?? relativeGateFor(source === "model") };
}

/** The relative gate's threshold when the config sets none: 0 (off) when a model embeds, else {@link RELATIVE_GATE}. */
export function relativeGateFor(embedsWithModel: boolean): number {
  return embedsWithModel ? 0 : RELATIVE_GATE;
}

/**
 * A RagService for the config, not yet opened, and the embedder choice.
 *
 * @example
 * ```ts
 * const { rag, chosen } = ragServiceFromConfig(config, { resolve, warn: (f, m) => logger.warn(f, m) });
 * void chosen.warm();
 * ```
 */
export function ragServiceFromConfig(config: SwitchyardConfig, options: RagFromConfigOptions): { rag: RagService; chosen: ChosenEmbedder } {
  const chosen = chooseEmbedder({
    embeddingModel: config.rag.embeddingModel,
    resolve: options.resolve,
    offlineKind: config.rag.offlineEmbedder,
    cacheDir: embeddingCacheDir(config),
    warn: options.warn,
  });
  const collectionFusion = Object.fromEntries(
    Object.entries(config.rag.collections).flatMap(([name, c]) =>
      // Unset keys are left out, so they fall back to the global fusion instead of overriding it with `undefined`.
      c.fusion === undefined ? [] : [[name, Object.fromEntries(Object.entries(c.fusion).filter(([, v]) => v !== undefined))]],
    ),
  );
  const rag = new RagService({
    uri: config.rag.uri ?? path.join(config.dataDir, "lancedb"),
    embedder: chosen.embedder,
    chunkSize: config.rag.chunkSize,
    chunkOverlap: config.rag.chunkOverlap,
    rrfK: config.rag.rrfK,
    scoreFloor: config.rag.scoreFloor,
    fusion: fusionFromConfig(config.rag.fusion, chosen.source),
    collectionFusion,
    vectorIndex: config.rag.vectorIndex,
    ...(config.rag.rerankModel === undefined
      ? {}
      : { reranker: new GgufReranker({ file: config.rag.rerankModel, contextSize: config.rag.rerankContextSize }), rerankTopN: config.rag.rerankTopN }),
    ...(options.onBackgroundError === undefined ? {} : { onBackgroundError: options.onBackgroundError }),
    ...(options.onSearch === undefined ? {} : { onSearch: options.onSearch }),
  });
  return { rag, chosen };
}
