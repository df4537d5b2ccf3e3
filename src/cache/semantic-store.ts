/**
 * Where semantic-cache entries live: per scope (tenant, model, system prompt,
 * parameters, collection version — see `semanticScope`), a bounded list of
 * questions with their unit-length embedding and the stored answer. A lookup
 * is a nearest-neighbour search inside one scope only, so nothing is ever
 * compared across tenants.
 */
import { LRUCache } from "lru-cache";
import type { CachedResponse } from "./types.js";

export interface SemanticEntry {
  /** The question as asked (normalised whitespace). */
  question: string;
  /** Unit-length embedding of `question`. */
  vector: number[];
  /** Digit runs and placeholders in the question (see `questionAnchors`), sorted; a hit needs the same ones. */
  anchors: string[];
  response: CachedResponse;
  /** Epoch ms after which the entry is gone. */
  expiresAt: number;
}

export interface SemanticMatch {
  entry: SemanticEntry;
  /** Cosine similarity to the query, in [-1, 1]. */
  similarity: number;
}

/**
 * Storage for semantic entries. `nearest` returns the most similar live entry
 * of the scope whose anchors equal `anchors` and whose similarity is at least
 * `minSimilarity`, or undefined.
 */
export interface SemanticStore {
  nearest(scope: string, vector: number[], anchors: readonly string[], minSimilarity: number): Promise<SemanticMatch | undefined>;
  add(scope: string, entry: SemanticEntry): Promise<void>;
  stats(): { scopes: number; entries: number };
}

export interface MemorySemanticStoreOptions {
  /** Most entries kept per scope; the oldest goes first. Default 1000. */
  maxEntriesPerScope?: number;
  /** Most scopes kept (least recently used goes first). Default 10,000. */
  maxScopes?: number;
  /** Epoch-ms clock; injectable for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * In-process store: an LRU of scopes, each a FIFO list searched by brute
 * force (a scope holds at most `maxEntriesPerScope` questions, so a lookup is
 * that many dot products).
 *
 * @example
 * ```ts
 * const store = new MemorySemanticStore({ maxEntriesPerScope: 1000 });
 * await store.add(scope, entry);
 * await store.nearest(scope, queryVector, [], 0.9); // { entry, similarity } | undefined
 * ```
 */
export class MemorySemanticStore implements SemanticStore {
  private readonly scopes: LRUCache<string, SemanticEntry[]>;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: MemorySemanticStoreOptions = {}) {
    this.maxEntries = options.maxEntriesPerScope ?? 1000;
    this.now = options.now ?? Date.now;
    this.scopes = new LRUCache({ max: options.maxScopes ?? 10_000 });
  }

  nearest(scope: string, vector: number[], anchors: readonly string[], minSimilarity: number): Promise<SemanticMatch | undefined> {
    const entries = this.live(scope);
    let best: SemanticMatch | undefined;
    for (const entry of entries) {
      if (!sameAnchors(entry.anchors, anchors)) continue;
      const similarity = dot(entry.vector, vector);
      if (similarity >= minSimilarity && (!best || similarity > best.similarity)) best = { entry, similarity };
    }
    return Promise.resolve(best);
  }

  add(scope: string, entry: SemanticEntry): Promise<void> {
    const entries = this.live(scope);
    entries.push(entry);
    if (entries.length > this.maxEntries) entries.splice(0, entries.length - this.maxEntries);
    this.scopes.set(scope, entries);
    return Promise.resolve();
  }

  stats(): { scopes: number; entries: number } {
    let entries = 0;
    for (const list of this.scopes.values()) entries += list.length;
    return { scopes: this.scopes.size, entries };
  }

  /** The scope's entries with expired ones dropped. */
  private live(scope: string): SemanticEntry[] {
    const entries = this.scopes.get(scope) ?? [];
    const now = this.now();
    if (entries.some((e) => e.expiresAt <= now)) {
      const kept = entries.filter((e) => e.expiresAt > now);
      this.scopes.set(scope, kept);
      return kept;
    }
    return entries;
  }
}

function sameAnchors(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function dot(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return -1;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
