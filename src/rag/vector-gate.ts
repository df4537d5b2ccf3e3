/**
 * The quality gate of hybrid search: does the vector ranking carry signal on
 * this collection? An embedder whose vectors are noise (a random model, a
 * model that does not know the language) must not drag full-text results
 * down, so its weight in the fusion goes to 0.
 *
 * The test is known-item search: from up to {@link GATE_PROBES} stored chunks
 * of the tenant (a seeded sample), a window of about ten words is embedded as
 * a query; the vector search should find the chunk it came from in its top
 * {@link GATE_K}. Any real embedder does this for most probes; a random one
 * only by chance (k / rows). The signal is the hit rate above chance,
 * `(rate − chance) / (1 − chance)`; the vector weight is multiplied by
 * `clamp((signal − 0.1) / 0.3, 0, 1)`: 0 up to 0.1, full from 0.4.
 *
 * The result is cached per (tenant, collection) and table version; after a
 * write it is recomputed in the background at most once a minute, the stale
 * value serving meanwhile. The first hybrid search of a collection waits for
 * it (two dozen vector searches).
 */
import type { Embedder } from "./embedder.js";
import { seededRandom } from "./eval-metrics.js";
import type { ChunkStore } from "./store.js";
import { wordTokens } from "./text.js";

export const GATE_PROBES = 24;
export const GATE_K = 10;
const REFRESH_MS = 60_000;

/** What the gate measured. */
export interface VectorSignal {
  /** Known-item hit rate above chance, in [−1, 1] (≤ 0: noise). */
  signal: number;
  /** Factor applied to the configured vector weight, in [0, 1]. */
  multiplier: number;
  probes: number;
}

/** The weight factor for a signal (see the module comment). */
export function gateMultiplier(signal: number): number {
  return Math.min(1, Math.max(0, (signal - 0.1) / 0.3));
}

interface Entry {
  version: number;
  at: number;
  value: VectorSignal;
  refreshing?: Promise<VectorSignal> | undefined;
}

/**
 * Per-collection vector quality gate.
 *
 * @example
 * ```ts
 * const gate = new VectorGate(store, embedder);
 * const { multiplier } = await gate.measure("acme", "kb");
 * ```
 */
export class VectorGate {
  private readonly cache = new Map<string, Entry>();
  private readonly first = new Map<string, Promise<VectorSignal>>();

  constructor(
    private readonly store: ChunkStore,
    private readonly embedder: Embedder,
  ) {}

  /** The collection's vector signal (cached, see the module comment). */
  async measure(tenant: string, collection: string): Promise<VectorSignal> {
    const key = `${collection}\u0000${tenant}`;
    const version = await this.store.version(collection);
    const entry = this.cache.get(key);
    if (entry !== undefined) {
      if (entry.version !== version && entry.refreshing === undefined && Date.now() - entry.at >= REFRESH_MS) {
        entry.refreshing = this.compute(tenant, collection)
          .then((value) => {
            this.cache.set(key, { version, at: Date.now(), value });
            return value;
          })
          .finally(() => {
            entry.refreshing = undefined;
          });
        entry.refreshing.catch(() => undefined);
      }
      return entry.value;
    }
    let pending = this.first.get(key);
    if (pending === undefined) {
      pending = this.compute(tenant, collection).then((value) => {
        this.cache.set(key, { version, at: Date.now(), value });
        return value;
      });
      this.first.set(key, pending);
      pending.finally(() => this.first.delete(key)).catch(() => undefined);
    }
    return pending;
  }

  private async compute(tenant: string, collection: string): Promise<VectorSignal> {
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
    if (probes.length < 4 || rows <= GATE_K) return { signal: 1, multiplier: 1, probes: probes.length };
    const vectors = await this.embedder.embed(
      probes.map((p) => p.query),
      "query",
    );
    let hits = 0;
    for (let i = 0; i < probes.length; i++) {
      const found = await this.store.vectorSearch(tenant, collection, vectors[i] as number[], GATE_K);
      if (found.some((h) => h.chunkId === probes[i]?.chunkId)) hits++;
    }
    const chance = GATE_K / rows;
    const signal = (hits / probes.length - chance) / (1 - chance);
    return { signal, multiplier: gateMultiplier(signal), probes: probes.length };
  }
}
