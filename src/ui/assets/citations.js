// @ts-check
/**
 * Numbered sources under an answer. A chat completion names its sources but
 * not their text, so a passage is fetched on first expand through the public
 * search endpoint (same question, wider top_k) and matched by document id.
 */
import { describeError, requestJson } from "./api.js";
import { h } from "./dom.js";

/** @typedef {import("./chat-stream.js").Citation} Citation */

/**
 * One search hit, whatever the exact field names of the collections API.
 * @param {unknown} hit
 * @returns {{ documentId: string, text: string } | undefined}
 */
function passageOf(hit) {
  if (typeof hit !== "object" || hit === null) return undefined;
  const r = /** @type {Record<string, unknown>} */ (hit);
  const documentId = r.document_id ?? r.documentId ?? r.id;
  const text = r.text ?? r.content ?? r.chunk;
  if (typeof documentId !== "string" || typeof text !== "string") return undefined;
  return { documentId, text };
}

/**
 * Searches once per answer; every citation of it reads the same result.
 * @param {{ collection: string, question: string, key: string }} ctx
 * @returns {() => Promise<Map<string, string>>} document id → best passage
 */
function passageLoader({ collection, question, key }) {
  /** @type {Promise<Map<string, string>> | undefined} */
  let pending;
  return () =>
    (pending ??= requestJson(`/v1/collections/${encodeURIComponent(collection)}/search`, {
      key,
      method: "POST",
      body: { query: question, top_k: 8 },
    }).then(
      (body) => {
        const b = /** @type {{ data?: unknown, results?: unknown }} */ (body);
        const hits = Array.isArray(b.data) ? b.data : Array.isArray(b.results) ? b.results : [];
        /** @type {Map<string, string>} */
        const byDoc = new Map();
        // Hits come best first: keep each document's best passage.
        for (const p of hits.map(passageOf)) if (p && !byDoc.has(p.documentId)) byDoc.set(p.documentId, p.text);
        return byDoc;
      },
      (err) => {
        pending = undefined; // let a later click retry
        throw err;
      },
    ));
}

/** A source that is a web address becomes a link; anything else is plain text. */
const WEB_URL = /^https?:\/\/\S+$/i;

/**
 * @param {{ citations: Citation[], collection: string, question: string, key: string, idPrefix: string }} options
 * @returns {HTMLElement}
 */
export function renderCitations({ citations, collection, question, key, idPrefix }) {
  const load = passageLoader({ collection, question, key });
  const items = [...citations]
    .sort((a, b) => a.index - b.index)
    .map((c) => {
      const panelId = `${idPrefix}-${c.index}`;
      const score = Number.isFinite(c.score) ? `score ${c.score.toFixed(2)}` : "";
      const panel = h("div", { id: panelId, class: "citation-passage", hidden: true });
      const toggle = h(
        "button",
        { type: "button", class: "citation-toggle", "aria-expanded": "false", "aria-controls": panelId },
        h("span", { class: "citation-num", "aria-hidden": "true" }, String(c.index)),
        h("span", { class: "visually-hidden" }, `Source ${c.index}: `),
        h("span", { class: "citation-title" }, c.title),
        score && h("span", { class: "citation-score" }, score),
      );
      let loaded = false;
      toggle.addEventListener("click", async () => {
        const open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", String(open));
        panel.hidden = !open;
        if (!open || loaded) return;
        if (!collection) {
          // A bot alias grounds answers in its own collection, whose name the page does not know.
          loaded = true;
          panel.replaceChildren(h("p", { class: "muted" }, "Passage text is not available for this model's built-in collection."));
          return;
        }
        panel.replaceChildren(h("p", { class: "muted" }, "Loading passage…"));
        panel.setAttribute("aria-busy", "true");
        try {
          const text = (await load()).get(c.document_id);
          loaded = true;
          panel.replaceChildren(
            text
              ? h("blockquote", { class: "passage" }, text)
              : h("p", { class: "muted" }, "The passage is not among this question's search results."),
          );
        } catch (err) {
          panel.replaceChildren(h("p", { class: "error-text" }, `Could not load the passage: ${describeError(err)}`));
        } finally {
          panel.removeAttribute("aria-busy");
        }
      });
      const source = c.source
        ? h(
            "p",
            { class: "citation-source" },
            WEB_URL.test(c.source) ? h("a", { href: c.source, target: "_blank", rel: "noopener noreferrer" }, c.source) : c.source,
          )
        : null;
      return h("li", { class: "citation" }, toggle, h("div", { class: "citation-body" }, source, panel));
    });
  return h(
    "section",
    { class: "citations", "aria-label": "Sources" },
    h("h3", { class: "citations-title" }, "Sources"),
    h("ol", { class: "citation-list" }, items),
  );
}
