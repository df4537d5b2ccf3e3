/**
 * The support chat in a real headless Chromium against a real tiny-model
 * gateway: streaming, stop, facts, citations, phone layout, console errors.
 */
import { expect, it } from "vitest";
import { startTestGateway } from "../helpers/gateway.js";
import { artifactPath, describeWithChromium, eventually, watchConsole } from "./helpers/browser.js";
import { answerText, ask, lastAnswer, openChat, setAdvanced, settled } from "./helpers/chat-page.js";
import { seedCollection, SUPPORT_DOCS } from "./helpers/collections.js";
import { horizontalOverflow, newPhonePage, useChromiumSuite } from "./helpers/suite.js";

describeWithChromium("support chat page", () => {
  // A long context so one answer can stream for seconds: long enough to watch it grow and to stop it.
  const suite = useChromiumSuite(() => startTestGateway({}, { contextSize: 4096 }));

  it("streams the answer in as it is generated and shows its facts", async () => {
    const page = await suite.browser.newPage({ viewport: { width: 1280, height: 860 } });
    const watch = watchConsole(page);
    await openChat(page, suite.server.url);
    expect(await page.locator("#model").inputValue()).toBe("default");
    await setAdvanced(page, { maxTokens: 1200 });
    await ask(page, "How do I reset my password?");

    const answer = lastAnswer(page);
    const lengths: number[] = [];
    for (;;) {
      const state = await answer.getAttribute("data-state");
      if (state !== "waiting" && state !== "streaming") break;
      lengths.push((await answerText(answer)).length);
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(await answer.getAttribute("data-state")).toBe("done");
    // Seen at several sizes before completion: rendered while streaming, not at the end.
    const seen = new Set(lengths.filter((n) => n > 0));
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect((await answerText(answer)).length).toBeGreaterThan(Math.min(...seen));

    const facts = answer.locator(".facts");
    await expect(facts.locator(".fact-shard dd").textContent()).resolves.toBe("tiny#0");
    await expect(facts.locator(".fact-tokens dd").textContent()).resolves.toMatch(/^\d+$/);
    await expect(facts.locator(".fact-ttft dd").textContent()).resolves.toMatch(/\d+ m?s$/);
    await expect(facts.locator(".fact-speed dd").textContent()).resolves.toMatch(/tok\/s$/);
    await expect(facts.locator(".fact-cache dd").textContent()).resolves.toMatch(/^(hit|miss|bypass)$/);
    await expect(answer.locator(".answer").getAttribute("aria-live")).resolves.toBe("polite");
    await expect(answer.locator(".answer").getAttribute("aria-busy")).resolves.toBe("false");

    await page.screenshot({ path: artifactPath("chat-desktop.png") });
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it("stops mid-stream: the request is aborted, the page says so and the server frees the slot", async () => {
    const page = await suite.browser.newPage({ viewport: { width: 1280, height: 860 } });
    const watch = watchConsole(page);
    const failed: string[] = [];
    page.on("requestfailed", (req) => {
      if (req.url().endsWith("/v1/chat/completions")) failed.push(req.failure()?.errorText ?? "failed");
    });
    await openChat(page, suite.server.url);
    // ~3500 tokens take several seconds on the tiny model: the stop lands well before the end.
    await setAdvanced(page, { maxTokens: 3500 });
    await ask(page, "Tell me everything about invoices.");

    const answer = lastAnswer(page);
    await eventually(async () => (await answerText(answer)).length > 40, 30_000, "text to stream in");
    const shard = () => suite.server.gateway.registry.models[0]!.pool.snapshot().shards[0]!;
    expect(await answer.getAttribute("data-state")).toBe("streaming");
    expect(shard().slotsBusy).toBe(1);

    await page.click("#stop");
    expect(await settled(answer, 10_000)).toBe("stopped");
    await expect(answer.locator(".message-note").textContent()).resolves.toMatch(/^Stopped/);
    await expect(page.locator("#status").textContent()).resolves.toBe("Stopped.");
    await eventually(() => failed.length > 0, 5_000, "the fetch to be aborted");
    expect(failed[0]).toMatch(/ABORTED/i);
    await eventually(() => shard().slotsBusy === 0, 5_000, "the shard slot to be freed");
    expect(suite.server.gateway.registry.models[0]!.pool.snapshot().running).toBe(0);

    // The partial answer stays, with what was measured; the composer is usable again.
    expect((await answerText(answer)).length).toBeGreaterThan(40);
    await expect(answer.locator(".fact-tokens dd").textContent()).resolves.toMatch(/^≈\d+$/);
    expect(await page.locator("#stop").isHidden()).toBe(true);
    expect(await page.locator("#send").isEnabled()).toBe(true);
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it("cites the collection's documents and expands a passage", async () => {
    await seedCollection(suite.server.url, "support-kb", SUPPORT_DOCS);
    const page = await suite.browser.newPage({ viewport: { width: 1280, height: 860 } });
    const watch = watchConsole(page);
    await openChat(page, suite.server.url);
    await page.locator("#collection-field").waitFor({ state: "visible" });
    await page.locator('#collection option[value="support-kb"]').waitFor({ state: "attached" });
    await page.selectOption("#collection", "support-kb");
    await setAdvanced(page, { maxTokens: 60 });
    await ask(page, "How do I reset my password?");

    const answer = lastAnswer(page);
    expect(await settled(answer)).toBe("done");
    const citations = answer.locator(".citation");
    expect(await citations.count()).toBeGreaterThan(0);
    const titles = await answer.locator(".citation-title").allTextContents();
    expect(titles.some((title) => SUPPORT_DOCS.some((d) => d.title === title))).toBe(true);

    await citations.first().locator(".citation-toggle").click();
    await expect(citations.first().locator(".citation-toggle").getAttribute("aria-expanded")).resolves.toBe("true");
    const passage = citations.first().locator(".passage");
    await passage.waitFor({ state: "visible", timeout: 15_000 });
    const text = (await passage.textContent()) ?? "";
    expect(SUPPORT_DOCS.some((d) => d.text.includes(text.trim().slice(0, 40)))).toBe(true);

    await page.screenshot({ path: artifactPath("chat-citations-live.png") });
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it("fits a phone-width screen", async () => {
    const page = await newPhonePage(suite.browser);
    const watch = watchConsole(page);
    await openChat(page, suite.server.url);
    await setAdvanced(page, { maxTokens: 80 });
    await ask(page, "Can I download my invoices?");
    expect(await settled(lastAnswer(page))).toBe("done");

    // Nothing wider than the screen: no sideways scrolling on a phone.
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    for (const id of ["#model", "#prompt", "#send"]) expect(await page.locator(id).isVisible()).toBe(true);

    await page.screenshot({ path: artifactPath("chat-phone.png") });
    expect(watch.errors).toEqual([]);
    await page.context().close();
  });
});
