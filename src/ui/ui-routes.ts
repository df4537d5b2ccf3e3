/**
 * The browser front end: the support chat at `/`, the operator console at
 * `/console`, the embeddable widget at `/widget.js`, and their files under
 * `/ui/`. Pages hold no data: everything they show comes from the public API
 * with the user's own key, so they are served without authentication.
 */
import { Hono, type Context } from "hono";
import { errorBody, notFound } from "../errors.js";
import type { AppEnv } from "../server/http/env.js";
import { defaultAssetDirs, loadAssets, type Asset } from "./asset-store.js";

export interface UiRoutesOptions {
  /** Folders searched for the assets, first existing wins (tests point elsewhere). */
  assetDirs?: readonly string[];
}

/** Scripts and styles only from this origin: with no inline script allowed, escaped text cannot turn into code. */
function contentSecurityPolicy(frameAncestors: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join("; ");
}

/** The chat is meant to be framed by the widget on any site; the console never. */
const PAGE_CSP = { chat: contentSecurityPolicy("*"), console: contentSecurityPolicy("'none'") } as const;

/**
 * @example
 * ```ts
 * app.route("/", uiRoutes());
 * // open http://127.0.0.1:8080/ (chat) or http://127.0.0.1:8080/console
 * ```
 */
export function uiRoutes(options: UiRoutesOptions = {}): Hono<AppEnv> {
  const dirs = options.assetDirs ?? defaultAssetDirs();
  const assets = loadAssets(dirs);
  const app = new Hono<AppEnv>();

  const send = (c: Context<AppEnv>, name: string, headers: Record<string, string> = {}): Response => {
    const asset: Asset | undefined = assets?.get(name);
    if (!asset) {
      const why = assets ? `No UI file named '${name}'.` : `The UI assets were not found (looked in ${dirs.join(", ")}).`;
      return c.json(errorBody(notFound(why)), 404);
    }
    const common = {
      "content-type": asset.contentType,
      etag: asset.etag,
      // Revalidate every time (cheap with the ETag): a redeploy must never leave an old page talking to a new API.
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      ...headers,
    };
    if (c.req.header("if-none-match") === asset.etag) return c.body(null, 304, common);
    return c.body(asset.body, 200, common);
  };

  app.get("/", (c) => send(c, "chat.html", { "content-security-policy": PAGE_CSP.chat }));
  app.get("/console", (c) =>
    send(c, "console.html", { "content-security-policy": PAGE_CSP.console, "x-frame-options": "DENY" }),
  );
  // Loaded by other sites' pages: allow the cross-origin <script> fetch.
  app.get("/widget.js", (c) => send(c, "widget.js", { "cross-origin-resource-policy": "cross-origin" }));
  app.get("/ui/:file", (c) => {
    const file = c.req.param("file");
    // Pages are served at their routes only, so the CSP header always comes with them.
    if (file.endsWith(".html")) return c.json(errorBody(notFound(`No UI file named '${file}'.`)), 404);
    return send(c, file);
  });
  return app;
}
