/**
 * Whether this host has room for one more local shard: llama.cpp threads
 * within the cores (every local shard of every pool counted, draining ones too
 * until they are gone) and free memory for another copy of the weights.
 * GPU memory is not checked here: node-llama-cpp places layers itself and a
 * shard that does not fit fails its start, which the pool routes around.
 */
import os from "node:os";
import type { ModelPool } from "./model-pool.js";

export interface HostRoomOptions {
  pools: readonly ModelPool[];
  /** llama.cpp threads the new shard would run. */
  threads: number;
  /** Size of the model file (its weights are mapped once per shard process). */
  modelBytes: number;
  /** Default `os.availableParallelism()`. */
  cores?: number;
  /** Default `os.freemem()`. */
  freeBytes?: number;
}

/** Headroom kept free besides the weights (KV cache, the process itself). */
const MEMORY_HEADROOM_BYTES = 256 * 1024 * 1024;

/** `undefined` when a shard fits, else why it does not. */
export function hostRoomForShard({ pools, threads, modelBytes, cores = os.availableParallelism(), freeBytes = os.freemem() }: HostRoomOptions): string | undefined {
  const localShards = pools.reduce((n, p) => n + p.snapshot().shards.filter((s) => s.kind === "local").length, 0);
  if ((localShards + 1) * threads > Math.max(cores, threads)) {
    return `${localShards} local shard(s) × ${threads} thread(s) already use the ${cores} core(s)`;
  }
  const needed = modelBytes + MEMORY_HEADROOM_BYTES;
  if (freeBytes < needed) return `${Math.round(freeBytes / 2 ** 20)} MiB free, another shard needs ~${Math.round(needed / 2 ** 20)} MiB`;
  return undefined;
}
