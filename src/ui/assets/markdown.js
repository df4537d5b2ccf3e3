// @ts-check
/**
 * Model answers as Markdown, rendered by markdown-it (vendored as one ESM
 * file, ./markdown-it.js): paragraphs, headings, emphasis, code spans and
 * fenced blocks, nested lists, block quotes, GFM tables and strikethrough.
 *
 * Safety rules, because the text comes from a model (which may repeat a
 * user's or a document's HTML):
 * - raw HTML is off (`html: false`): any tag in the input is shown as text;
 * - a link's URL must be absolute http(s) or mailto, anything else
 *   (javascript:, data:, relative paths) stays text; links open in a new tab
 *   with rel="noopener noreferrer";
 * - images are not rendered (no request to a URL the model chose).
 * The page's CSP (no inline script) is a second fence.
 */
import { MarkdownIt } from "./markdown-it.js";

/** Links a reader may follow. */
const SAFE_URL = /^(?:https?:\/\/|mailto:)[^\s<>"']+$/i;

const md = new MarkdownIt("default", { html: false, linkify: true, breaks: true, typographer: false });
md.disable("image");
/** @param {string} url */
md.validateLink = (url) => SAFE_URL.test(url.trim());

const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
/** @type {import("markdown-it").RendererRule} */
const linkOpen = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  if (token) {
    token.attrSet("target", "_blank");
    token.attrSet("rel", "noopener noreferrer");
  }
  return defaultLinkOpen(tokens, idx, options, env, self);
};
md.renderer.rules.link_open = linkOpen;

// Answers live inside a page: their headings start at level 3.
md.core.ruler.push("shift_headings", (state) => {
  for (const token of state.tokens) {
    if (token.type === "heading_open" || token.type === "heading_close") token.tag = `h${Math.min(6, Number(token.tag.slice(1)) + 2)}`;
  }
});

/**
 * Renders Markdown to HTML that may go to innerHTML. Tolerates text cut
 * anywhere (a stream in progress): an unclosed fence is shown as code so far.
 *
 * @example
 * ```js
 * answer.innerHTML = renderMarkdown("**Hi** <b>there</b>"); // <p><strong>Hi</strong> &lt;b&gt;there&lt;/b&gt;</p>
 * ```
 * @param {string} text
 * @returns {string} HTML
 */
export function renderMarkdown(text) {
  return md.render(text);
}
