/**
 * Markdown and plain-text files → documents.
 */
import { parse as parseYaml } from "yaml";
import type { RagDocument } from "../document.js";

/** Where a loaded file's document comes from. */
export interface FileIdentity {
  /** Document id (the directory walker uses the relative path). */
  id: string;
  /** Shown in citations; defaults to `id`. */
  source?: string;
}

const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/;

function fileTitle(id: string): string {
  const base = id.split(/[\\/]/).at(-1) ?? id;
  return base.replace(/\.[^.]+$/, "");
}

/**
 * A markdown file as one document. YAML front matter (between `---` lines) is
 * removed from the text; its `title` becomes the title and its other scalar
 * keys the metadata. Without one, the first `# heading` is the title, else the
 * file name.
 *
 * @example
 * ```ts
 * markdownDocument("---\ntitle: Refunds\nlang: en\n---\n# Refund policy\n…", { id: "kb/refunds.md" });
 * // { id: "kb/refunds.md", title: "Refunds", source: "kb/refunds.md", metadata: { lang: "en" }, format: "markdown", text: "# Refund policy\n…" }
 * ```
 */
export function markdownDocument(content: string, file: FileIdentity): RagDocument {
  let text = content.replace(/^\uFEFF/, "");
  const metadata: Record<string, unknown> = {};
  let title: string | undefined;
  const fm = FRONT_MATTER.exec(text);
  if (fm !== null) {
    text = text.slice(fm[0].length);
    let parsed: unknown;
    try {
      parsed = parseYaml(fm[1] ?? "");
    } catch {
      parsed = undefined; // Not YAML after all: keep the text, ignore the block.
    }
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
      for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
        if (key === "title" && typeof value === "string") title = value;
        else if (value instanceof Date) metadata[key] = value.toISOString();
        else metadata[key] = value;
      }
    }
  }
  title ??= /^#\s+(.+?)\s*#*\s*$/m.exec(text)?.[1] ?? fileTitle(file.id);
  return { id: file.id, text, title, source: file.source ?? file.id, metadata, format: "markdown" };
}

/**
 * A plain-text file as one document, titled by its file name.
 *
 * @example
 * ```ts
 * textDocument("Opening hours: 9-17.", { id: "hours.txt" }); // { id: "hours.txt", title: "hours", … }
 * ```
 */
export function textDocument(content: string, file: FileIdentity): RagDocument {
  return {
    id: file.id,
    text: content.replace(/^\uFEFF/, ""),
    title: fileTitle(file.id),
    source: file.source ?? file.id,
    metadata: {},
    format: "text",
  };
}
