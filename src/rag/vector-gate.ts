/**
 * The quality gate and fusion calibration of hybrid search, per collection:
 * how much should the vector ranking count against the full-text one here?
 *
 * Pseudo-queries from the collection itself: from up to {@link GATE_PROBES}
 * stored passage chunks of the tenant (a seeded sample), a window of about
 * ten words is a query whose answer is the chunk it came from (known-item
 * search). Each probe is run through both retrievers (top
 * {@link CALIBRATION_FETCH} each).
 *
 * 1. Gate. An embedder whose vectors are noise (a random model, a model that
 *    does not know the language) must not drag full-text results down. The
 *    vector search should find the probe's chunk in its top {@link GATE_K};
 *    a real embedder does this for most probes, a random one only by chance
 *    (k / rows). The signal is the hit rate above chance,
 *    `(rate − chance) / (1 − chance)`; the multiplier
 *    `clamp((signal − 0.1) / 0.3, 0, 1)` is 0 up to 0.1, full from 0.4.
 * 2. Calibration. For each vector weight in {@link WEIGHT_GRID}, the probes'
 *    MRR@10 under the fusion in effect (method, k); the weight that scores
 *    best is used, and among weights within {@link CALIBRATION_TOLERANCE} of
 *    the best the one closest to the configured weight (the prior), so noise
 *    in a small sample does not move it. Times the gate's multiplier. A
 *    collection where the embedder ranks worse than BM25 gets a small vector
 *    weight (on the evals: 0 to 0.2 on rows of near-duplicate answers, where
 *    fixed weights put hybrid below full text), one where both help gets a
 *    middle one.
 * 3. Comparable parts. A linear fusion helps when both rankings are about
 *    as good and differ; fused with a clearly weaker ranking it mostly
 *    pushes the stronger one's answers down (Vogt & Cottrell, "Fusion via
 *    a linear combination of scores", IR 1999). Where the vector ranking's
 *    probe MRR@10 is below `relativeGate` ({@link RELATIVE_GATE} unless the
 *    fusion options say otherwise) of the full-text one's, the weight is 0
 *    (hybrid = full text). With the offline embedders this is what keeps
 *    hybrid from ranking below full text on the eval sets (BENCHMARKS.md
 *    "Retrieval"). Verbatim windows favour BM25, so the config turns the
 *    gate off for an embedding model (src/rag/from-config.ts): its meaning
 *    does not show on them, and nothing here measured it.
 *
 * The probes' rankings are cached per (tenant, collection) and table
 * version; the weight for a fusion setting is computed from them once and
 * memoised. After a write they are re-measured in the background at most
 * once a minute, the stale value serving meanwhile. A write through
 * RagService starts the first measurement in the background; a hybrid search
 * that finds none waits for it (2 × {@link GATE_PROBES} searches), unless an
 * earlier run left its measurement on disk (calibration-files.ts): that one
 * serves at once, and is re-measured in the background if the table moved.
 */
import type { CalibrationStore, PersistedCalibration } from "./calibration-files.js";
import type { Embedder } from "./embedder.js";
import { seededRandom } from "./eval-metrics.js";
import { type FusionOptions, weightedFusion } from "./fusion.js";
import { answerKey } from "./search.js";
import type { ChunkStore, StoredHit } from "./store.js";
import { wordTokens } from "./text.js";

export const GATE_PROBES = 32;
export const GATE_K = 10;
/** Candidates fetched from each retriever per probe. */
export const CALIBRATION_FETCH = 20;
/** Vector weights the calibration tries. */
export const WEIGHT_GRID: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
/** Probe MRR@10 within this of the best counts as a tie (resolved toward the configured weight). */
export const CALIBRATION_TOLERANCE = 0.01;
/**
 * Share of the full-text ranking's probe MRR@10 the vector ranking must reach
 * to be fused at all (see the module comment, 3). On the eval sets the vector
 * rankings that cost hybrid its hit@5 reached 0.58-0.89 of full text, those
 * that lifted it 0.94 and more.
 */
export const RELATIVE_GATE = 0.9;
const REFRESH_MS = 60_000;

/** What the gate measured. */
export interface VectorSignal {
  /** Known-item hit rate above chance, in [−1, 1] (≤ 0: noise). */
  signal: number;
  /** Factor applied to the vector weight, in [0, 1]. */
  multiplier: number;
  /**
   * The vector ranking's probe MRR@10 over the full-text ranking's (1 = as
   * good; 1 without probes). Below {@link RELATIVE_GATE} the vector weight is 0.
   */
  relative: number;
  probes: number;
}

/** One probe's two rankings, reduced to what fusion needs. */
interface ProbeRankings {
  target: string;
  vector: ScoredKey[];
  text: ScoredKey[];
}

interface ScoredKey {
  key: string;
  score: number;
}

/**
 * A collection's measured vector signal and probe rankings; gives the
 * calibrated vector weight for a fusion setting.
 */
export class Calibration implements VectorSignal {
  private readonly weights = new Map<string, number>();
  readonly relative: number;

  constructor(
    readonly signal: number,
    readonly multiplier: number,
    readonly probes: number,
    private readonly rankings: readonly ProbeRankings[],
  ) {
    const text = listMrr(rankings, (p) => p.text);
    this.relative = rankings.length === 0 ? 1 : text > 0 ? listMrr(rankings, (p) => p.vector) / text : 1;
  }

  /** What {@link CalibrationStore} keeps: the measurement without the memoised weights. */
  serialize(): Pick<PersistedCalibration, "signal" | "multiplier" | "probes" | "rankings"> {
    return { signal: this.signal, multiplier: this.multiplier, probes: this.probes, rankings: this.rankings.map((r) => ({ ...r })) };
  }

  /** Probe MRR@10 of the fusion `options` (with its vector weight). */
  probeMrr(options: FusionOptions): number {
    let sum = 0;
    for (const p of this.rankings) {
      const fused = weightedFusion([p.vector, p.text], (h) => h.key, (h) => h.score, options);
      const rank = fused.slice(0, 10).findIndex((f) => f.item.key === p.target);
      if (rank >= 0) sum += 1 / (rank + 1);
    }
    return this.rankings.length === 0 ? 0 : sum / this.rankings.length;
  }

  /**
   * The vector weight to use with `options` (its `vectorWeight` is the
   * prior): see the module comment. Without probe rankings (too little text
   * to judge) the prior times the multiplier; 0 when the vector ranking is
   * below `options.relativeGate` (default {@link RELATIVE_GATE}) of the
   * full-text one.
   */
  weightFor(options: FusionOptions): number {
    const gate = options.relativeGate ?? RELATIVE_GATE;
    const memo = `${options.method}|${options.rrfK}|${options.vectorWeight}|${gate}`;
    const known = this.weights.get(memo);
    if (known !== undefined) return known;
    let weight = options.vectorWeight;
    if (this.relative < gate) weight = 0;
    else if (this.rankings.length > 0 && this.multiplier > 0) {
      const scored = WEIGHT_GRID.map((w) => ({ w, mrr: this.probeMrr({ ...options, vectorWeight: w }) }));
      const best = Math.max(...scored.map((x) => x.mrr));
      const near = scored.filter((x) => x.mrr >= best - CALIBRATION_TOLERANCE);
      weight = near.reduce((a, b) => (Math.abs(b.w - options.vectorWeight) < Math.abs(a.w - options.vectorWeight) ? b : a)).w;
    }
    const out = weight * this.multiplier;
    if (this.weights.size > 64) this.weights.clear();
    this.weights.set(memo, out);
    return out;
  }
}

/** Mean reciprocal rank (top 10) of the probes' targets in one of their two rankings alone. */
function listMrr(rankings: readonly ProbeRankings[], list: (p: ProbeRankings) => ScoredKey[]): number {
  let sum = 0;
  for (const p of rankings) {
    const rank = list(p)
      .slice(0, 10)
      .findIndex((h) => h.key === p.target);
    if (rank >= 0) sum += 1 / (rank + 1);
  }
  return rankings.length === 0 ? 0 : sum / rankings.length;
}

/** The weight factor for a signal (see the module comment). */
export function gateMultiplier(signal: number): number {
  return Math.min(1, Math.max(0, (signal - 0.1) / 0.3));
}

interface Entry {
  version: number;
  at: number;
  value: Calibration;
  refreshing?: Promise<Calibration> | undefined;
}

/**
 * Per-collection vector quality gate and fusion calibration.
 *
 * @example
 * ```ts
 * const gate = new VectorGate(store, embedder);
 * const calibration = await gate.measure("acme", "kb");
 * const w = calibration.weightFor({ method: "convex", vectorWeight: 0.5, rrfK: 60 });
 * ```
 */
export class VectorGate {
  private readonly cache = new Map<string, Entry>();
  private readonly first = new Map<string, Promise<Calibration>>();
  private readonly background = new Set<Promise<void>>();

  /** `persisted`: where measurements outlive the process (calibration-files.ts); a restored one serves until re-measured. */
  constructor(
    private readonly store: ChunkStore,
    private readonly embedder: Embedder,
    private readonly persisted?: CalibrationStore,
  ) {}

  /** The collection's vector signal and probe rankings (cached, see the module comment). */
  async measure(tenant: string, collection: string): Promise<Calibration> {
    const key = `${collection}\u0000${tenant}`;
    const version = await this.store.version(collection);
    const entry = this.cache.get(key);
    if (entry !== undefined) {
      if (entry.version !== version && entry.refreshing === undefined && Date.now() - entry.at >= REFRESH_MS) {
        const refreshing: Promise<Calibration> = this.compute(tenant, collection)
          .then((value) => this.keep(key, tenant, collection, version, value))
          .finally(() => {
            entry.refreshing = undefined;
          });
        entry.refreshing = refreshing;
        this.track(refreshing.then(() => undefined));
      }
      return entry.value;
    }
    let pending = this.first.get(key);
    if (pending === undefined) {
      pending = this.restore(key, tenant, collection, version).then(
        (restored) => restored ?? this.compute(tenant, collection).then((value) => this.keep(key, tenant, collection, version, value)),
      );
      this.first.set(key, pending);
      pending.finally(() => this.first.delete(key)).catch(() => undefined);
    }
    return pending;
  }

  /** Caches a fresh measurement and stores it for the next run (a failed write only costs that run a measurement). */
  private keep(key: string, tenant: string, collection: string, version: number, value: Calibration): Calibration {
    this.cache.set(key, { version, at: Date.now(), value });
    if (this.persisted !== undefined) this.track(this.persisted.save(tenant, collection, { embedderId: this.embedder.id, version, ...value.serialize() }));
    return value;
  }

  /** Background work (a re-measurement, a write of one) that {@link VectorGate.settled} waits for; its failure is not the caller's. */
  private track(work: Promise<void>): void {
    const tracked: Promise<void> = work.catch(() => undefined).finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  /** Resolves when the re-measurements started so far, and the writes of what they found, are done. */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.all(this.background);
  }

  /**
   * The stored measurement of an earlier run with this embedder, cached as if just taken; when the table moved
   * since, it serves while a new one is taken in the background (as after a write).
   */
  private async restore(key: string, tenant: string, collection: string, version: number): Promise<Calibration | undefined> {
    const stored = await this.persisted?.load(tenant, collection);
    if (stored === undefined || stored.embedderId !== this.embedder.id) return undefined;
    const value = new Calibration(stored.signal, stored.multiplier, stored.probes, stored.rankings);
    this.cache.set(key, { version: stored.version, at: 0, value });
    if (stored.version !== version) void this.measure(tenant, collection).catch(() => undefined);
    return value;
  }

  private async compute(tenant: string, collection: string): Promise<Calibration> {
    const rows = await this.store.countChunks(tenant, collection);
    const sample = await this.store.sampleChunks(tenant, collection, Math.min(rows, GATE_PROBES * 8));
    const rand = seededRandom(rows);
    const probes: { chunkId: string; query: string }[] = [];
    for (const chunk of sample) {
      const words = wordTokens(chunk.text);
      if (words.length < 3) continue;
      const start = Math.floor(rand() * Math.max(1, words.length - 10));
      probes.push({ chunkId: chunk.chunkId, query: words.slice(start, start + 10).join(" ") });
      if (probes.length >= GATE_PROBES) break;
    }
    // Too little text to judge: trust the configuration.
    if (probes.length < 4 || rows <= GATE_K) return new Calibration(1, 1, probes.length, []);
    const vectors = await this.embedder.embed(
      probes.map((p) => p.query),
      "query",
    );
    const scored = (hits: StoredHit[]): ScoredKey[] => {
      const seen = new Set<string>();
      return hits.flatMap((h) => {
        const key = answerKey(h);
        if (seen.has(key)) return [];
        seen.add(key);
        return [{ key, score: h.score }];
      });
    };
    let hits = 0;
    const rankings: ProbeRankings[] = [];
    for (let i = 0; i < probes.length; i++) {
      const probe = probes[i] as { chunkId: string; query: string };
      const [byVector, byText] = await Promise.all([
        this.store.vectorSearch(tenant, collection, vectors[i] as number[], CALIBRATION_FETCH),
        this.store.fullTextSearch(tenant, collection, probe.query, CALIBRATION_FETCH),
      ]);
      if (byVector.slice(0, GATE_K).some((h) => h.chunkId === probe.chunkId)) hits++;
      rankings.push({ target: probe.chunkId, vector: scored(byVector), text: scored(byText) });
    }
    const chance = GATE_K / rows;
    const signal = (hits / probes.length - chance) / (1 - chance);
    return new Calibration(signal, gateMultiplier(signal), probes.length, rankings);
  }
}
