/**
 * Retrieval: vector, full-text (BM25) or hybrid (reciprocal rank fusion of
 * both), always within one tenant, optionally narrowed by metadata filters.
 */
import { invalidRequest, notFound } from "../errors.js";
import type { RetrievedPassage } from "../types.js";
import type { Embedder } from "./embedder.js";
import { filterPredicate, type SearchFilter } from "./filters.js";
import { reciprocalRankFusion } from "./fusion.js";
import { assertCollectionName, assertTenant } from "./names.js";
import { type ChunkStore, embedderMismatch, type StoredHit } from "./store.js";

export type SearchMode = "vector" | "fulltext" | "hybrid";

export const SEARCH_MODES: readonly SearchMode[] = ["vector", "fulltext", "hybrid"];

/** Upper bound on `topK` (the prompt cannot use more anyway). */
export const MAX_TOP_K = 100;
/** Longest query accepted, in characters. */
export const MAX_QUERY_LENGTH = 8_000;

export interface SearchRequest {
  tenant: string;
  collection: string;
  query: string;
  /** Passages to return. Default 5, at most {@link MAX_TOP_K}. */
  topK?: number;
  /** Metadata equality filters, see filters.ts. */
  filter?: SearchFilter;
  /** Default `hybrid`. */
  mode?: SearchMode;
  /** Overrides the service's score floor for this call. */
  scoreFloor?: number;
}

export interface SearchSettings {
  store: ChunkStore;
  embedder: Embedder;
  rrfK: number;
  scoreFloor: number;
  /** Hybrid fetches `topK × overFetch` (at least 20) from each list before fusing. Default 4. */
  overFetch?: number;
}

function validate(req: SearchRequest): { topK: number; mode: SearchMode } {
  assertTenant(req.tenant);
  assertCollectionName(req.collection);
  if (typeof req.query !== "string" || req.query.trim().length === 0) {
    throw invalidRequest("query must be a non-empty string.", { param: "query" });
  }
  if (req.query.length > MAX_QUERY_LENGTH) {
    throw invalidRequest(`query must be at most ${MAX_QUERY_LENGTH} characters.`, { param: "query" });
  }
  const topK = req.topK ?? 5;
  if (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K) {
    throw invalidRequest(`top_k must be an integer from 1 to ${MAX_TOP_K}.`, { param: "top_k" });
  }
  const mode = req.mode ?? "hybrid";
  if (!SEARCH_MODES.includes(mode)) {
    throw invalidRequest(`mode must be one of ${SEARCH_MODES.join(", ")}.`, { param: "mode" });
  }
  return { topK, mode };
}

async function queryVector(settings: SearchSettings, collection: string, query: string): Promise<number[]> {
  const info = await settings.store.info(collection);
  const [vector] = await settings.embedder.embed([query]);
  if (vector === undefined) throw new Error(`Embedder ${settings.embedder.id} returned no vector.`);
  if (info !== undefined && (info.embedderId !== settings.embedder.id || info.dimension !== vector.length)) {
    throw embedderMismatch(collection, info, { embedderId: settings.embedder.id, dimension: vector.length });
  }
  return vector;
}

/**
 * Runs one search and returns passages numbered from 1, best first, without
 * those scoring below the floor.
 *
 * Scores by mode: `vector` = cosine similarity in [−1, 1]; `fulltext` = BM25
 * (unbounded, > 0); `hybrid` = normalised RRF in (0, 1] (see fusion.ts), over
 * the top `max(20, topK × overFetch)` of each list.
 *
 * Throws 404 when the tenant has nothing in the collection (whether or not
 * another tenant has a collection of that name, so names do not leak).
 */
export async function searchCollection(settings: SearchSettings, req: SearchRequest): Promise<RetrievedPassage[]> {
  const { topK, mode } = validate(req);
  const { store } = settings;
  const predicate = filterPredicate(req.filter);
  if (!(await store.hasTenant(req.tenant, req.collection))) {
    throw notFound(`Collection '${req.collection}' not found.`, { param: "collection", code: "collection_not_found" });
  }

  let hits: { hit: StoredHit; score: number }[];
  if (mode === "vector") {
    const vector = await queryVector(settings, req.collection, req.query);
    hits = (await store.vectorSearch(req.tenant, req.collection, vector, topK, predicate)).map((hit) => ({ hit, score: hit.score }));
  } else if (mode === "fulltext") {
    hits = (await store.fullTextSearch(req.tenant, req.collection, req.query, topK, predicate)).map((hit) => ({
      hit,
      score: hit.score,
    }));
  } else {
    const fetch = Math.max(20, topK * (settings.overFetch ?? 4));
    const vector = await queryVector(settings, req.collection, req.query);
    const [byVector, byText] = await Promise.all([
      store.vectorSearch(req.tenant, req.collection, vector, fetch, predicate),
      store.fullTextSearch(req.tenant, req.collection, req.query, fetch, predicate),
    ]);
    hits = reciprocalRankFusion([byVector, byText], (h) => h.chunkId, settings.rrfK)
      .slice(0, topK)
      .map((f) => ({ hit: f.item, score: f.score }));
  }

  const floor = req.scoreFloor ?? settings.scoreFloor;
  return hits
    .filter((h) => h.score >= floor)
    .slice(0, topK)
    .map(({ hit, score }, i) => ({
      index: i + 1,
      documentId: hit.documentId,
      chunkId: hit.chunkId,
      title: hit.title,
      source: hit.source,
      text: hit.text,
      score,
      metadata: hit.metadata,
    }));
}
