/** The UI's static routes on their own (no browser): headers, caching, and what is never served. */
import { describe, expect, it } from "vitest";
import { uiRoutes } from "../../src/ui/index.js";

describe("UI routes", () => {
  const app = uiRoutes();

  it("serves the chat and the console with a strict CSP; only the chat may be framed", async () => {
    const chat = await app.request("/");
    expect(chat.status).toBe(200);
    expect(chat.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(chat.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(chat.headers.get("content-security-policy")).toContain("frame-ancestors *");
    expect(chat.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await chat.text()).toContain('<script type="module" src="/ui/chat.js">');

    const consolePage = await app.request("/console");
    expect(consolePage.status).toBe(200);
    expect(consolePage.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(consolePage.headers.get("x-frame-options")).toBe("DENY");
  });

  it("serves scripts as JavaScript and revalidates with the ETag", async () => {
    const res = await app.request("/ui/markdown.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await app.request("/ui/markdown.js", { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");

    const widget = await app.request("/widget.js");
    expect(widget.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
  });

  it("serves nothing outside the asset list, and pages only at their routes", async () => {
    for (const path of ["/ui/chat.html", "/ui/nope.js", "/ui/..%2Fui-routes.ts", "/ui/%2e%2e%2fasset-store.ts", "/ui/tsconfig.json"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
    }
  });

  it("answers 404 naming the folders when the assets are missing, instead of failing the gateway", async () => {
    const res = await uiRoutes({ assetDirs: ["/nonexistent/switchyard-ui"] }).request("/");
    expect(res.status).toBe(404);
    expect(JSON.stringify(await res.json())).toContain("/nonexistent/switchyard-ui");
  });
});
