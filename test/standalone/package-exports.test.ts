/**
 * The package's public surface is deliberate: package.json "exports" names
 * each entry point, each maps to a source module that tsconfig.build.json
 * compiles (with declarations), and ./rag offers what the README advertises
 * (RagService and the LangChain SwitchyardRetriever).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

interface Conditions {
  types: string;
  default: string;
}

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { exports: Record<string, Conditions | string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };
const build = readFileSync("tsconfig.build.json", "utf8");

/** `./dist/rag/index.js` → `src/rag/index.ts` (tsconfig.build.json: rootDir src, outDir dist). */
const sourceOf = (target: string) => path.join("src", path.relative("dist", target)).replace(/\.(d\.ts|js)$/, ".ts");

describe("package exports", () => {
  it("map every entry to a compiled source module and its declarations", () => {
    expect(build).toMatch(/"declaration":\s*true/);
    const entries = Object.entries(pkg.exports).filter(([name]) => name !== "./package.json");
    expect(entries.map(([name]) => name)).toEqual(["./rag"]);
    for (const [name, target] of entries) {
      if (typeof target === "string") throw new Error(`${name}: give types and default conditions`);
      expect(target.types, name).toMatch(/^\.\/dist\/.+\.d\.ts$/);
      expect(sourceOf(target.types)).toBe(sourceOf(target.default));
      expect(existsSync(sourceOf(target.default)), sourceOf(target.default)).toBe(true);
    }
  });

  it("./rag offers RagService and the LangChain retriever, whose runtime dependency is a dependency", async () => {
    const rag = await import("../../src/rag/index.js");
    expect(typeof rag.RagService).toBe("function");
    expect(typeof rag.SwitchyardRetriever).toBe("function");
    expect(pkg.dependencies["@langchain/core"]).toBeDefined();
    // Type packages are for building, not for running.
    expect(Object.keys(pkg.dependencies).filter((d) => d.startsWith("@types/"))).toEqual([]);
  });
});
