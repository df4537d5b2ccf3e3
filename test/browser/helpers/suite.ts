/**
 * The shared lifecycle of a browser suite: a server (a real gateway, or only
 * the UI pages) and one headless Chromium, started before the suite's tests
 * and closed after them in reverse order.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { uiRoutes } from "../../../src/ui/index.js";
import { launchChromium } from "./browser.js";

/** Anything the pages are loaded from. */
export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/** What the suite's tests use; reading either before `beforeAll` has run throws. */
export interface ChromiumSuite<S extends PageServer> {
  readonly server: S;
  readonly browser: Browser;
}

/**
 * Registers `beforeAll` (start `start()`'s server, then Chromium) and `afterAll`
 * (close Chromium, then the server) in the calling describe block.
 *
 * @example
 * ```ts
 * const suite = useChromiumSuite(() => startTestGateway());
 * it("...", async () => {
 *   const page = await suite.browser.newPage();
 *   await page.goto(`${suite.server.url}/chat`);
 * });
 * ```
 */
export function useChromiumSuite<S extends PageServer>(start: () => Promise<S>): ChromiumSuite<S> {
  let server: S | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await start();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error("the suite's server is not started (used outside a test?)");
      return server;
    },
    get browser() {
      if (!browser) throw new Error("the suite's Chromium is not started (used outside a test?)");
      return browser;
    },
  };
}

/** Serves only the UI pages (no API) on an ephemeral loopback port; tests script the API with Playwright routes. */
export async function serveUiPages(): Promise<PageServer> {
  const server = serve({ fetch: uiRoutes().fetch, port: 0, hostname: "127.0.0.1" });
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A page in its own phone-sized, touch, 2x context (an iPhone-class screen); close it with `page.context().close()`. */
export async function newPhonePage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  return context.newPage();
}

/** How many CSS pixels the page is wider than its viewport (0 or less: no sideways scrolling). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
}
