/**
 * Retrieval: vector, full-text (BM25) or hybrid (weighted fusion of both, see
 * fusion.ts), always within one tenant, optionally narrowed by metadata
 * filters. Rows of known questions (`RagDocument.questions`) stand for their
 * document's first chunk: a hit on one returns that chunk, once.
 */
import { invalidRequest, notFound } from "../errors.js";
import type { RetrievedPassage } from "../types.js";
import type { Embedder } from "./embedder.js";
import { filterPredicate, type SearchFilter } from "./filters.js";
import { FUSION_METHODS, type Fused, type FusionOptions, weightedFusion } from "./fusion.js";
import { assertCollectionName, assertTenant } from "./names.js";
import { rerank, type Reranker } from "./reranker.js";
import { type ChunkStore, embedderMismatch, type RankedRow, type StoredHit } from "./store.js";
import type { VectorGate } from "./vector-gate.js";

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
  /** Overrides the service's hybrid fusion settings for this call (hybrid mode only). */
  fusion?: Partial<FusionOptions>;
}

export interface SearchSettings {
  store: ChunkStore;
  embedder: Embedder;
  fusion: FusionOptions;
  scoreFloor: number;
  /**
   * The vector quality gate and fusion calibration (vector-gate.ts): the
   * vector weight used is the one calibrated for this collection with the
   * configured weight as the prior. Not applied when the request sets
   * `fusion.vectorWeight` itself, nor with `fusion.calibrate: false`.
   */
  gate?: VectorGate;
  /** Hybrid fetches `topK × overFetch` (at least 20) from each list before fusing. Default 4. */
  overFetch?: number;
  /**
   * Reranking after the mode's ranking (fusion, for hybrid): the first `topN`
   * candidates are scored by the cross-encoder and reordered; their scores
   * become the reranker's (0 to 1). Absent = off.
   */
  rerank?: { reranker: Reranker; topN: number };
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
  const f = req.fusion;
  if (f !== undefined) {
    if (f.method !== undefined && !FUSION_METHODS.includes(f.method)) {
      throw invalidRequest(`fusion.method must be one of ${FUSION_METHODS.join(", ")}.`, { param: "fusion.method" });
    }
    if (f.vectorWeight !== undefined && !(typeof f.vectorWeight === "number" && f.vectorWeight >= 0 && f.vectorWeight <= 1)) {
      throw invalidRequest("fusion.vector_weight must be a number from 0 to 1.", { param: "fusion.vector_weight" });
    }
    if (f.rrfK !== undefined && !(typeof f.rrfK === "number" && f.rrfK > 0 && Number.isFinite(f.rrfK))) {
      throw invalidRequest("fusion.rrf_k must be a positive number.", { param: "fusion.rrf_k" });
    }
  }
  return { topK, mode };
}

/** The key a hit stands for: its own chunk, or for a known question its document's first chunk. */
export function answerKey(hit: StoredHit): string {
  return hit.position < 0 ? `${hit.documentId}#0` : hit.chunkId;
}

/** Keeps the best-ranked hit per answer key (lists come best first). */
function byAnswer(hits: StoredHit[]): StoredHit[] {
  const seen = new Set<string>();
  return hits.filter((h) => {
    const k = answerKey(h);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Replaces question rows by the chunk they stand for (dropped if that chunk is gone). */
async function resolveQuestions(
  store: ChunkStore,
  req: SearchRequest,
  hits: { hit: StoredHit; score: number }[],
): Promise<{ hit: StoredHit; score: number }[]> {
  const wanted = [...new Set(hits.filter((h) => h.hit.position < 0).map((h) => answerKey(h.hit)))];
  if (wanted.length === 0) return hits;
  const found = new Map((await store.chunksById(req.tenant, req.collection, wanted)).map((c) => [c.chunkId, c]));
  return hits.flatMap((h) => {
    if (h.hit.position >= 0) return [h];
    const chunk = found.get(answerKey(h.hit));
    return chunk === undefined ? [] : [{ hit: chunk, score: h.score }];
  });
}

async function queryVector(settings: SearchSettings, collection: string, query: string): Promise<number[]> {
  const info = await settings.store.info(collection);
  const [vector] = await settings.embedder.embed([query], "query");
  if (vector === undefined) throw new Error(`Embedder ${settings.embedder.id} returned no vector.`);
  if (info !== undefined && (info.embedderId !== settings.embedder.id || info.dimension !== vector.length)) {
    throw embedderMismatch(collection, info, { embedderId: settings.embedder.id, dimension: vector.length });
  }
  return vector;
}

function definedOnly(f: Partial<FusionOptions> | undefined): Partial<FusionOptions> {
  const out: Partial<FusionOptions> = {};
  if (f?.method !== undefined) out.method = f.method;
  if (f?.vectorWeight !== undefined) out.vectorWeight = f.vectorWeight;
  if (f?.rrfK !== undefined) out.rrfK = f.rrfK;
  if (f?.calibrate !== undefined) out.calibrate = f.calibrate;
  if (f?.relativeGate !== undefined) out.relativeGate = f.relativeGate;
  return out;
}

/** A fusion as a hybrid search used it; `calibrated` says whether the vector weight came from the calibration. */
export type UsedFusion = FusionOptions & { calibrated: boolean };

/** A search's passages and, for hybrid, the fusion it used. */
export interface SearchOutcome {
  passages: RetrievedPassage[];
  fusion: UsedFusion | undefined;
}

/**
 * The fusion a hybrid search of `req` uses: the configured one with the
 * request's keys over it, and the collection's calibrated vector weight
 * (vector-gate.ts) unless the request sets one or turns calibration off.
 */
async function effectiveFusion(
  settings: Pick<SearchSettings, "fusion" | "gate">,
  req: Pick<SearchRequest, "tenant" | "collection" | "fusion">,
): Promise<UsedFusion> {
  const fusion: FusionOptions = { ...settings.fusion, ...definedOnly(req.fusion) };
  const { gate } = settings;
  if (gate === undefined || req.fusion?.vectorWeight !== undefined || fusion.calibrate === false || fusion.vectorWeight === 0) return { ...fusion, calibrated: false };
  return { ...fusion, vectorWeight: (await gate.measure(req.tenant, req.collection)).weightFor(fusion), calibrated: true };
}

/** The vector and the full-text ranking, concurrently; a list whose fusion weight is 0 is not searched. */
function bothRankings<T>(
  settings: SearchSettings,
  req: SearchRequest,
  vectorWeight: number,
  byVector: (vector: number[]) => Promise<T[]>,
  byText: () => Promise<T[]>,
): Promise<[T[], T[]]> {
  return Promise.all([
    vectorWeight > 0 ? queryVector(settings, req.collection, req.query).then(byVector) : Promise.resolve([]),
    vectorWeight < 1 ? byText() : Promise.resolve([]),
  ]);
}

/**
 * Hybrid search over row ids: both rankings without reading any column,
 * fused, then the columns of the candidates that survive only. Valid when no
 * two rows collapse into one answer (no question rows) and the table version
 * did not move between the searches and the read (row ids are per version);
 * `undefined` otherwise, for the caller to search the materialising way.
 */
async function hybridByRowId(
  settings: SearchSettings,
  req: SearchRequest,
  fusion: FusionOptions,
  fetch: number,
  keep: number,
  predicate: string | undefined,
): Promise<{ hit: StoredHit; score: number }[] | undefined> {
  const { store } = settings;
  const version = await store.version(req.collection);
  const w = fusion.vectorWeight;
  const [byVector, byText] = await bothRankings(
    settings,
    req,
    w,
    (v) => store.vectorRank(req.tenant, req.collection, v, fetch, predicate),
    () => store.fullTextRank(req.tenant, req.collection, req.query, fetch, predicate),
  );
  const all = weightedFusion([byVector, byText], (r) => String(r.rowId), (r) => r.score, fusion);
  // Fusion breaks exact ties by key, which is the chunk id on the materialising path: read the
  // candidates tied with the last kept one too, and order ties by chunk id, for the same answer.
  const bestRank = (f: Fused<RankedRow>): number =>
    Math.min(...f.ranks.map((r, i) => ((i === 0 ? w : 1 - w) > 0 && r !== undefined ? r : Number.POSITIVE_INFINITY)));
  const tied = (a: Fused<RankedRow>, b: Fused<RankedRow>): boolean => a.score === b.score && bestRank(a) === bestRank(b);
  let end = Math.min(keep, all.length);
  while (end > 0 && end < all.length && tied(all[end] as Fused<RankedRow>, all[end - 1] as Fused<RankedRow>)) end++;
  const fused = all.slice(0, end);
  const rows = await store.rowsById(
    req.tenant,
    req.collection,
    fused.map((f) => f.item.rowId),
  );
  if ((await store.version(req.collection)) !== version) return undefined;
  const hits: { hit: StoredHit; score: number; rank: number }[] = [];
  for (const f of fused) {
    const hit = rows.get(f.item.rowId);
    // Gone, or a question row written since the caller looked (it would need collapsing).
    if (hit === undefined || hit.position < 0) return undefined;
    hits.push({ hit, score: f.score, rank: bestRank(f) });
  }
  // The fused order with chunk ids as the last key: only runs of ties move.
  hits.sort((a, b) => b.score - a.score || a.rank - b.rank || (a.hit.chunkId < b.hit.chunkId ? -1 : a.hit.chunkId > b.hit.chunkId ? 1 : 0));
  return hits.slice(0, keep).map(({ hit, score }) => ({ hit, score }));
}

/**
 * Runs one search and returns passages numbered from 1, best first, without
 * those scoring below the floor.
 *
 * Scores by mode: `vector` = cosine similarity in [−1, 1]; `fulltext` = BM25
 * (unbounded, > 0); `hybrid` = the fused score in [0, 1] (see fusion.ts), over
 * the top `max(20, topK × overFetch)` of each list.
 *
 * Throws 404 when the tenant has nothing in the collection (whether or not
 * another tenant has a collection of that name, so names do not leak).
 */
export async function searchCollection(settings: SearchSettings, req: SearchRequest): Promise<RetrievedPassage[]> {
  return (await searchWithFusion(settings, req)).passages;
}

/** {@link searchCollection}, with the fusion a hybrid search used (`undefined` for the other modes). */
export async function searchWithFusion(settings: SearchSettings, req: SearchRequest): Promise<SearchOutcome> {
  const { topK, mode } = validate(req);
  const { store } = settings;
  const predicate = filterPredicate(req.filter);
  if (!(await store.hasTenant(req.tenant, req.collection))) {
    throw notFound(`Collection '${req.collection}' not found.`, { param: "collection", code: "collection_not_found" });
  }

  // Over-fetch: question rows collapse into the chunk they stand for, and fusion ranks beyond topK.
  const fetch = Math.max(20, topK * (settings.overFetch ?? 4));
  // Candidates kept for the reranker (or the floor and topK alone).
  const keep = settings.rerank ? Math.max(topK, settings.rerank.topN) : topK;
  const questions = await store.hasQuestionRows(req.collection);
  // One ranking and nothing to collapse: its first `keep` rows are the answer.
  const single = questions ? fetch : Math.min(fetch, keep);
  let hits: { hit: StoredHit; score: number }[];
  let used: UsedFusion | undefined;
  if (mode === "vector") {
    const vector = await queryVector(settings, req.collection, req.query);
    hits = byAnswer(await store.vectorSearch(req.tenant, req.collection, vector, single, predicate)).map((hit) => ({ hit, score: hit.score }));
  } else if (mode === "fulltext") {
    hits = byAnswer(await store.fullTextSearch(req.tenant, req.collection, req.query, single, predicate)).map((hit) => ({
      hit,
      score: hit.score,
    }));
  } else {
    used = await effectiveFusion(settings, req);
    const fusion: FusionOptions = used;
    const byRowId = questions ? undefined : await hybridByRowId(settings, req, fusion, fetch, keep, predicate);
    if (byRowId !== undefined) hits = byRowId;
    else {
      const [byVector, byText] = await bothRankings(
        settings,
        req,
        fusion.vectorWeight,
        (v) => store.vectorSearch(req.tenant, req.collection, v, fetch, predicate),
        () => store.fullTextSearch(req.tenant, req.collection, req.query, fetch, predicate),
      );
      hits = weightedFusion([byAnswer(byVector), byAnswer(byText)], answerKey, (h) => h.score, fusion).map((f) => ({
        hit: f.item,
        score: f.score,
      }));
    }
  }
  if (settings.rerank) {
    // Rerank answers, not the question rows that found them: resolve first, over the candidates reranking sees.
    const { reranker, topN } = settings.rerank;
    hits = await resolveQuestions(store, req, hits.slice(0, Math.max(topK, topN)));
    hits = await rerank(reranker, req.query, hits, (h) => h.hit.text, topN);
  } else {
    hits = await resolveQuestions(store, req, hits.slice(0, topK));
  }

  const floor = req.scoreFloor ?? settings.scoreFloor;
  const passages = hits
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
  return { passages, fusion: used };
}
