/** Renders evaluation results: a console table, JSON, and an HTML page with an inline SVG chart. */
import type { ModelEvaluation } from "./evaluate.js";

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 1)} MiB`;

/** A fixed-width table, one row per model; the relative column is against the best perplexity. */
export function formatTable(results: readonly ModelEvaluation[], picked?: ModelEvaluation): string {
  const best = Math.min(...results.map((r) => r.perplexity));
  const header = ["model", "perplexity", "vs best", "file", "prompt tok/s", "decode tok/s", "TTFT ms", "RSS"];
  const rows = results.map((r) => [
    `${r === picked ? "* " : "  "}${r.model}`,
    r.perplexity.toFixed(4),
    `${(((r.perplexity - best) / best) * 100).toFixed(2)}%`,
    mib(r.fileBytes),
    r.promptTokensPerSecond.toFixed(0),
    r.decodeTokensPerSecond.toFixed(0),
    r.ttftMs.toFixed(1),
    mib(r.rssBytes),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One horizontal bar chart (SVG) of `value` per model. */
function barChart(title: string, results: readonly ModelEvaluation[], value: (r: ModelEvaluation) => number, format: (v: number) => string): string {
  const max = Math.max(...results.map(value), 1e-9);
  const rowHeight = 26;
  const labelWidth = 260;
  const barWidth = 360;
  const height = results.length * rowHeight + 30;
  const bars = results
    .map((r, i) => {
      const y = 24 + i * rowHeight;
      const w = Math.max(1, (value(r) / max) * barWidth);
      return `<text x="0" y="${y + 15}" font-size="12">${escapeHtml(r.model)}</text><rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="18" fill="#4a7bd0"/><text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 14}" font-size="12">${escapeHtml(format(value(r)))}</text>`;
    })
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + barWidth + 120}" height="${height}" font-family="sans-serif"><text x="0" y="14" font-size="14" font-weight="bold">${escapeHtml(title)}</text>${bars}</svg>`;
}

/** A self-contained HTML page (no scripts, no external assets): the table and three charts. */
export function renderHtml(results: readonly ModelEvaluation[], meta: { text: string; picked?: ModelEvaluation; budget?: number }): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>switchyard eval perplexity</title></head><body style="font-family:sans-serif">
<h1>Perplexity on ${escapeHtml(meta.text)}</h1>
${meta.picked ? `<p>Within ${((meta.budget ?? 0) * 100).toFixed(2)}% of the best perplexity, the smallest is <b>${escapeHtml(meta.picked.model)}</b>.</p>` : ""}
<pre>${escapeHtml(formatTable(results, meta.picked))}</pre>
${barChart("Perplexity (lower is better)", results, (r) => r.perplexity, (v) => v.toFixed(3))}
${barChart("File size", results, (r) => r.fileBytes, mib)}
${barChart("Decode tokens/s (higher is better)", results, (r) => r.decodeTokensPerSecond, (v) => v.toFixed(0))}
</body></html>
`;
}
