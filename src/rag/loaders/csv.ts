/**
 * CSV → documents, one per row (csv-parse: RFC 4180, quoted multi-line fields).
 */
import { parse } from "csv-parse/sync";
import { invalidRequest } from "../../errors.js";
import type { RagDocument } from "../document.js";

/** Column mapping; the first row must be the header. */
export interface CsvOptions {
  /** Column with the document text. Default `text`. */
  textColumn?: string;
  /** Column with the document id. Default: the 1-based data row number (`row-<n>`). */
  idColumn?: string;
  titleColumn?: string;
  sourceColumn?: string;
  /** Columns copied into metadata under their own names. */
  metadataColumns?: string[];
  /** Default `,`. */
  delimiter?: string;
  /** Prepended to every id (the directory walker uses `<relative path>:`). */
  idPrefix?: string;
  /** Default source when there is no source column. */
  defaultSource?: string;
}

/**
 * Parses CSV text. Rows with empty text are skipped; unknown mapped columns
 * and malformed CSV throw a 400 GatewayError.
 *
 * @example
 * ```ts
 * csvDocuments("id,question,answer,intent\n1,Refund?,We refund in 14 days.,refund", {
 *   idColumn: "id", textColumn: "answer", titleColumn: "question", metadataColumns: ["intent"],
 * });
 * // [{ id: "1", text: "We refund in 14 days.", title: "Refund?", metadata: { intent: "refund" } }]
 * ```
 */
export function csvDocuments(content: string, options: CsvOptions = {}): RagDocument[] {
  let records: Record<string, string>[];
  try {
    records = parse<Record<string, string>>(content, {
      columns: true,
      bom: true,
      skip_empty_lines: true,
      delimiter: options.delimiter ?? ",",
    });
  } catch (err) {
    throw invalidRequest(`Malformed CSV: ${err instanceof Error ? err.message : String(err)}`, { param: "csv" });
  }
  const textColumn = options.textColumn ?? "text";
  const first = records[0];
  if (first !== undefined) {
    const mapped = [textColumn, options.idColumn, options.titleColumn, options.sourceColumn, ...(options.metadataColumns ?? [])];
    for (const column of mapped) {
      if (column !== undefined && !(column in first)) {
        throw invalidRequest(`CSV has no column '${column}' (columns: ${Object.keys(first).join(", ")}).`, { param: "csv" });
      }
    }
  }
  const docs: RagDocument[] = [];
  records.forEach((record, i) => {
    const text = record[textColumn] ?? "";
    if (text.trim().length === 0) return;
    const rawId = options.idColumn === undefined ? `row-${i + 1}` : (record[options.idColumn] ?? "");
    if (rawId.length === 0) throw invalidRequest(`CSV row ${i + 1} has an empty '${options.idColumn ?? "id"}'.`, { param: "csv" });
    const metadata: Record<string, unknown> = {};
    for (const column of options.metadataColumns ?? []) metadata[column] = record[column] ?? "";
    const doc: RagDocument = { id: `${options.idPrefix ?? ""}${rawId}`, text, metadata };
    if (options.titleColumn !== undefined) doc.title = record[options.titleColumn] ?? "";
    const source = options.sourceColumn === undefined ? options.defaultSource : record[options.sourceColumn];
    if (source !== undefined) doc.source = source;
    docs.push(doc);
  });
  return docs;
}
