import { defineConfig } from "vitest/config";

/**
 * Two projects, by what a test needs:
 * - `standalone` (test/standalone/): no shard process and no model. `npm run test:standalone`
 *   runs these files in parallel, one worker per core.
 * - `shard` (test/shard/, test/real-model/): real shard processes on real (tiny) GGUF models.
 *   Files run one at a time (llama.cpp's threads spin: parallel files on 2 cores only fight over
 *   the CPU and time out), after the standalone group.
 * A plain `npx vitest run` runs both, one file at a time. Browser tests: vitest.browser.config.ts.
 */
export default defineConfig({
  test: {
    pool: "forks",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { LANCEDB_LOG: "error" },
    projects: [
      { extends: true, test: { name: "standalone", include: ["test/standalone/**/*.test.ts"], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: "shard", include: ["test/shard/**/*.test.ts", "test/real-model/**/*.test.ts"], sequence: { groupOrder: 1 } } },
    ],
  },
});
