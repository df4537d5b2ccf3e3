/**
 * Semantic cache: a single-turn question whose embedding is close enough to a
 * question already answered in the same scope gets that stored answer.
 *
 * It must never answer the wrong question, so it is narrow on purpose:
 * - Scope: tenant, model and weights, system prompt, every output-affecting
 *   parameter, retrieval collection version and embedder all go into one hash
 *   (`semanticScope`); entries are only compared inside a scope.
 * - Eligibility (`semanticEligibility`): one user turn (system/developer
 *   messages allowed), no tools, n = 1, no logprobs, and deterministic
 *   sampling unless the key opts in to sampled requests.
 * - Anchors: the digit runs and redaction placeholders of both questions must
 *   be equal ("status of order 1234" never gets the answer for order 5678).
 * - Threshold: cosine similarity at least `threshold` (chosen on the Bitext
 *   eval for ≤ 1% false hits; see BENCHMARKS.md).
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "./key.js";
import type { SemanticStore } from "./semantic-store.js";
import type { CachedResponse } from "./types.js";

/** Texts in, vectors out; `id` names the model (the `rag` embedders satisfy this). */
export interface TextEmbedder {
  readonly id: string;
  embed(texts: string[]): Promise<number[][]>;
}

/** Everything besides the question that must be equal for two requests to share an answer. */
export interface SemanticScopeParts {
  tenant: string;
  endpoint: "chat" | "completion";
  model: string;
  modelIdentity: string;
  /** System and developer messages, in order (the instructions the question is answered under). */
  system: readonly string[];
  /** Output-affecting parameters, as for the exact cache key. */
  params: object;
  /** Collection version when the request uses retrieval. */
  ragVersion?: string;
}

const SCOPE_VERSION = 1;

export function semanticScope(parts: SemanticScopeParts, embedderId: string): string {
  const body = canonicalJson({
    v: SCOPE_VERSION,
    tenant: parts.tenant,
    endpoint: parts.endpoint,
    model: parts.model,
    modelIdentity: parts.modelIdentity,
    system: parts.system,
    params: parts.params,
    ragVersion: parts.ragVersion ?? null,
    embedder: embedderId,
  });
  return createHash("sha256").update(body).digest("hex");
}

export interface SemanticEligibilityInput {
  messages: ReadonlyArray<{ role: string; content: string; toolCalls?: readonly unknown[] }>;
  hasTools: boolean;
  n: number;
  logprobs: boolean;
  /** Greedy decoding or a fixed seed (see `isDeterministic`). */
  deterministic: boolean;
  /** The key's `cache.semantic.allowSampled`. */
  allowSampled: boolean;
}

export type SemanticEligibility =
  | { eligible: true; question: string; system: string[] }
  | { eligible: false; reason: "multi_turn" | "tools" | "n" | "logprobs" | "sampled" | "empty" };

/**
 * @example
 * ```ts
 * semanticEligibility({ messages: [{ role: "user", content: "Hi" }], hasTools: false, n: 1, logprobs: false, deterministic: true, allowSampled: false });
 * // { eligible: true, question: "Hi", system: [] }
 * ```
 */
export function semanticEligibility(input: SemanticEligibilityInput): SemanticEligibility {
  if (input.hasTools) return { eligible: false, reason: "tools" };
  if (input.n !== 1) return { eligible: false, reason: "n" };
  if (input.logprobs) return { eligible: false, reason: "logprobs" };
  if (!input.deterministic && !input.allowSampled) return { eligible: false, reason: "sampled" };
  const system: string[] = [];
  let question: string | undefined;
  for (const m of input.messages) {
    if (m.role === "system" || m.role === "developer") {
      if (question !== undefined) return { eligible: false, reason: "multi_turn" };
      system.push(m.content);
    } else if (m.role === "user" && question === undefined && !m.toolCalls?.length) {
      question = m.content;
    } else {
      return { eligible: false, reason: "multi_turn" };
    }
  }
  const normalised = question?.replace(/\s+/g, " ").trim();
  if (!normalised) return { eligible: false, reason: "empty" };
  return { eligible: true, question: normalised, system };
}

/** Digit runs and `<TYPE_N>` placeholders of a question, sorted: the parts that must match exactly. */
export function questionAnchors(question: string): string[] {
  return [...question.matchAll(/<[A-Z_]+_\d+>|\d+/g)].map((m) => m[0]).sort();
}

export interface SemanticCacheOptions {
  embedder: TextEmbedder;
  store: SemanticStore;
  /** Least cosine similarity for a hit, in (0, 1]; a lookup may pass its own. */
  threshold: number;
  /** How long a stored answer serves; a store call may pass its own. */
  ttlMs: number;
  /** Require equal anchors (digits, placeholders). Default true; off only for measurement. */
  matchAnchors?: boolean;
  /** Epoch-ms clock. Default `Date.now`. */
  now?: () => number;
}

export interface SemanticLookup {
  hit?: { response: CachedResponse; similarity: number };
  /** The question's embedding, to store the fresh answer under without embedding again. */
  vector: number[];
  anchors: string[];
}

/**
 * @example
 * ```ts
 * const cache = new SemanticCache({ embedder, store: new MemorySemanticStore(), threshold: 0.8, ttlMs: 600_000 });
 * const scope = semanticScope(parts, embedder.id);
 * const found = await cache.lookup(scope, question);
 * if (found.hit) return replay(found.hit.response);
 * await cache.store(scope, question, found, await generate());
 * ```
 */
export class SemanticCache {
  readonly embedderId: string;
  private readonly embedder: TextEmbedder;
  private readonly entries: SemanticStore;
  private readonly threshold: number;
  private readonly ttlMs: number;
  private readonly matchAnchors: boolean;
  private readonly now: () => number;

  constructor(options: SemanticCacheOptions) {
    checkThreshold(options.threshold);
    this.embedder = options.embedder;
    this.embedderId = options.embedder.id;
    this.entries = options.store;
    this.threshold = options.threshold;
    this.ttlMs = options.ttlMs;
    this.matchAnchors = options.matchAnchors ?? true;
    this.now = options.now ?? Date.now;
  }

  async lookup(scope: string, question: string, threshold = this.threshold): Promise<SemanticLookup> {
    checkThreshold(threshold);
    const [raw] = await this.embedder.embed([question]);
    if (!raw || raw.length === 0) throw new Error(`Embedder ${this.embedderId} returned no vector.`);
    const vector = unit(raw);
    const anchors = this.matchAnchors ? questionAnchors(question) : [];
    const match = await this.entries.nearest(scope, vector, anchors, threshold);
    return match ? { hit: { response: match.entry.response, similarity: match.similarity }, vector, anchors } : { vector, anchors };
  }

  /** Stores a fresh answer under the question embedded by `lookup`. */
  async store(scope: string, question: string, lookup: SemanticLookup, response: CachedResponse, ttlMs = this.ttlMs): Promise<void> {
    await this.entries.add(scope, { question, vector: lookup.vector, anchors: lookup.anchors, response, expiresAt: this.now() + ttlMs });
  }
}

function checkThreshold(threshold: number): void {
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
}

function unit(v: number[]): number[] {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  return norm === 0 ? v.map(() => 0) : v.map((x) => x / norm);
}
