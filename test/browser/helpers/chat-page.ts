/** Driving the chat page the way a user does: pick, type, send, wait. */
import type { Locator, Page } from "playwright-core";
import { eventually } from "./browser.js";

/** Opens the chat and waits until the model picker is filled from `/v1/models`. */
export async function openChat(page: Page, baseUrl: string, query = ""): Promise<void> {
  await page.goto(`${baseUrl}/${query}`);
  await page.locator("#model:not([disabled])").waitFor();
}

/**
 * Sets the advanced fields (opening Settings with the keyboard, then closing
 * it). Temperature 0 by default: the tiny model then runs to `max_tokens`
 * deterministically instead of sometimes stopping early.
 */
export async function setAdvanced(page: Page, { maxTokens, temperature = 0 }: { maxTokens: number; temperature?: number }): Promise<void> {
  await page.focus("#settings-toggle");
  await page.keyboard.press("Enter");
  await page.locator("#settings").waitFor({ state: "visible" });
  await page.fill("#max-tokens", String(maxTokens));
  await page.fill("#temperature", String(temperature));
  await page.focus("#settings-toggle");
  await page.keyboard.press("Enter");
  await page.locator("#settings").waitFor({ state: "hidden" });
}

/** Types a question and sends it with Enter. */
export async function ask(page: Page, question: string): Promise<void> {
  await page.fill("#prompt", question);
  await page.press("#prompt", "Enter");
}

/** The newest assistant message. */
export function lastAnswer(page: Page): Locator {
  return page.locator(".message-assistant").last();
}

/** Text of an answer's body (what the reader sees, Markdown rendered). */
export async function answerText(answer: Locator): Promise<string> {
  return (await answer.locator(".answer").textContent()) ?? "";
}

/** Waits until the answer leaves the waiting/streaming states; returns the final state. */
export async function settled(answer: Locator, timeoutMs = 60_000): Promise<string> {
  let state = "";
  await eventually(
    async () => {
      state = (await answer.getAttribute("data-state")) ?? "";
      return state !== "" && state !== "waiting" && state !== "streaming";
    },
    timeoutMs,
    "the answer to finish",
  );
  return state;
}
