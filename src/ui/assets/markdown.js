// @ts-check
/**
 * A tiny Markdown subset for model answers: paragraphs, headings, bold and
 * italic, inline code, fenced code blocks, lists and links.
 *
 * Safety rule: every character of the input is HTML-escaped before it is
 * placed in the output; the only markup is the tags this file writes, and a
 * link's URL must be http(s) or mailto. So the result may go to innerHTML even
 * though the text came from a model (which may repeat a user's or a
 * document's HTML). The page's CSP (no inline script) is a second fence.
 */

/** @type {Readonly<Record<string, string>>} */
const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * @param {string} text
 * @returns {string} text safe inside an element or a quoted attribute.
 */
export function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (ch) => ENTITIES[ch] ?? ch);
}

/** Links a reader may follow; anything else (javascript:, data:) stays text. */
const SAFE_URL = /^(?:https?:\/\/|mailto:)[^\s<>"']+$/i;

/**
 * Bold and italic over already-escaped text (entities hold no `*` or `_`, so
 * these patterns can never split one).
 * @param {string} escaped
 */
function emphasis(escaped) {
  return escaped
    .replace(/\*\*(?=\S)(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/__(?=\S)(.+?)__/g, "<strong>$1</strong>")
    .replace(/(^|[^*\w])\*(?=\S)(.+?)\*(?!\w)/g, "$1<em>$2</em>")
    .replace(/(^|[^_\w])_(?=\S)(.+?)_(?!\w)/g, "$1<em>$2</em>");
}

/** `[text](url)` or a bare http(s) URL (trailing punctuation left out of it). */
const LINK = /\[([^\]\n]+)\]\(([^)\s]+)\)|\bhttps?:\/\/[^\s<>"']*[^\s<>"'.,:;!?)\]]/g;

/**
 * Links, then emphasis on what is between them.
 * @param {string} raw text without code spans
 */
function linksAndEmphasis(raw) {
  let out = "";
  let last = 0;
  for (const m of raw.matchAll(LINK)) {
    const start = m.index ?? 0;
    out += emphasis(escapeHtml(raw.slice(last, start)));
    const label = m[1];
    const url = m[2] ?? m[0];
    if (SAFE_URL.test(url)) {
      const text = label === undefined ? escapeHtml(url) : emphasis(escapeHtml(label));
      out += `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${text}</a>`;
    } else {
      out += emphasis(escapeHtml(m[0]));
    }
    last = start + m[0].length;
  }
  return out + emphasis(escapeHtml(raw.slice(last)));
}

/**
 * One line or paragraph of inline Markdown: code spans are taken out first so
 * nothing inside them is interpreted.
 * @param {string} raw
 * @returns {string} HTML
 */
export function renderInline(raw) {
  const parts = raw.split(/(`[^`\n]+`)/);
  return parts
    .map((part, i) => (i % 2 === 1 ? `<code>${escapeHtml(part.slice(1, -1))}</code>` : linksAndEmphasis(part)))
    .join("");
}

const FENCE = /^\s{0,3}(```|~~~)\s*([\w+#.-]*)\s*$/;
const BULLET = /^\s{0,6}[-*+]\s+(.*)$/;
const NUMBERED = /^\s{0,6}(\d{1,9})[.)]\s+(.*)$/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;

/**
 * Renders Markdown to HTML. Tolerates text cut anywhere (a stream in
 * progress): an unclosed fence is shown as code so far.
 *
 * @example
 * ```js
 * answer.innerHTML = renderMarkdown("**Hi** <b>there</b>"); // <p><strong>Hi</strong> &lt;b&gt;there&lt;/b&gt;</p>
 * ```
 * @param {string} text
 * @returns {string} HTML
 */
export function renderMarkdown(text) {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  /** @type {string[]} */
  const html = [];
  /** @type {string[]} */
  let paragraph = [];
  const flush = () => {
    if (paragraph.length) html.push(`<p>${paragraph.map(renderInline).join("<br>")}</p>`);
    paragraph = [];
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const marker = fence[1] ?? "```";
      const lang = fence[2] ?? "";
      /** @type {string[]} */
      const code = [];
      for (i++; i < lines.length && !(lines[i] ?? "").trim().startsWith(marker); i++) code.push(lines[i] ?? "");
      const cls = lang ? ` class="language-${escapeHtml(lang)}"` : "";
      html.push(`<pre><code${cls}>${escapeHtml(code.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      // Answers live inside a page: their headings start at level 3.
      const level = Math.min(6, (heading[1]?.length ?? 1) + 2);
      html.push(`<h${level}>${renderInline(heading[2] ?? "")}</h${level}>`);
      continue;
    }
    const listKind = BULLET.test(line) ? "ul" : NUMBERED.test(line) ? "ol" : undefined;
    if (listKind) {
      flush();
      const pattern = listKind === "ul" ? BULLET : NUMBERED;
      const first = NUMBERED.exec(line)?.[1];
      /** @type {string[]} */
      const items = [];
      for (; i < lines.length; i++) {
        const m = pattern.exec(lines[i] ?? "");
        if (!m) break;
        items.push(`<li>${renderInline((listKind === "ul" ? m[1] : m[2]) ?? "")}</li>`);
      }
      i--;
      const start = listKind === "ol" && first && first !== "1" ? ` start="${Number(first)}"` : "";
      html.push(`<${listKind}${start}>${items.join("")}</${listKind}>`);
      continue;
    }
    if (line.trim() === "") flush();
    else paragraph.push(line.trim());
  }
  flush();
  return html.join("\n");
}
