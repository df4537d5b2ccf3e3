/**
 * JSON Lines → documents, one per non-blank line.
 */
import { invalidRequest } from "../../errors.js";
import type { RagDocument } from "../document.js";

/** Which field holds what; dotted paths (`meta.title`) reach into nested objects. */
export interface JsonlOptions {
  /** Default `id`. */
  idField?: string;
  /** Default `text`. */
  textField?: string;
  /** Default `title`. */
  titleField?: string;
  /** Default `source`. */
  sourceField?: string;
  /** An object field merged into metadata. Default `metadata`. */
  metadataField?: string;
  /** Further fields copied into metadata under their own (last path segment) name. */
  metadataFields?: string[];
  /** Prepended to every id (the directory walker uses `<relative path>:`). */
  idPrefix?: string;
  /** Default source when the line has none. */
  defaultSource?: string;
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  return undefined;
}

/**
 * Parses JSONL text. Lines without text are skipped; invalid JSON or a
 * missing id throws a 400 GatewayError naming the line.
 *
 * @example
 * ```ts
 * jsonlDocuments('{"sku": 7, "body": "Fits M5 bolts", "meta": {"lang": "en"}}', { idField: "sku", textField: "body", metadataField: "meta" });
 * // [{ id: "7", text: "Fits M5 bolts", metadata: { lang: "en" } }]
 * ```
 */
export function jsonlDocuments(content: string, options: JsonlOptions = {}): RagDocument[] {
  const idField = options.idField ?? "id";
  const textField = options.textField ?? "text";
  const titleField = options.titleField ?? "title";
  const sourceField = options.sourceField ?? "source";
  const metadataField = options.metadataField ?? "metadata";
  const docs: RagDocument[] = [];
  content
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .forEach((line, i) => {
      const lineNo = i + 1;
      if (line.trim().length === 0) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw invalidRequest(`JSONL line ${lineNo} is not valid JSON.`, { param: `line ${lineNo}` });
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw invalidRequest(`JSONL line ${lineNo} is not a JSON object.`, { param: `line ${lineNo}` });
      }
      const row = parsed as Record<string, unknown>;
      const text = scalarText(getPath(row, textField));
      if (text === undefined || text.trim().length === 0) return;
      const id = scalarText(getPath(row, idField));
      if (id === undefined || id.length === 0) {
        throw invalidRequest(`JSONL line ${lineNo} has no '${idField}'.`, { param: `line ${lineNo}` });
      }
      const metadata: Record<string, unknown> = {};
      const metaObj = getPath(row, metadataField);
      if (metaObj !== null && typeof metaObj === "object" && !Array.isArray(metaObj)) Object.assign(metadata, metaObj);
      for (const field of options.metadataFields ?? []) {
        const value = getPath(row, field);
        if (value !== undefined) metadata[field.split(".").at(-1) ?? field] = value;
      }
      const doc: RagDocument = { id: `${options.idPrefix ?? ""}${id}`, text, metadata };
      const title = scalarText(getPath(row, titleField));
      if (title !== undefined) doc.title = title;
      const source = scalarText(getPath(row, sourceField)) ?? options.defaultSource;
      if (source !== undefined) doc.source = source;
      docs.push(doc);
    });
  return docs;
}
