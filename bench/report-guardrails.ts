/**
 * The BENCHMARKS.md section for the PII guardrails and the semantic cache,
 * from results/pii-eval.json, results/semantic-cache-eval.json and
 * results/guardrails-overhead.json (whichever exist).
 */
import { markdownTable, round } from "./stats.js";

type Json = Record<string, unknown>;

interface Score {
  gold: number;
  predicted: number;
  precision: number;
  recall: number;
  leaked: number;
}

interface Curve {
  threshold: number;
  hitRate: number;
  falseHitRate: number;
}

export function guardrailsSection(pii: Json | undefined, semantic: Json | undefined, overhead: Json | undefined): string {
  const out: string[] = [];
  if (pii) {
    const scores = pii.scores as Record<string, Score>;
    out.push(
      `PII detection on a labelled set of ${String(pii.size)} support-chat sentences built with @faker-js/faker (seed ${String(pii.seed)}; \`npm run eval:pii\`),`,
      "with look-alike distractors (order and tracking numbers, Luhn-invalid card numbers, dates, times, prices, ZIP codes, versions).",
      "A detection counts when it has the gold type and covers ≥ 80% of the gold span; *leaked* = gold values with any character left unredacted.",
      "",
      markdownTable(
        ["type", "gold", "detected", "precision", "recall", "values leaked"],
        Object.entries(scores).map(([t, s]) => [t, s.gold, s.predicted, round(s.precision, 4), round(s.recall, 4), s.leaked]),
      ),
      "",
    );
    const bitext = pii.bitext as { instruction: { texts: number; textsWithAny: number; counts: Json }; response: { texts: number; textsWithAny: number; counts: Json } } | undefined;
    if (bitext) {
      out.push(
        `False positives on the Bitext data (no real personal data): ${bitext.instruction.textsWithAny} of ${bitext.instruction.texts} customer instructions`,
        `and ${bitext.response.textsWithAny} of ${bitext.response.texts} responses had any detection (${JSON.stringify(bitext.response.counts)}; the responses name \`support@company.com\`).`,
        "",
      );
    }
    const cost = pii.cost as { inputRedactionUs: { p50: number; p95: number }; streamScanUs: { p50: number; p95: number }; meanChunksPerAnswer: number } | undefined;
    if (cost) {
      out.push(
        `In-process cost: redacting one request (system prompt + a Bitext instruction) p50 ${cost.inputRedactionUs.p50} µs, p95 ${cost.inputRedactionUs.p95} µs;`,
        `scanning one streamed Bitext answer (${cost.meanChunksPerAnswer} chunks of 4 characters) p50 ${cost.streamScanUs.p50} µs, p95 ${cost.streamScanUs.p95} µs.`,
        "",
      );
    }
  }
  if (overhead) {
    const rows = overhead.rows as Array<{ mode: string; p50Ms: number; p95Ms: number; ratio: number }>;
    out.push(
      `Added latency through the gateway (${String(overhead.requests)} sequential non-streamed chat requests with personal data, remote mock upstream, same run; \`npm run bench:guardrails\`):`,
      "",
      markdownTable(["guardrails", "p50 ms", "p95 ms", "p50 vs off"], rows.map((r) => [r.mode, r.p50Ms, r.p95Ms, `${r.ratio}×`])),
      "",
    );
  }
  if (semantic) {
    const embedders = semantic.embedders as Record<string, { id: string; anchors: { curve: Curve[]; chosen?: Curve }; noAnchors: { chosen?: Curve } }>;
    out.push(
      `Semantic cache on Bitext (\`npm run eval:semantic-cache\`): ${String(semantic.stored)} questions stored (${String(semantic.intents)} intents), ${String(semantic.queries)} other questions looked up.`,
      "A *good hit* returns the answer of a question with the same intent; a *false hit* one of another intent (the wrong answer). Rates are over all lookups, with the anchor rule (equal digit runs) on.",
      "",
    );
    const kinds = Object.keys(embedders);
    const thresholds = embedders[kinds[0]!]!.anchors.curve.map((c) => c.threshold);
    out.push(
      markdownTable(
        ["threshold", ...kinds.map((k) => `${k}: good / false`)],
        thresholds.map((t, i) => [t, ...kinds.map((k) => `${embedders[k]!.anchors.curve[i]!.hitRate} / ${embedders[k]!.anchors.curve[i]!.falseHitRate}`)]),
      ),
      "",
      "Lowest threshold with ≤ 1% false hits: " +
        kinds
          .map((k) => {
            const c = embedders[k]!.anchors.chosen;
            const n = embedders[k]!.noAnchors.chosen;
            return `${k} ${c ? `${c.threshold} (good hits ${c.hitRate}${n ? `; ${n.hitRate} without the anchor rule` : ""})` : "none"}`;
          })
          .join(", ") +
        ".",
      "",
    );
  }
  return out.length ? out.join("\n") : "_Not measured in this run (npm run eval:pii, npm run eval:semantic-cache)._";
}
