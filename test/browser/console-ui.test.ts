/**
 * The console's own behaviour with scripted API answers: the admin-key flow,
 * shard states and breaker badges, the cache and token figures, the config version.
 */
import type { Route } from "playwright-core";
import { expect, it } from "vitest";
import type { StatusBody } from "../../src/server/routes/status.js";
import { artifactPath, describeWithChromium, eventually, watchConsole } from "./helpers/browser.js";
import { serveUiPages, useChromiumSuite } from "./helpers/suite.js";

const ADMIN_KEY = "sk-admin-0001";

function status(completionTokens: number): StatusBody {
  return {
    models: [
      {
        model: "llama",
        waiting: 3,
        running: 4,
        shards: [
          { id: "llama#0", kind: "local", state: "ready", breaker: "closed", slotsBusy: 4, slotsTotal: 4, restarts: 0, lastError: undefined },
          { id: "llama#1", kind: "local", state: "restarting", breaker: "open", slotsBusy: 0, slotsTotal: 4, restarts: 2, lastError: "shard exited with signal SIGKILL" },
        ],
      },
    ],
    cache: { counters: { hit: 30, miss: 10, bypass: 5, coalesced: 1, stored: 9, errors: 0 }, stats: { entries: 9, bytes: 3 * 1024 * 1024, maxBytes: 64 * 1024 * 1024, evictions: 0 } },
    uptimeSeconds: 3725,
    completionTokens,
    config: { version: 3, hash: "0a1b2c3d4e5f", appliedAt: "2026-11-27T18:00:00.000Z" },
  };
}

describeWithChromium("operator console behaviour (scripted API)", () => {
  const suite = useChromiumSuite(serveUiPages);

  it("asks for an admin key on 403, then shows shards, cache and tokens/s", async () => {
    const page = await suite.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const watch = watchConsole(page, [/status of 403/, /\/v1\/collections/]);
    let tokens = 1000;
    const keys: Array<string | undefined> = [];
    await page.route("**/v1/collections", (route: Route) => route.fulfill({ status: 404, body: "{}" }));
    await page.route("**/v1/status", async (route: Route) => {
      const auth = (await route.request().headerValue("authorization")) ?? undefined;
      keys.push(auth);
      if (auth !== `Bearer ${ADMIN_KEY}`) {
        return route.fulfill({
          status: 403,
          contentType: "application/json",
          body: JSON.stringify({ error: { message: "The status endpoint needs an admin API key.", type: "permission_error", param: null, code: "admin_required" } }),
        });
      }
      tokens += 300;
      return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(status(tokens)) });
    });

    await page.goto(`${suite.server.url}/console`);
    await page.locator("#access").waitFor({ state: "visible" });
    await expect(page.locator("#notice").textContent()).resolves.toBe("The status endpoint needs an admin API key.");
    // A refused key is not retried in a loop.
    await page.waitForTimeout(2000);
    expect(keys).toEqual([undefined]);

    await page.fill("#api-key", ADMIN_KEY);
    await page.press("#api-key", "Tab");
    await page.keyboard.press("Enter"); // "Use key", by keyboard
    await page.locator('tr[data-shard="llama#1"]').waitFor();
    expect(await page.locator("#access").isHidden()).toBe(true);

    const broken = page.locator('tr[data-shard="llama#1"]');
    await expect(broken.locator("td").allTextContents()).resolves.toEqual(["restarting", "open", "0 / 4", "2", "shard exited with signal SIGKILL"]);
    await expect(broken.locator(".badge-bad").textContent()).resolves.toBe("open");
    const stats = page.locator("#stats");
    await expect(stats.locator(".stat", { hasText: "Queue" }).locator(".stat-value").textContent()).resolves.toBe("3");
    await expect(stats.locator(".stat", { hasText: "Running" }).textContent()).resolves.toContain("4 of 8 slots busy");
    await expect(stats.locator(".stat", { hasText: "Cache hit ratio" }).locator(".stat-value").textContent()).resolves.toBe("75%");
    await expect(stats.locator(".stat", { hasText: "Cache size" }).locator(".stat-value").textContent()).resolves.toBe("3.0 MiB");
    await expect(stats.locator(".stat", { hasText: "Uptime" }).locator(".stat-value").textContent()).resolves.toBe("1h 2m");
    // The active config version (a reload's), with its hash.
    const config = stats.locator(".stat", { hasText: "Config" });
    await expect(config.locator(".stat-value").textContent()).resolves.toBe("v3");
    await expect(config.textContent()).resolves.toContain("0a1b2c3d4e5f");
    // 300 tokens per 1.5 s poll: about 200 tokens/s once two samples exist.
    const rate = stats.locator(".stat", { hasText: "Tokens/s" }).locator(".stat-value");
    await eventually(async () => /^\d+\.\d$/.test((await rate.textContent()) ?? ""), 10_000, "a token rate");
    const value = Number(await rate.textContent());
    expect(value).toBeGreaterThan(100);
    expect(value).toBeLessThan(400);

    await page.screenshot({ path: artifactPath("console-degraded.png"), fullPage: true });
    await page.click("#pause");
    await expect(page.locator("#live-text").textContent()).resolves.toBe("Paused");
    const polls = keys.length;
    await page.waitForTimeout(2000);
    expect(keys.length).toBe(polls);
    expect(watch.errors).toEqual([]);
    await page.close();
  });
});
