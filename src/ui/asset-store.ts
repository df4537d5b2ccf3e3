/**
 * The front end's static files, read once into memory. They are hand-written
 * browser modules (no build step), so the server only has to find and serve them.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** One file ready to send. */
export interface Asset {
  body: string;
  contentType: string;
  /** Strong validator over the content, so a browser revalidates instead of refetching. */
  etag: string;
}

/** Only these kinds are served; anything else in the folder (notes, type stubs) stays private. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/**
 * Where the assets live. Under tsx/vitest this module sits in `src/ui/`, next
 * to them; compiled into `dist/ui/` it does not (tsc copies no assets), so
 * the source folder of the checkout is the fallback.
 */
export function defaultAssetDirs(moduleUrl: string = import.meta.url): string[] {
  const here = path.dirname(fileURLToPath(moduleUrl));
  return [path.join(here, "assets"), path.resolve(here, "../../src/ui/assets")];
}

/**
 * Reads every servable file of the first folder that exists, keyed by file
 * name. Returns `undefined` when none exists, so the caller can answer with a
 * clear error instead of failing the whole gateway over its UI.
 *
 * @example
 * ```ts
 * const assets = loadAssets(defaultAssetDirs());
 * assets?.get("chat.html")?.contentType; // "text/html; charset=utf-8"
 * ```
 */
export function loadAssets(dirs: readonly string[]): Map<string, Asset> | undefined {
  const dir = dirs.find((d) => existsSync(d));
  if (dir === undefined) return undefined;
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const contentType = CONTENT_TYPES[path.extname(name)];
    if (contentType === undefined) continue;
    const body = readFileSync(path.join(dir, name), "utf8");
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
    assets.set(name, { body, contentType, etag });
  }
  return assets;
}
