/**
 * Every test file sits where a vitest project picks it up: test/standalone/
 * (no shard process), test/shard/ (real shard processes or models),
 * test/browser/ (Chromium, vitest.browser.config.ts) or test/real-model/.
 * A file anywhere else would silently never run.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "fixtures" || e.name === "node_modules" ? [] : testFiles(p);
    return /\.test\.[cm]?[jt]s$/.test(e.name) ? [p] : [];
  });
}

it("places every test file in a folder a vitest project runs", () => {
  const misplaced = testFiles("test").filter((f) => !/^test\/(standalone|shard|browser|real-model)\//.test(f.split(path.sep).join("/")));
  expect(misplaced, "move these into test/standalone/ or test/shard/").toEqual([]);
});
