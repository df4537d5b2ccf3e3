/**
 * HTML files → documents, text extracted with html-to-text.
 */
import { convert } from "html-to-text";
import type { RagDocument } from "../document.js";
import type { FileIdentity } from "./markdown.js";

/**
 * Extraction settings: no hard wrapping (the splitter decides line lengths),
 * link targets and images dropped (URLs are noise for retrieval), headings kept
 * in their case, navigation chrome skipped.
 */
const OPTIONS = {
  wordwrap: false as const,
  selectors: [
    { selector: "a", options: { ignoreHref: true } },
    { selector: "img", format: "skip" },
    { selector: "nav", format: "skip" },
    { selector: "script", format: "skip" },
    { selector: "style", format: "skip" },
    { selector: "h1", options: { uppercase: false } },
    { selector: "h2", options: { uppercase: false } },
    { selector: "h3", options: { uppercase: false } },
    { selector: "h4", options: { uppercase: false } },
    { selector: "h5", options: { uppercase: false } },
    { selector: "h6", options: { uppercase: false } },
  ],
};

/**
 * An HTML page as one document: `<title>` (else the first `<h1>`, else the
 * file name) as title, the visible text as text.
 *
 * @example
 * ```ts
 * htmlDocument("<title>Shipping</title><h1>Shipping</h1><p>We ship in 2 days.</p>", { id: "shipping.html" });
 * // { id: "shipping.html", title: "Shipping", text: "Shipping\n\nWe ship in 2 days.", … }
 * ```
 */
export function htmlDocument(html: string, file: FileIdentity): RagDocument {
  const rawTitle = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1] ?? /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(html)?.[1];
  const title = rawTitle === undefined ? "" : convert(rawTitle, { wordwrap: false }).replace(/\s+/g, " ").trim();
  const text = convert(html.replace(/<title[^>]*>[\s\S]*?<\/title>/gi, ""), OPTIONS).trim();
  return {
    id: file.id,
    text,
    title: title.length > 0 ? title : (file.id.split(/[\\/]/).at(-1) ?? file.id).replace(/\.[^.]+$/, ""),
    source: file.source ?? file.id,
    metadata: {},
    format: "text",
  };
}
