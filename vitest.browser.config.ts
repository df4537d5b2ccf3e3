import { defineConfig } from "vitest/config";

/**
 * Browser tests: a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against a real tiny-model gateway. Run alone with
 * `npx vitest run -c vitest.browser.config.ts`; they skip when Chromium is absent.
 */
// eslint-disable-next-line no-restricted-syntax -- vitest reads the config from the default export
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    // One gateway and one browser at a time: on 2 cores, parallel files only fight over the CPU.
    fileParallelism: false,
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 180_000,
    env: { LANCEDB_LOG: "error" },
  },
});
