/**
 * Bundles markdown-it and its dependencies into one ESM file for the chat page,
 * src/ui/assets/markdown-it.js (served at /ui/markdown-it.js; no CDN, no build
 * step at serve time), and writes the licenses of every bundled package to
 * THIRD-PARTY-NOTICES.txt beside it (not served). Run after upgrading
 * markdown-it: `npm run vendor:markdown-it`.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

const ASSETS = path.resolve("src/ui/assets");
const outfile = path.join(ASSETS, "markdown-it.js");

interface PackageJson {
  name: string;
  version: string;
  license?: string;
}

const readPackage = (dir: string) => JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as PackageJson;

/** `node_modules/a/node_modules/@s/b/lib/x.js` → `node_modules/a/node_modules/@s/b`. */
function packageDir(input: string): string | undefined {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  return m?.[1];
}

const version = readPackage("node_modules/markdown-it").version;
const result = await build({
  stdin: { contents: `export { default as MarkdownIt } from "markdown-it";`, resolveDir: process.cwd(), loader: "js" },
  bundle: true,
  format: "esm",
  minify: true,
  legalComments: "inline",
  target: "es2022",
  metafile: true,
  banner: {
    js: `/*! markdown-it ${version} and its dependencies, bundled by \`npm run vendor:markdown-it\` (tools/vendor/markdown-it.ts). Do not edit. Licenses: THIRD-PARTY-NOTICES.txt beside this file. */`,
  },
  outfile,
});

const dirs = [...new Set(Object.keys(result.metafile.inputs).flatMap((input) => packageDir(input) ?? []))].sort();
const notices = dirs.map((dir) => {
  const pkg = readPackage(dir);
  const licenseFile = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  const text = licenseFile ? readFileSync(path.join(dir, licenseFile), "utf8").trim() : `(no license file; package.json says ${pkg.license ?? "nothing"})`;
  return `${pkg.name} ${pkg.version} (${pkg.license ?? "?"})\n${"-".repeat(60)}\n${text}\n`;
});
writeFileSync(
  path.join(ASSETS, "THIRD-PARTY-NOTICES.txt"),
  `Packages bundled into markdown-it.js by tools/vendor/markdown-it.ts.\n\n${notices.join("\n")}`,
);
console.error(`wrote ${outfile}: ${dirs.map((d) => readPackage(d).name).join(", ")}`);
