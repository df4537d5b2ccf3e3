/**
 * Wraps a generation {@link Producer} with the response cache. The lookup runs
 * first, so `x-switchyard-cache` is known before a stream starts; a hit replays
 * the stored chunks (a valid SSE stream, chunked by tokens), a miss generates
 * once for all identical concurrent requests and stores the complete answer.
 * Which requests may use the cache, and under which key, is `src/cache`'s
 * decision (`planCache`); this only executes the plan.
 */
import type { CachePlan, CachedResponse, ResponseCache } from "../../cache/index.js";
import type { GenerationResult } from "../../types.js";
import type { Producer } from "./respond.js";

export interface CachedProducerOptions {
  cache: ResponseCache<GenerationResult> | undefined;
  /** From `planCache`; `undefined` = the cache is not consulted. */
  plan: CachePlan | undefined;
  produce: Producer;
}

export interface CachedProducer {
  cache: "hit" | "miss" | "bypass";
  produce: Producer;
}

function fromCached(entry: CachedResponse): GenerationResult {
  return {
    text: entry.text,
    finishReason: entry.finishReason,
    usage: entry.usage,
    shard: "cache",
    timings: { queueMs: 0, ttftMs: 0, decodeMs: 0, cachedPromptTokens: 0 },
  };
}

/** A producer that replays a stored answer: its chunks, then its result (shard `cache`). */
export function replayProducer(entry: CachedResponse): Producer {
  return async (onChunk) => {
    for (const chunk of entry.chunks) onChunk(chunk);
    return fromCached(entry);
  };
}

/**
 * @example
 * ```ts
 * const { cache, produce } = await cachedProducer({ cache: responseCache, plan: planCache(request, { input, params }), produce: poolProducer(c, options) });
 * return respond(c, { cache, produce, ... });
 * ```
 */
export async function cachedProducer({ cache, plan, produce }: CachedProducerOptions): Promise<CachedProducer> {
  if (!cache || !plan) return { cache: "bypass", produce };
  const { key, directive } = plan;
  const found = await cache.lookup(key, directive);
  if (found.value) return { cache: "hit", produce: replayProducer(found.value) };
  return {
    cache: found.result,
    produce: async (onChunk, signal) => {
      const out = await cache.generate(key, directive, { signal, onChunk, generate: ({ signal: s, onChunk: emit }) => produce(emit, s) });
      return out.result ?? fromCached(out.response);
    },
  };
}
