/**
 * The chat page's own behaviour with scripted API answers (Playwright routes),
 * so every case is exact and fast: Markdown rendering and its safety,
 * citations and passage lookup, the request the page sends, errors, the API
 * key, and the embeddable widget. Only the page's files come from a server.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page, Route } from "playwright-core";
import { expect, it, onTestFinished } from "vitest";
import { artifactPath, describeWithChromium, eventually, watchConsole } from "./helpers/browser.js";
import { ask, lastAnswer, openChat, settled } from "./helpers/chat-page.js";
import { serveUiPages, useChromiumSuite } from "./helpers/suite.js";

const CITATIONS = [
  { index: 1, document_id: "password-reset.md", title: "Resetting your password", source: "https://help.example.com/password-reset", score: 0.91 },
  { index: 2, document_id: "two-factor.md", title: "Two-factor authentication", source: "kb/two-factor.md", score: 0.42 },
];

const ANSWER_PIECES = [
  "To reset your password **open Settings** and choose _Security_ [1].\n\n",
  "1. Click `Reset password`\n2. Follow the link in the email\n\n",
  "```sh\ncurl https://example.com/reset\n```\n\n",
  "| plan | reset by |\n|---|---|\n| Basic | email |\n| Pro | email or SMS |\n\n- Account\n  - Security\n    - Password\n\n",
  "More in the [help center](https://help.example.com). ",
  '<img src=x onerror="window.__xss=1"> [bad](javascript:window.__xss=2) <script>window.__xss=3</script>',
];

/** A chat completion stream as the gateway sends it, citations on the final and the usage chunk. */
function chatStream(pieces: string[]): string {
  const base = { id: "chatcmpl-test", object: "chat.completion.chunk", created: 0, model: "default" };
  const chunk = (delta: object, finish: string | null, extra: object = {}) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    usage: null,
    ...extra,
  });
  const events = [
    chunk({ role: "assistant", content: "" }, null),
    ...pieces.map((p) => chunk({ content: p }, null)),
    chunk({}, "stop", { citations: CITATIONS }),
    {
      ...base,
      choices: [],
      usage: { prompt_tokens: 40, completion_tokens: 57, total_tokens: 97 },
      switchyard: { queue_ms: 1, ttft_ms: 20, decode_ms: 300, cached_prompt_tokens: 0, shard: "tiny#1", cache: "miss" },
      citations: CITATIONS,
    },
  ];
  return [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), "data: [DONE]\n\n"].join("");
}

interface Scripted {
  chatBodies: Array<Record<string, unknown>>;
  searchBodies: unknown[];
  authorization: Array<string | undefined>;
}

/** Routes the API calls of `page` to scripted answers; `chat` may override the completion. */
async function scriptApi(page: Page, chat?: (route: Route) => Promise<void>): Promise<Scripted> {
  const seen: Scripted = { chatBodies: [], searchBodies: [], authorization: [] };
  const json = (route: Route, body: unknown, status = 200) =>
    route.fulfill({ status, contentType: "application/json", body: JSON.stringify(body) });
  await page.route("**/v1/models", (route) =>
    json(route, { object: "list", data: [{ id: "default", object: "model", root: "tiny" }, { id: "tiny", object: "model", root: "tiny" }] }),
  );
  await page.route("**/v1/collections", (route) => json(route, { object: "list", data: [{ name: "support-kb", documents: 3, chunks: 3 }] }));
  await page.route("**/v1/collections/support-kb/search", (route) => {
    seen.searchBodies.push(route.request().postDataJSON());
    return json(route, {
      object: "list",
      data: [{ document_id: "password-reset.md", title: "Resetting your password", text: "Open Settings, choose Security and click Reset password.", score: 0.91 }],
    });
  });
  await page.route("**/v1/chat/completions", async (route) => {
    seen.chatBodies.push(route.request().postDataJSON() as Record<string, unknown>);
    seen.authorization.push(await route.request().headerValue("authorization") ?? undefined);
    if (chat) return chat(route);
    return route.fulfill({
      status: 200,
      headers: { "content-type": "text/event-stream", "x-switchyard-cache": "miss", "x-switchyard-shard": "tiny#1" },
      body: chatStream(ANSWER_PIECES),
    });
  });
  return seen;
}

/** Serves one HTML page on an ephemeral loopback port (another origin than the gateway's). */
async function serveHostPage(html: string): Promise<{ url: string; close: () => void }> {
  const server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
}

describeWithChromium("chat page behaviour (scripted API)", () => {
  const suite = useChromiumSuite(serveUiPages);

  it("renders Markdown safely, cites sources, fetches a passage on expand and keeps the conversation", async () => {
    const page = await suite.browser.newPage({ viewport: { width: 1100, height: 900 } });
    const watch = watchConsole(page);
    let dialogs = 0;
    page.on("dialog", (d) => {
      dialogs++;
      void d.dismiss();
    });
    const seen = await scriptApi(page);
    await openChat(page, suite.server.url, "?collection=support-kb");
    expect(await page.locator("#collection").inputValue()).toBe("support-kb");
    await ask(page, "How do I reset my password?");

    const answer = lastAnswer(page);
    expect(await settled(answer)).toBe("done");
    const body = answer.locator(".answer");
    await expect(body.locator("strong").first().textContent()).resolves.toBe("open Settings");
    await expect(body.locator("em").first().textContent()).resolves.toBe("Security");
    await expect(body.locator("ol > li").count()).resolves.toBe(2);
    await expect(body.locator("li code").first().textContent()).resolves.toBe("Reset password");
    await expect(body.locator("pre > code.language-sh").textContent()).resolves.toMatch(/^curl https:\/\/example\.com\/reset\n?$/);
    // GFM tables and nested lists, as models write them.
    await expect(body.locator("table th").allTextContents()).resolves.toEqual(["plan", "reset by"]);
    await expect(body.locator("table tbody tr").count()).resolves.toBe(2);
    await expect(body.locator("ul > li > ul > li > ul > li").textContent()).resolves.toBe("Password");
    await expect(body.locator('a[href="https://help.example.com"]').getAttribute("rel")).resolves.toBe("noopener noreferrer");
    // The HTML in the answer is shown as text, never run or rendered.
    expect(await body.locator("img, script").count()).toBe(0);
    expect(await body.locator('a[href^="javascript:"]').count()).toBe(0);
    await expect(body.textContent()).resolves.toContain('<img src=x onerror="window.__xss=1">');
    expect(await page.evaluate("window.__xss")).toBeUndefined();
    expect(dialogs).toBe(0);

    // Facts: the page's own measurements plus the headers.
    await expect(answer.locator(".fact-tokens dd").textContent()).resolves.toBe("57");
    await expect(answer.locator(".fact-cache dd").textContent()).resolves.toBe("miss");
    // The whole stream arrived in one read, too fast to time: the rate falls back to the server's decode time.
    await expect(answer.locator(".fact-speed dd").textContent()).resolves.toBe("186.7 tok/s");
    await expect(answer.locator(".fact-shard dd").textContent()).resolves.toBe("tiny#1");

    // The request: public API only, full options.
    expect(seen.chatBodies[0]).toMatchObject({
      model: "default",
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 512,
      rag: { collection: "support-kb", top_k: 4 },
      messages: [{ role: "user", content: "How do I reset my password?" }],
    });

    // Citations: title, source and score shown; the passage is fetched on the first expand only.
    const citations = answer.locator(".citation");
    await expect(citations.count()).resolves.toBe(2);
    await expect(citations.nth(0).locator(".citation-title").textContent()).resolves.toBe("Resetting your password");
    await expect(citations.nth(0).locator(".citation-score").textContent()).resolves.toBe("score 0.91");
    await expect(citations.nth(1).locator(".citation-source").textContent()).resolves.toBe("kb/two-factor.md");
    const first = citations.nth(0).locator(".citation-toggle");
    await first.focus();
    await page.keyboard.press("Enter");
    await expect(first.getAttribute("aria-expanded")).resolves.toBe("true");
    await citations.nth(0).locator(".passage").waitFor();
    await expect(citations.nth(0).locator(".passage").textContent()).resolves.toBe("Open Settings, choose Security and click Reset password.");
    expect(seen.searchBodies).toEqual([{ query: "How do I reset my password?", top_k: 8 }]);
    await citations.nth(1).locator(".citation-toggle").click();
    await expect(citations.nth(1).locator(".citation-passage").textContent()).resolves.toMatch(/not among/);
    expect(seen.searchBodies).toHaveLength(1);
    await page.screenshot({ path: artifactPath("chat-citations.png") });

    // Second turn: the whole conversation goes with it.
    await ask(page, "And if I lost my phone?");
    expect(await settled(lastAnswer(page))).toBe("done");
    const messages = seen.chatBodies[1]?.messages as Array<{ role: string; content: string }>;
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(messages[1]?.content).toBe(ANSWER_PIECES.join(""));

    // New chat: a clean slate, in the page and in what is sent.
    await page.click("#new-chat");
    expect(await page.locator("#messages > li").count()).toBe(0);
    expect(await page.locator("#empty-state").isVisible()).toBe(true);
    await ask(page, "Fresh start?");
    expect(await settled(lastAnswer(page))).toBe("done");
    expect((seen.chatBodies[2]?.messages as unknown[]).length).toBe(1);
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it("shows API errors in place and sends the saved API key", async () => {
    const page = await suite.browser.newPage();
    // The 401 below is expected; Chromium logs any failed load as a console error.
    const watch = watchConsole(page, [/status of 401/]);
    const seen = await scriptApi(page, (route) =>
      route.fulfill({
        status: 401,
        contentType: "application/json",
        body: JSON.stringify({ error: { message: "Incorrect API key provided.", type: "authentication_error", param: null, code: "invalid_api_key" } }),
      }),
    );
    await openChat(page, suite.server.url);
    await ask(page, "Hello?");
    expect(await settled(lastAnswer(page))).toBe("error");
    await expect(lastAnswer(page).locator(".message-note").textContent()).resolves.toBe("Incorrect API key provided. Set an API key in Settings.");
    expect(seen.authorization[0]).toBeUndefined();

    await page.click("#settings-toggle");
    await page.fill("#api-key", "sk-test-123456");
    await page.click("#save-key");
    await ask(page, "Hello again?");
    await settled(lastAnswer(page));
    expect(seen.authorization[1]).toBe("Bearer sk-test-123456");
    // The failed turn was dropped: the retry does not carry an unanswered question.
    expect((seen.chatBodies[1]?.messages as unknown[]).length).toBe(1);
    expect(await page.evaluate("localStorage.getItem('switchyard.apiKey')")).toBe("sk-test-123456");
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it("hides the collection picker when the gateway has no collections API", async () => {
    const page = await suite.browser.newPage();
    const watch = watchConsole(page, [/\/v1\/collections/]);
    await scriptApi(page);
    await page.route("**/v1/collections", (route) =>
      route.fulfill({ status: 404, contentType: "application/json", body: JSON.stringify({ error: { message: "Unknown route", type: "invalid_request_error", param: null, code: "unknown_url" } }) }),
    );
    await openChat(page, suite.server.url);
    await page.locator("html[data-pickers=loaded]").waitFor({ state: "attached" });
    expect(await page.locator("#collection-field").isHidden()).toBe(true);
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it("embeds as a floating button that opens the chat in a frame", async () => {
    const page = await suite.browser.newPage({ viewport: { width: 1000, height: 800 } });
    const watch = watchConsole(page);
    await scriptApi(page); // routes apply to the widget's frame too
    // A customer's page on another origin. A real server, not a Playwright route: Chromium lets
    // only a page that is itself on the loopback address space load scripts from 127.0.0.1.
    const host = await serveHostPage(
      `<!doctype html><html lang="en"><title>Acme support</title><h1>Acme</h1><p>Our products.</p><script src="${suite.server.url}/widget.js" data-model="default" async></script></html>`,
    );
    onTestFinished(() => host.close());
    await page.goto(host.url);
    const button = page.locator("#switchyard-widget button");
    await expect(button.textContent()).resolves.toBe("Chat with support");
    await expect(button.getAttribute("aria-expanded")).resolves.toBe("false");
    await button.click();
    const frame = page.frameLocator("#switchyard-widget iframe");
    await frame.locator("body.embed").waitFor({ state: "attached" });
    expect(await page.locator("#switchyard-widget iframe").getAttribute("src")).toBe(`${suite.server.url}/?embed=1&model=default`);
    await frame.locator("#model:not([disabled])").waitFor();
    await page.screenshot({ path: artifactPath("widget-open.png") });
    // Focus is inside the frame now: Escape there closes the widget and focus returns to its button.
    await frame.locator("#prompt").focus();
    await page.keyboard.press("Escape");
    await eventually(async () => (await button.getAttribute("aria-expanded")) === "false", 5_000, "the widget to close");
    expect(await page.locator("#switchyard-widget-panel").isHidden()).toBe(true);
    expect(await page.evaluate("document.activeElement === document.querySelector('#switchyard-widget button')")).toBe(true);
    expect(watch.errors).toEqual([]);
    await page.close();
  });
});
