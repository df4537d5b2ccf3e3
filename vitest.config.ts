import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/browser/**", "node_modules/**"],
    // Shard processes run real llama.cpp decodes; on 2 cores, parallel test files
    // would only fight over the CPU (llama.cpp threads spin) and time out.
    fileParallelism: false,
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { LANCEDB_LOG: "error" },
  },
});
