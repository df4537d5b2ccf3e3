/**
 * The embedding seam. Retrieval only needs "texts in, vectors out"; the gateway
 * wires a node-llama-cpp shard process behind it, tests and the offline
 * fallback use {@link HashingEmbedder} (see `hashing-embedder.ts`).
 */

/**
 * Turns texts into fixed-dimension vectors.
 *
 * `id` names the model and its settings; a collection remembers the id it was
 * built with and refuses vectors from another one (they would not be comparable).
 *
 * @example
 * ```ts
 * const embedder: Embedder = {
 *   id: "gguf:nomic-embed-text-v1.5.Q8_0",
 *   embed: async (texts) => shard.embed(texts).then((r) => r.vectors),
 * };
 * ```
 */
export interface Embedder {
  readonly id: string;
  /**
   * One vector per input text, same order, all the same length. `purpose`
   * says whether the texts are search queries or stored passages (default
   * `document`): embedding models trained with prefixes (e5's `query: `,
   * nomic's `search_query: `) embed the two differently.
   */
  embed(texts: string[], purpose?: EmbedPurpose): Promise<number[][]>;
}

export type EmbedPurpose = "query" | "document";

/**
 * Embeds `texts` in batches of `batchSize` (sequentially: the backend is
 * usually one process with its own batching) and checks the backend kept its
 * promise of one vector per text with a single dimension.
 *
 * @example
 * ```ts
 * const vectors = await embedInBatches(new HashingEmbedder(), ["a", "b", "c"], 2);
 * vectors.length; // 3
 * ```
 */
export async function embedInBatches(
  embedder: Embedder,
  texts: string[],
  batchSize: number,
  purpose: EmbedPurpose = "document",
): Promise<number[][]> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const out: number[][] = [];
  for (let start = 0; start < texts.length; start += batchSize) {
    const batch = texts.slice(start, start + batchSize);
    const vectors = await embedder.embed(batch, purpose);
    if (vectors.length !== batch.length) {
      throw new Error(`Embedder ${embedder.id} returned ${vectors.length} vectors for ${batch.length} texts.`);
    }
    out.push(...vectors);
  }
  const dim = out[0]?.length;
  for (const v of out) {
    if (v.length !== dim || v.length === 0) throw new Error(`Embedder ${embedder.id} returned vectors of differing or zero length.`);
  }
  return out;
}
