/**
 * The user's own text for evaluation: plain text, JSON Lines (`text`, `messages` as in a chat
 * transcript, or `prompt` + `completion`) or CSV (a `text` column, else every column).
 * Records are joined with blank lines.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";

/** A problem with the evaluation text; the message names the file and line. */
export class EvalTextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EvalTextError";
  }
}

function recordText(record: Record<string, unknown>): string | undefined {
  if (typeof record.text === "string") return record.text;
  if (Array.isArray(record.messages)) {
    return record.messages
      .map((m: unknown) => {
        if (typeof m !== "object" || m === null) return "";
        const { role, content } = m as { role?: unknown; content?: unknown };
        const body = typeof content === "string" ? content : Array.isArray(content) ? content.map((p: { text?: unknown }) => (typeof p?.text === "string" ? p.text : "")).join("") : "";
        return typeof role === "string" ? `${role}: ${body}` : body;
      })
      .filter(Boolean)
      .join("\n");
  }
  if (typeof record.prompt === "string") return `${record.prompt}${typeof record.completion === "string" ? record.completion : ""}`;
  return undefined;
}

/**
 * @example
 * ```ts
 * const text = await loadEvalText("transcripts.jsonl"); // "user: ...\nassistant: ...\n\n..."
 * ```
 * @throws EvalTextError for an unreadable record or an empty result.
 */
export async function loadEvalText(file: string): Promise<string> {
  const content = await readFile(file, "utf8");
  const ext = path.extname(file).toLowerCase();
  let records: string[];
  if (ext === ".jsonl" || ext === ".ndjson") {
    records = [];
    for (const [i, line] of content.split(/\r?\n/).entries()) {
      if (!line.trim()) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new EvalTextError(`${file}:${i + 1}: not valid JSON`);
      }
      const text = typeof parsed === "object" && parsed !== null ? recordText(parsed as Record<string, unknown>) : undefined;
      if (text === undefined) throw new EvalTextError(`${file}:${i + 1}: expected a "text", "messages" or "prompt" field`);
      records.push(text);
    }
  } else if (ext === ".csv") {
    const rows = parseCsv<Record<string, string>>(content, { columns: true, skip_empty_lines: true, bom: true });
    records = rows.map((row) => row.text ?? Object.values(row).join(" "));
  } else {
    records = [content];
  }
  const text = records.map((r) => r.trim()).filter(Boolean).join("\n\n");
  if (!text) throw new EvalTextError(`${file}: no text to evaluate`);
  return text;
}
