/**
 * Wraps a generation {@link Producer} with the response cache. The lookup runs
 * first, so `x-switchyard-cache` is known before a stream starts; a hit replays
 * the stored chunks (a valid SSE stream, chunked by tokens), a miss generates
 * once for all identical concurrent requests and stores the complete answer.
 *
 * What the store keeps is text, finish reason, usage and text chunks; answers
 * that carry more cannot be replayed faithfully, so those requests bypass the
 * cache (`bypass: true`, still counted as a bypass): tool calls (`tools` with
 * `tool_choice` other than `none`) and logprobs (whose entries are also ~20x
 * the text the byte budget counts). `n > 1` bypasses it too (the routes do not
 * call this then). `tool_choice: none` answers are plain text and are cached,
 * with the tools in the key.
 */
import { BYPASS_DIRECTIVE, cacheDirectiveFor, cacheKey, type CacheKeyParts, type CachedResponse, type ResponseCache } from "../../cache/index.js";
import type { GenerationResult, SamplingParams } from "../../types.js";
import type { Producer } from "./respond.js";

export interface CachedProducerOptions {
  cache: ResponseCache<GenerationResult> | undefined;
  parts: CacheKeyParts;
  params: SamplingParams;
  cacheControl: string | undefined;
  produce: Producer;
  /** The answer may hold tool calls or logprobs, which the store cannot keep: neither look up nor store. */
  bypass?: boolean;
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

/**
 * @example
 * ```ts
 * const { cache, produce } = await cachedProducer({ cache: responseCache, parts, params, cacheControl: c.req.header("cache-control"), produce: poolProducer(...) });
 * return respond(c, { cache, produce, ... });
 * ```
 */
export async function cachedProducer({ cache, parts, params, cacheControl, produce, bypass = false }: CachedProducerOptions): Promise<CachedProducer> {
  if (!cache) return { cache: "bypass", produce };
  const directive = bypass ? { ...BYPASS_DIRECTIVE } : cacheDirectiveFor(cacheControl, params);
  const key = cacheKey(parts);
  const found = await cache.lookup(key, directive);
  if (found.value) {
    const entry = found.value;
    return {
      cache: "hit",
      produce: async (onChunk) => {
        for (const chunk of entry.chunks) onChunk(chunk);
        return fromCached(entry);
      },
    };
  }
  return {
    cache: found.result,
    produce: async (onChunk, signal) => {
      const out = await cache.generate(key, directive, { signal, onChunk, generate: ({ signal: s, onChunk: emit }) => produce(emit, s) });
      return out.result ?? fromCached(out.response);
    },
  };
}
