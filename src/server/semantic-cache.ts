/**
 * The composition of the semantic cache from config (`cache.semantic`): its
 * embedder (one of retrieval's offline embedders, `hashing` by default, or a
 * configured embedding model) and its store (Redis next to the exact cache
 * when `redis.url` is set, else in this process).
 */
import { MemorySemanticStore, SemanticCache, type SemanticStore } from "../cache/index.js";
import type { SwitchyardConfig } from "../config/index.js";
import { chooseEmbedder, embeddingCacheDir, OFFLINE_EMBEDDER_KINDS, type EmbeddingModelHandle, type OfflineEmbedderKind } from "../rag/index.js";

export interface SemanticCacheFromConfigOptions {
  /** The shared store (Redis); absent = an in-process store. */
  store?: SemanticStore | undefined;
  /** Looks a configured model up by name (for `cache.semantic.embedder` naming one). */
  resolve(name: string): EmbeddingModelHandle | undefined;
  warn(fields: Record<string, unknown>, msg: string): void;
}

function isOfflineKind(name: string): name is OfflineEmbedderKind {
  return (OFFLINE_EMBEDDER_KINDS as readonly string[]).includes(name);
}

/**
 * The semantic cache, or `undefined` when no request could use it (the exact
 * cache is off, or neither the server nor any key or bot enables it).
 * Throws when `cache.semantic.embedder` names no usable model.
 *
 * @example
 * ```ts
 * const semanticCache = semanticCacheFromConfig(config, { store: shared?.semanticStore, resolve, warn });
 * ```
 */
export function semanticCacheFromConfig(config: SwitchyardConfig, options: SemanticCacheFromConfigOptions): SemanticCache | undefined {
  const s = config.cache.semantic;
  const enabledSomewhere = s.enabled || config.auth.keys.some((k) => k.cache?.semantic?.enabled === true) || config.bots.some((b) => b.cache?.semantic?.enabled === true);
  if (!config.cache.enabled || !enabledSomewhere) return undefined;
  let chosen;
  try {
    chosen = chooseEmbedder({
      embeddingModel: isOfflineKind(s.embedder) ? undefined : s.embedder,
      ...(isOfflineKind(s.embedder) ? { offlineKind: s.embedder } : {}),
      resolve: options.resolve,
      cacheDir: embeddingCacheDir(config),
      warn: options.warn,
    });
  } catch (err) {
    throw new Error(`cache.semantic.embedder: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // Word vectors (sif) load in the background; the first lookups wait for them.
  chosen.warm().catch((err: unknown) => options.warn({ err: err instanceof Error ? err.message : String(err) }, "semantic cache embedder failed to load"));
  return new SemanticCache({
    embedder: chosen.embedder,
    store: options.store ?? new MemorySemanticStore({ maxEntriesPerScope: s.maxEntriesPerScope }),
    threshold: s.threshold,
    ttlMs: s.ttlMs,
  });
}
