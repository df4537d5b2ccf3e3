/**
 * `switchyard index --collection NAME [--type ivf_flat|hnsw_sq|ivf_pq] [--status]`:
 * builds a collection's ANN vector index now (the gateway also builds one in
 * the background past `rag.vectorIndex.threshold` rows), or prints its status.
 */
import { parseArgs } from "node:util";
import type { SwitchyardConfig } from "./config/index.js";
import { RagService, VECTOR_INDEX_TYPES, type VectorIndexType } from "./rag/index.js";
import path from "node:path";

export const INDEX_USAGE = `switchyard index --collection NAME [--type ${VECTOR_INDEX_TYPES.join("|")}] [--status]`;

export async function vectorIndexCommand(config: SwitchyardConfig, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      collection: { type: "string" },
      type: { type: "string" },
      status: { type: "boolean", default: false },
    },
  });
  if (!values.collection) throw new Error(`usage: ${INDEX_USAGE}`);
  const type = values.type ?? config.rag.vectorIndex.type;
  if (!isVectorIndexType(type)) throw new Error(`--type must be one of ${VECTOR_INDEX_TYPES.join(", ")}, got '${type}'`);
  // Building an index reads stored vectors only: no embedder is called.
  const rag = new RagService({
    uri: config.rag.uri ?? path.join(config.dataDir, "lancedb"),
    embedder: { id: "unused", embed: () => Promise.reject(new Error("the index command does not embed")) },
    chunkSize: config.rag.chunkSize,
    chunkOverlap: config.rag.chunkOverlap,
    rrfK: config.rag.rrfK,
    scoreFloor: config.rag.scoreFloor,
    vectorIndex: { ...config.rag.vectorIndex, threshold: 0 },
  });
  try {
    if (!values.status) {
      const t0 = performance.now();
      await rag.buildVectorIndex(values.collection, type);
      process.stderr.write(`built ${type} index on '${values.collection}' in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    console.log(JSON.stringify({ collection: values.collection, vectorIndex: await rag.vectorIndexStatus(values.collection) }));
  } finally {
    await rag.dispose();
  }
}

function isVectorIndexType(s: string): s is VectorIndexType {
  return (VECTOR_INDEX_TYPES as readonly string[]).includes(s);
}
