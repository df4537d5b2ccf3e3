/**
 * Exact response cache: keys over the canonical request, a byte-bounded TTL
 * store behind a small interface, single-flight for identical misses.
 *
 * @example
 * ```ts
 * import { ResponseCache, LruCacheStore, cacheKey, cacheDirectiveFor } from "../cache/index.js";
 * const responseCache = new ResponseCache({
 *   store: new LruCacheStore({ maxBytes: config.cache.maxBytes, ttlMs: config.cache.ttlMs }),
 *   enabled: config.cache.enabled,
 * });
 * ```
 */
export { canonicalJson, cacheKey, type CacheKeyParts } from "./key.js";
export { cacheDirective, cacheDirectiveFor, isDeterministic, BYPASS_DIRECTIVE } from "./policy.js";
export { planCache, type CacheRequest, type CachePlan } from "./plan.js";
export { LruCacheStore, responseSize, type CacheStore, type LruCacheStoreOptions } from "./store.js";
export { SingleFlight, AbortError, isAbortError } from "./single-flight.js";
export {
  ResponseCache,
  type ResponseCacheOptions,
  type CacheCounters,
  type CacheOutcome,
  type GenerateOptions,
} from "./response-cache.js";
export type {
  CachedResponse,
  CacheStoreStats,
  CacheLookupResult,
  CacheServed,
  CacheDirective,
  GeneratedResponse,
  CrossReplicaFlight,
  CrossReplicaOutcome,
} from "./types.js";
export {
  SemanticCache,
  semanticScope,
  semanticEligibility,
  questionAnchors,
  type SemanticCacheOptions,
  type SemanticScopeParts,
  type SemanticEligibility,
  type SemanticEligibilityInput,
  type SemanticLookup,
  type TextEmbedder,
} from "./semantic-cache.js";
export {
  MemorySemanticStore,
  type MemorySemanticStoreOptions,
  type SemanticStore,
  type SemanticEntry,
  type SemanticMatch,
} from "./semantic-store.js";
