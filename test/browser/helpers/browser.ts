/**
 * Headless Chromium for the browser tests: Debian's `chromium` package driven
 * by playwright-core (which ships no browser of its own), plus a watcher that
 * collects the page's console errors.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type ConsoleMessage, type Page } from "playwright-core";
import { describe, it } from "vitest";

/** Where Debian's apt package puts it (CI installs it in .ci/run); `SWITCHYARD_CHROMIUM` points elsewhere (e.g. Ubuntu's chromium-browser). */
export const CHROMIUM_PATH = process.env.SWITCHYARD_CHROMIUM ?? "/usr/bin/chromium";

/** Screenshots land here (git-ignored). */
export const ARTIFACTS_DIR = path.resolve("test-artifacts");

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `Chromium not found at ${CHROMIUM_PATH}: browser tests skipped (apt-get install chromium).`;
}

/**
 * @example
 * ```ts
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 * ```
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Quiet, offline-friendly flags: no sandbox (containers), no GPU, no background network.
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** Path of a screenshot file, creating the folder on first use. */
export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return path.join(ARTIFACTS_DIR, name);
}

export interface ConsoleWatch {
  /** Console errors and uncaught exceptions, as text. */
  readonly errors: string[];
}

/**
 * Records every console error and uncaught page error from now on.
 * `ignore` drops the expected ones (e.g. the 404 of an optional endpoint).
 */
export function watchConsole(page: Page, ignore: RegExp[] = []): ConsoleWatch {
  const errors: string[] = [];
  const keep = (text: string) => !ignore.some((re) => re.test(text));
  page.on("console", (msg: ConsoleMessage) => {
    if (msg.type() !== "error") return;
    const text = `${msg.text()} (${msg.location().url})`;
    if (keep(text)) errors.push(text);
  });
  page.on("pageerror", (err: Error) => {
    const text = `pageerror: ${err.stack ?? err.message}`;
    if (keep(text)) errors.push(text);
  });
  return { errors };
}

/** Polls `probe` until it returns true (or throws after `timeoutMs`). */
export async function eventually(probe: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A describe block that runs only where Chromium is installed; elsewhere it
 * reports one skipped test whose name says why.
 */
export function describeWithChromium(name: string, body: () => void): void {
  const missing = chromiumMissing();
  if (missing) {
    console.warn(missing); // visible in CI logs, where reporters print only counts for skipped files
    describe(name, () => it.skip(missing, () => undefined));
  }
  else describe(name, body);
}
