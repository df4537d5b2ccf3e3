// @ts-check
/* global requestAnimationFrame */
/**
 * The conversation's DOM: user bubbles and assistant answers that render
 * Markdown as it streams, then show sources and per-answer facts.
 */
import { h, formatMs } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { tokensPerSecond } from "./chat-stream.js";

/** @typedef {import("./chat-stream.js").ChatOutcome} ChatOutcome */

/**
 * @param {string} text
 * @returns {HTMLLIElement}
 */
export function userMessage(text) {
  return h(
    "li",
    { class: "message message-user" },
    h("p", { class: "message-role visually-hidden" }, "You said:"),
    h("div", { class: "bubble" }, text),
  );
}

/**
 * The facts line under an answer; each fact only when known.
 * @param {ChatOutcome} out
 * @returns {HTMLDListElement}
 */
export function factsList(out) {
  /** @type {Array<[string, string]>} */
  const facts = [];
  const tokens = out.usage?.completion_tokens;
  if (tokens !== undefined) facts.push(["Tokens", String(tokens)]);
  else if (out.deltas > 0) facts.push(["Tokens", `≈${out.deltas}`]);
  if (out.ttftMs !== null) facts.push(["TTFT", formatMs(out.ttftMs)]);
  const rate = tokensPerSecond(out);
  if (rate !== null) facts.push(["Speed", `${rate.toFixed(1)} tok/s`]);
  if (out.cache) facts.push(["Cache", out.cache]);
  if (out.shard) facts.push(["Shard", out.shard]);
  return h(
    "dl",
    { class: "facts", "aria-label": "Answer details" },
    facts.map(([k, v]) => h("div", { class: `fact fact-${k.toLowerCase()}` }, h("dt", {}, k), h("dd", {}, v))),
  );
}

/**
 * An assistant answer in progress.
 * @returns {{ element: HTMLLIElement, setText: (text: string) => void, finish: (out: ChatOutcome, extra?: Node | null) => void, fail: (message: string, partial?: string) => void }}
 */
export function assistantMessage() {
  // aria-busy until done: screen readers announce the finished answer once, not every token.
  const answer = h("div", { class: "answer markdown", "aria-live": "polite", "aria-busy": "true" });
  const note = h("p", { class: "message-note", hidden: true });
  const element = h(
    "li",
    { class: "message message-assistant", "data-state": "waiting" },
    h("p", { class: "message-role visually-hidden" }, "Assistant:"),
    h("div", { class: "bubble" }, answer, note),
  );
  let latest = "";
  let scheduled = false;
  // One render per frame: a fast stream must not re-parse Markdown for every token.
  const render = () => {
    scheduled = false;
    answer.innerHTML = renderMarkdown(latest); // safe: renderMarkdown escapes all text (see markdown.js)
  };
  /** @param {string} text */
  const setText = (text) => {
    latest = text;
    element.dataset.state = "streaming";
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(render);
    }
  };
  /** @param {string} text @param {string} kind */
  const showNote = (text, kind) => {
    note.textContent = text;
    note.className = `message-note note-${kind}`;
    note.hidden = false;
  };
  return {
    element,
    setText,
    finish(out, extra = null) {
      latest = out.text;
      render();
      answer.setAttribute("aria-busy", "false");
      element.dataset.state = out.stopped ? "stopped" : "done";
      if (out.stopped) showNote(out.text ? "Stopped. The answer above is incomplete." : "Stopped before any text arrived.", "stopped");
      else if (out.finishReason === "length") showNote("Cut off at the max tokens limit.", "warning");
      else if (!out.text) showNote("The model returned an empty answer.", "warning");
      if (extra) element.append(extra);
      element.append(factsList(out));
    },
    fail(message, partial = "") {
      latest = partial;
      render();
      answer.setAttribute("aria-busy", "false");
      element.dataset.state = "error";
      showNote(message, "error");
    },
  };
}
