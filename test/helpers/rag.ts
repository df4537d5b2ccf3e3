/**
 * Shared test setup: a RagService over a fresh LanceDB directory in the OS temp
 * dir (removed afterwards), using the deterministic HashingEmbedder.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HashingEmbedder, RagService, type RagServiceOptions } from "../../src/rag/index.js";

// LanceDB logs WARN lines to stderr; the native logger reads this when it starts.
process.env.LANCEDB_LOG ??= "error";

export interface TempRag {
  rag: RagService;
  dir: string;
  options: RagServiceOptions;
  cleanup: () => Promise<void>;
}

/** A service on a new temp directory; call `cleanup` in afterEach/afterAll. */
export async function tempRag(overrides: Partial<RagServiceOptions> = {}): Promise<TempRag> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-rag-"));
  const options: RagServiceOptions = {
    uri: join(dir, "lancedb"),
    embedder: new HashingEmbedder({ dimension: 256 }),
    chunkSize: 400,
    chunkOverlap: 40,
    rrfK: 60,
    scoreFloor: Number.NEGATIVE_INFINITY,
    ...overrides,
  };
  const rag = await RagService.open(options);
  return {
    rag,
    dir,
    options,
    cleanup: async () => {
      await rag.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
