/**
 * Files and directory trees → documents, by file extension.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, extname, join, relative, sep } from "node:path";
import type { RagDocument } from "../document.js";
import { type CsvOptions, csvDocuments } from "./csv.js";
import { htmlDocument } from "./html.js";
import { type JsonlOptions, jsonlDocuments } from "./jsonl.js";
import { markdownDocument, textDocument } from "./markdown.js";

/** File extensions the loaders understand. */
export const LOADABLE_EXTENSIONS = [".md", ".markdown", ".mdx", ".txt", ".text", ".html", ".htm", ".jsonl", ".csv"] as const;

export interface LoadOptions {
  jsonl?: JsonlOptions;
  csv?: CsvOptions;
  /** Files larger than this are skipped. Default 20 MiB. */
  maxFileBytes?: number;
  /** Told about files that were not loaded and why. */
  onSkip?: (path: string, reason: string) => void;
}

/**
 * Loads one file. Markdown, text and HTML files are one document each with id
 * `id`; JSONL and CSV files hold one document per line/row, ids prefixed with
 * `id + ":"` when `prefixRows` is set.
 *
 * @example
 * ```ts
 * const docs = await loadFile("kb/refunds.md"); // [{ id: "refunds.md", … }]
 * ```
 */
export async function loadFile(
  path: string,
  options: LoadOptions & { id?: string; prefixRows?: boolean } = {},
): Promise<RagDocument[]> {
  const id = options.id ?? basename(path);
  const ext = extname(path).toLowerCase();
  const size = (await stat(path)).size;
  if (size > (options.maxFileBytes ?? 20 * 1024 * 1024)) {
    options.onSkip?.(path, `larger than ${options.maxFileBytes ?? 20 * 1024 * 1024} bytes`);
    return [];
  }
  const content = await readFile(path, "utf8");
  const file = { id, source: id };
  const rowPrefix = options.prefixRows === true ? `${id}:` : undefined;
  switch (ext) {
    case ".md":
    case ".markdown":
    case ".mdx":
      return [markdownDocument(content, file)];
    case ".txt":
    case ".text":
      return [textDocument(content, file)];
    case ".html":
    case ".htm":
      return [htmlDocument(content, file)];
    case ".jsonl":
      return jsonlDocuments(content, { defaultSource: id, ...options.jsonl, ...(rowPrefix === undefined ? {} : { idPrefix: rowPrefix }) });
    case ".csv":
      return csvDocuments(content, { defaultSource: id, ...options.csv, ...(rowPrefix === undefined ? {} : { idPrefix: rowPrefix }) });
    default:
      options.onSkip?.(path, `unsupported extension '${ext}'`);
      return [];
  }
}

/**
 * Walks a directory (sorted, depth-first; hidden entries and `node_modules`
 * skipped; symlinks not followed) and loads every supported file. A file's id
 * is its path relative to `root` with `/` separators; rows of JSONL/CSV files
 * get `<relative path>:<row id>`. Empty documents are dropped.
 *
 * @example
 * ```ts
 * const docs = await loadDirectory("./kb");
 * // [{ id: "billing/invoices.md", … }, { id: "faq.jsonl:q1", … }]
 * ```
 */
export async function loadDirectory(root: string, options: LoadOptions = {}): Promise<RagDocument[]> {
  const docs: RagDocument[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(path);
      } else if (entry.isFile()) {
        if (!(LOADABLE_EXTENSIONS as readonly string[]).includes(extname(entry.name).toLowerCase())) {
          options.onSkip?.(path, "unsupported extension");
          continue;
        }
        const id = relative(root, path).split(sep).join("/");
        docs.push(...(await loadFile(path, { ...options, id, prefixRows: true })));
      }
    }
  };
  await walk(root);
  return docs.filter((d) => d.text.trim().length > 0);
}
