// @ts-check
/* global document, location, navigator, performance, setTimeout, clearTimeout, HTMLButtonElement, HTMLDataListElement, HTMLDivElement, HTMLElement, HTMLFormElement, HTMLInputElement, HTMLParagraphElement, HTMLProgressElement, HTMLSpanElement */
/**
 * The operator console: polls `GET /v1/status` and renders it, uploads
 * documents to a collection, and shows the widget snippet.
 */
import { ApiError, describeError, listCollections, loadApiKey, requestJson, saveApiKey } from "./api.js";
import { byId, h } from "./dom.js";
import { renderModels, renderStats } from "./console-view.js";
import { readDocuments, uploadDocuments } from "./upload.js";

/** Often enough to watch a load test, rare enough to cost nothing. */
const POLL_MS = 1500;

const ui = {
  live: byId("live", HTMLDivElement),
  liveText: byId("live-text", HTMLSpanElement),
  pause: byId("pause", HTMLButtonElement),
  notice: byId("notice", HTMLParagraphElement),
  access: byId("access", HTMLElement),
  apiKey: byId("api-key", HTMLInputElement),
  saveKey: byId("save-key", HTMLButtonElement),
  stats: /** @type {HTMLElement} */ (document.getElementById("stats")),
  models: byId("models", HTMLDivElement),
  uploadForm: byId("upload-form", HTMLFormElement),
  uploadCollection: byId("upload-collection", HTMLInputElement),
  uploadFiles: byId("upload-files", HTMLInputElement),
  uploadButton: byId("upload-button", HTMLButtonElement),
  uploadProgress: byId("upload-progress", HTMLProgressElement),
  uploadPercent: byId("upload-percent", HTMLSpanElement),
  uploadStatus: byId("upload-status", HTMLParagraphElement),
  collectionNames: byId("collection-names", HTMLDataListElement),
  snippet: byId("embed-snippet", HTMLElement),
  copySnippet: byId("copy-snippet", HTMLButtonElement),
};

let apiKey = loadApiKey();
/** @type {import("./console-view.js").Sample | undefined} */
let previous;
let paused = false;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;

/**
 * @param {string} text
 * @param {"live" | "paused" | "error"} kind
 */
function setLive(text, kind) {
  ui.liveText.textContent = text;
  ui.live.dataset.kind = kind;
}

/** @param {string} [text] */
function setNotice(text) {
  ui.notice.textContent = text ?? "";
  ui.notice.hidden = !text;
}

async function poll() {
  timer = undefined;
  try {
    const status = /** @type {import("./console-view.js").Status} */ (await requestJson("/v1/status", { key: apiKey }));
    const sample = { status, at: performance.now() };
    ui.stats.replaceChildren(...renderStats(sample, previous));
    ui.models.replaceChildren(...renderModels(status.models));
    previous = sample;
    ui.access.hidden = true;
    setNotice();
    setLive(`Live · updated ${new Date().toLocaleTimeString()}`, "live");
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      // Polling with a refused key only fills logs: wait for a new one.
      ui.access.hidden = false;
      setLive("Waiting for an admin key", "error");
      setNotice(describeError(err));
      return;
    }
    setLive("Disconnected · retrying", "error");
    setNotice(`Could not read the status: ${describeError(err)}`);
  }
  schedule();
}

function schedule() {
  if (paused || timer !== undefined) return;
  // A hidden tab polls nothing; it catches up when shown again.
  if (document.hidden) return;
  timer = setTimeout(() => void poll(), POLL_MS);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && !paused && timer === undefined) void poll();
});

ui.pause.addEventListener("click", () => {
  paused = !paused;
  ui.pause.setAttribute("aria-pressed", String(paused));
  ui.pause.textContent = paused ? "Resume" : "Pause";
  if (paused) {
    clearTimeout(timer);
    timer = undefined;
    setLive("Paused", "paused");
  } else void poll();
});

ui.apiKey.value = apiKey;
ui.saveKey.addEventListener("click", () => {
  apiKey = ui.apiKey.value.trim();
  saveApiKey(apiKey);
  clearTimeout(timer);
  timer = undefined;
  void poll();
  void loadCollectionNames();
});

async function loadCollectionNames() {
  try {
    const collections = await listCollections(apiKey);
    ui.collectionNames.replaceChildren(...(collections ?? []).map((c) => h("option", { value: c.name })));
  } catch {
    // Suggestions only: typing a name still works.
  }
}

/**
 * @param {string} text
 * @param {"info" | "ok" | "error"} kind
 */
function setUploadStatus(text, kind) {
  ui.uploadStatus.textContent = text;
  ui.uploadStatus.dataset.kind = kind;
}

/** @param {number} fraction */
function setProgress(fraction) {
  const percent = Math.round(fraction * 100);
  ui.uploadProgress.value = percent;
  ui.uploadPercent.textContent = `${percent}%`;
}

ui.uploadForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const files = [...(ui.uploadFiles.files ?? [])];
  const collection = ui.uploadCollection.value.trim();
  if (!collection || files.length === 0) return;
  ui.uploadButton.disabled = true;
  ui.uploadProgress.hidden = false;
  setProgress(0);
  setUploadStatus(`Reading ${files.length} file${files.length === 1 ? "" : "s"}…`, "info");
  try {
    const documents = (await readDocuments(files)).filter((d) => d.text.trim() !== "");
    if (documents.length === 0) throw new Error("The selected files are empty.");
    setUploadStatus(`Uploading ${documents.length} document${documents.length === 1 ? "" : "s"} to ${collection}…`, "info");
    await uploadDocuments({ collection, documents, key: apiKey, onProgress: setProgress });
    const skipped = files.length - documents.length;
    setUploadStatus(
      `Uploaded ${documents.length} document${documents.length === 1 ? "" : "s"} to ${collection}.${skipped ? ` Skipped ${skipped} empty file${skipped === 1 ? "" : "s"}.` : ""}`,
      "ok",
    );
    ui.uploadFiles.value = "";
    void loadCollectionNames();
  } catch (err) {
    setUploadStatus(`Upload failed: ${describeError(err)}`, "error");
  } finally {
    ui.uploadButton.disabled = false;
  }
});

ui.snippet.textContent = `<script src="${location.origin}/widget.js" data-model="default" async></script>`;
ui.copySnippet.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(ui.snippet.textContent ?? "");
    ui.copySnippet.textContent = "Copied";
  } catch {
    // Clipboard needs a secure context: select the text so Ctrl+C works.
    const range = document.createRange();
    range.selectNodeContents(ui.snippet);
    document.getSelection()?.removeAllRanges();
    document.getSelection()?.addRange(range);
    ui.copySnippet.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => (ui.copySnippet.textContent = "Copy snippet"), 2000);
});

void poll();
void loadCollectionNames();
