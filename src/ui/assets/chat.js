// @ts-check
/* global document, window, location, AbortController, HTMLButtonElement, HTMLDivElement, HTMLElement, HTMLFormElement, HTMLInputElement, HTMLOListElement, HTMLParagraphElement, HTMLSelectElement, HTMLTextAreaElement, URLSearchParams */
/**
 * The support chat page: pickers, settings, and the conversation loop. The
 * whole message list is sent every turn (the API is stateless), and answers
 * stream over the public chat completions endpoint.
 */
import { describeError, listCollections, listModels, loadApiKey, saveApiKey } from "./api.js";
import { byId, h } from "./dom.js";
import { streamChat } from "./chat-stream.js";
import { assistantMessage, userMessage } from "./chat-view.js";
import { renderCitations } from "./citations.js";

const query = new URLSearchParams(location.search);
const embedded = query.get("embed") === "1";
if (embedded) document.body.classList.add("embed");

const ui = {
  model: byId("model", HTMLSelectElement),
  collection: byId("collection", HTMLSelectElement),
  collectionField: byId("collection-field", HTMLDivElement),
  settings: byId("settings", HTMLElement),
  settingsToggle: byId("settings-toggle", HTMLButtonElement),
  newChat: byId("new-chat", HTMLButtonElement),
  apiKey: byId("api-key", HTMLInputElement),
  saveKey: byId("save-key", HTMLButtonElement),
  maxTokens: byId("max-tokens", HTMLInputElement),
  temperature: byId("temperature", HTMLInputElement),
  messages: byId("messages", HTMLOListElement),
  emptyState: byId("empty-state", HTMLDivElement),
  status: byId("status", HTMLParagraphElement),
  composer: byId("composer", HTMLFormElement),
  prompt: byId("prompt", HTMLTextAreaElement),
  send: byId("send", HTMLButtonElement),
  stop: byId("stop", HTMLButtonElement),
};
const scroller = /** @type {HTMLElement} */ (ui.messages.parentElement);

/** @type {Array<{ role: "user" | "assistant", content: string }>} */
let history = [];
/** @type {AbortController | null} */
let inFlight = null;
let apiKey = loadApiKey();
let answers = 0;
/** Bumped by "New chat", so an answer still settling cannot write into the next conversation. */
let conversation = 0;

/**
 * @param {string} text
 * @param {"info" | "error"} [kind]
 */
function setStatus(text, kind = "info") {
  ui.status.textContent = text;
  ui.status.dataset.kind = kind;
}

/**
 * @param {HTMLSelectElement} select
 * @param {Array<{ value: string, label: string }>} options
 * @param {string | null} preferred selected when present
 */
function fillSelect(select, options, preferred) {
  const keep = select.value;
  select.replaceChildren(...options.map((o) => h("option", { value: o.value }, o.label)));
  const wanted = [preferred, keep].find((v) => v && options.some((o) => o.value === v));
  if (wanted) select.value = wanted;
}

/** Models and collections, as this key may see them. */
async function loadPickers() {
  try {
    const models = await listModels(apiKey);
    fillSelect(
      ui.model,
      models.map((m) => ({ value: m.id, label: m.id === m.root ? m.id : `${m.id} (${m.root})` })),
      query.get("model") ?? "default",
    );
    ui.model.disabled = models.length === 0;
    if (models.length === 0) setStatus("No models are available to this API key.", "error");
  } catch (err) {
    ui.model.replaceChildren(h("option", {}, "Unavailable"));
    setStatus(`Could not list models: ${describeError(err)}`, "error");
    document.documentElement.dataset.pickers = "loaded";
    return;
  }
  try {
    const collections = await listCollections(apiKey);
    // No collections API on this gateway: hide the picker rather than offer a choice that fails.
    ui.collectionField.hidden = collections === undefined;
    if (collections) {
      fillSelect(
        ui.collection,
        [{ value: "", label: "None" }, ...collections.map((c) => ({ value: c.name, label: c.name }))],
        query.get("collection"),
      );
    }
  } catch (err) {
    ui.collectionField.hidden = true;
    setStatus(`Could not list collections: ${describeError(err)}`, "error");
  }
  // For scripts and tests: both pickers are final now.
  document.documentElement.dataset.pickers = "loaded";
}

/** @param {boolean} busy */
function setBusy(busy) {
  ui.send.disabled = busy;
  ui.stop.hidden = !busy;
  ui.composer.setAttribute("aria-busy", String(busy));
  if (!busy && document.activeElement === ui.stop) ui.prompt.focus();
}

/** Follows the stream only while the reader is at the bottom, so scrolling up to read is not undone. */
function scrollToEnd(force = false) {
  const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  if (force || nearBottom) scroller.scrollTop = scroller.scrollHeight;
}

/** @returns {Record<string, unknown>} the request body without messages */
function requestOptions() {
  /** @type {Record<string, unknown>} */
  const options = { model: ui.model.value };
  const maxTokens = Number.parseInt(ui.maxTokens.value, 10);
  if (Number.isFinite(maxTokens) && maxTokens > 0) options.max_tokens = maxTokens;
  const temperature = Number.parseFloat(ui.temperature.value);
  if (Number.isFinite(temperature)) options.temperature = temperature;
  const collection = ui.collectionField.hidden ? "" : ui.collection.value;
  if (collection) options.rag = { collection, top_k: 4 };
  return options;
}

/** @param {string} question */
async function ask(question) {
  const options = requestOptions();
  const collection = typeof options.rag === "object" ? ui.collection.value : "";
  history.push({ role: "user", content: question });
  ui.emptyState.hidden = true;
  const view = assistantMessage();
  ui.messages.append(userMessage(question), view.element);
  scrollToEnd(true);

  const controller = new AbortController();
  inFlight = controller;
  setBusy(true);
  setStatus("Generating the answer…");
  const id = ++answers;
  const turn = conversation;
  try {
    const out = await streamChat({
      request: { ...options, messages: history.slice() },
      key: apiKey,
      signal: controller.signal,
      onText: (text) => {
        view.setText(text);
        scrollToEnd();
      },
    });
    const sources = out.citations.length
      ? renderCitations({ citations: out.citations, collection, question, key: apiKey, idPrefix: `answer-${id}-source` })
      : null;
    if (turn !== conversation) return;
    view.finish(out, sources);
    // A stopped answer stays in the conversation as far as it got; an empty one is dropped with its question.
    if (out.text) history.push({ role: "assistant", content: out.text });
    else history.pop();
    setStatus(out.stopped ? "Stopped." : "Answer complete.");
  } catch (err) {
    if (turn !== conversation) return;
    history.pop();
    const message = describeError(err);
    view.fail(message);
    setStatus(`The request failed: ${message}`, "error");
  } finally {
    if (inFlight === controller) inFlight = null;
    setBusy(false);
    scrollToEnd();
  }
}

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const question = ui.prompt.value.trim();
  if (!question || inFlight || ui.model.disabled) return;
  ui.prompt.value = "";
  autoGrow();
  void ask(question);
});

ui.prompt.addEventListener("keydown", (event) => {
  // Enter sends, Shift+Enter breaks the line; never while an IME is composing.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

function autoGrow() {
  ui.prompt.style.height = "auto";
  ui.prompt.style.height = `${Math.min(ui.prompt.scrollHeight, 200)}px`;
}
ui.prompt.addEventListener("input", autoGrow);

ui.stop.addEventListener("click", () => inFlight?.abort());
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  if (inFlight) inFlight.abort();
  // In the widget's frame, Escape with nothing to stop closes the widget (the host page cannot see keys typed here).
  else if (embedded && window.parent !== window) window.parent.postMessage({ type: "switchyard:close" }, "*");
});

ui.newChat.addEventListener("click", () => {
  inFlight?.abort();
  conversation++;
  history = [];
  ui.messages.replaceChildren();
  ui.emptyState.hidden = false;
  setStatus("Started a new conversation.");
  ui.prompt.focus();
});

ui.settingsToggle.addEventListener("click", () => {
  const open = ui.settings.hidden;
  ui.settings.hidden = !open;
  ui.settingsToggle.setAttribute("aria-expanded", String(open));
  if (open) ui.apiKey.focus();
});

ui.apiKey.value = apiKey;
ui.saveKey.addEventListener("click", () => {
  apiKey = ui.apiKey.value.trim();
  saveApiKey(apiKey);
  setStatus(apiKey ? "API key saved in this browser." : "API key cleared.");
  void loadPickers();
});

void loadPickers();
