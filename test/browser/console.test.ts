/**
 * The operator console in a real headless Chromium against a real tiny-model
 * gateway: live shard view, document upload with progress, phone layout.
 */
import { expect, it } from "vitest";
import { startTestGateway } from "../helpers/gateway.js";
import { artifactPath, describeWithChromium, eventually, watchConsole } from "./helpers/browser.js";
import { horizontalOverflow, newPhonePage, useChromiumSuite } from "./helpers/suite.js";

describeWithChromium("operator console", () => {
  const suite = useChromiumSuite(() => startTestGateway({}, { contextSize: 4096 }));

  it("shows the shards live, including a busy slot while a request runs", async () => {
    const page = await suite.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const watch = watchConsole(page);
    await page.goto(`${suite.server.url}/console`);

    const row = page.locator('tr[data-shard="tiny#0"]');
    await row.waitFor({ state: "visible", timeout: 15_000 });
    await expect(row.locator(".badge").first().textContent()).resolves.toBe("ready");
    await expect(row.locator(".slots-value").textContent()).resolves.toBe("0 / 2");
    await expect(page.locator("#stats").textContent()).resolves.toMatch(/Cache hit ratio/);

    // Tokens/s comes from the metrics' completion-token counter: a finished request moves it. Temperature 0:
    // sampled, the random tiny model may end at its first token, and a request without tokens moves nothing.
    const done = await fetch(`${suite.server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "Hi" }], max_tokens: 16, temperature: 0 }),
    });
    expect(done.status).toBe(200);
    const usage = ((await done.json()) as { usage: { completion_tokens: number } }).usage;
    expect(usage.completion_tokens).toBeGreaterThan(0);
    // The card's detail line alone: the whole card's text runs the rate into it ("0.0" + "16 completion…").
    const tokensDetail = page.locator(".stat", { hasText: "Tokens/s" }).locator(".stat-detail");
    // The page polls every 1.5 s; a loaded CI machine can stretch that.
    await eventually(async () => /^[1-9]\d* completion tokens in total$/.test((await tokensDetail.textContent()) ?? ""), 20_000, "the token counter to show");

    // A long streamed request from outside the page: the next poll must show it on the shard.
    const controller = new AbortController();
    const res = await fetch(`${suite.server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      // Temperature 0: the tiny model then runs to max_tokens (seconds) instead of maybe stopping early.
      body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "Hi" }], stream: true, max_tokens: 3500, temperature: 0 }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    await eventually(async () => (await row.locator(".slots-value").textContent()) === "1 / 2", 10_000, "the console to show a busy slot");
    await page.screenshot({ path: artifactPath("console-desktop.png"), fullPage: true });
    controller.abort();
    await res.body?.cancel().catch(() => undefined);
    await eventually(async () => (await row.locator(".slots-value").textContent()) === "0 / 2", 10_000, "the slot to show free again");

    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it("uploads a file to a collection with progress", async () => {
    const page = await suite.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const watch = watchConsole(page);
    await page.goto(`${suite.server.url}/console`);
    await page.fill("#upload-collection", "console-kb");
    await page.setInputFiles("#upload-files", {
      name: "refunds.md",
      mimeType: "text/markdown",
      buffer: Buffer.from("# Refunds\n\nRefunds are paid back to the original card within 5 business days."),
    });
    await page.click("#upload-button");
    const status = page.locator("#upload-status");
    await eventually(async () => /^Uploaded 1 document to console-kb\./.test((await status.textContent()) ?? ""), 30_000, "the upload to finish");
    expect(await page.locator("#upload-progress").getAttribute("value")).toBe("100");

    // The document is really there: the public search finds it.
    const search = await fetch(`${suite.server.url}/v1/collections/console-kb/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "refund to card", top_k: 3 }),
    });
    expect(search.status).toBe(200);
    expect(JSON.stringify(await search.json())).toContain("refunds.md");
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it("fits a phone-width screen", async () => {
    const page = await newPhonePage(suite.browser);
    const watch = watchConsole(page);
    await page.goto(`${suite.server.url}/console`);
    await page.locator('tr[data-shard="tiny#0"]').waitFor({ state: "visible", timeout: 15_000 });
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: artifactPath("console-phone.png"), fullPage: true });
    expect(watch.errors).toEqual([]);
    await page.context().close();
  });
});
