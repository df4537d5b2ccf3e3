/**
 * PII detection evaluation and redaction cost.
 *
 *   tsx bench/pii-eval.ts [--size N] [--seed N] [--region US] [--data CSV] [--write-set FILE]
 *
 * 1. Precision, recall and leaks per entity type on a labelled set built from
 *    @faker-js/faker (bench/pii-labelled-set.ts; default 3000 sentences).
 * 2. False positives on the Bitext customer-support data (instructions and
 *    responses; it holds no real PII, only `{{placeholders}}` and order numbers),
 *    when ../shared/data/bitext-customer-support/ is beside the project.
 * 3. Cost: microseconds to redact one chat request (a system prompt and a Bitext
 *    instruction) and to scan one streamed answer (a Bitext response in ~4-char
 *    chunks), against the cost of only copying those texts (the reference).
 *
 * Results: results/pii-eval.json, a markdown summary on stdout.
 * `--write-set FILE` also writes the labelled set as JSONL (to score other libraries on it).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parse as parseCsv } from "csv-parse/sync";
import { PII_ENTITY_TYPES, PiiDetector, PiiGuard, type PiiEntityType } from "../src/guardrails/index.js";
import { buildLabelledSet, scoreDetections } from "./pii-labelled-set.js";
import { machineInfo, markdownTable, percentile, round, writeResult } from "./stats.js";

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_BITEXT = resolve(PROJECT_ROOT, "../shared/data/bitext-customer-support/Bitext_Sample_Customer_Support_Training_Dataset.csv");

function main(): void {
  const { values } = parseArgs({
    options: {
      size: { type: "string", default: "3000" },
      seed: { type: "string", default: "20261127" },
      region: { type: "string", default: "US" },
      data: { type: "string", default: DEFAULT_BITEXT },
      "write-set": { type: "string" },
    },
  });
  const size = Number(values.size);
  const set = buildLabelledSet({ size, seed: Number(values.seed) });
  if (values["write-set"]) writeFileSync(values["write-set"], set.map((s) => JSON.stringify(s)).join("\n") + "\n");
  const detector = new PiiDetector({ defaultRegion: values.region, timeoutMs: 10_000 });

  const started = performance.now();
  const scores = scoreDetections(set, (t) => detector.detect(t), PII_ENTITY_TYPES);
  const detectMsPerSentence = (performance.now() - started) / set.length;

  const bitext = existsSync(values.data) ? bitextFalsePositives(values.data, detector) : undefined;
  const cost = bitext ? redactionCost(values.data, values.region) : undefined;

  const result = { machine: machineInfo(), size, seed: Number(values.seed), region: values.region, scores, detectMsPerSentence: round(detectMsPerSentence, 3), bitext, cost };
  writeResult("pii-eval", result);
  console.log(
    markdownTable(
      ["type", "gold", "detected", "precision", "recall", "values leaked"],
      Object.entries(scores).map(([t, s]) => [t, s.gold, s.predicted, round(s.precision, 4), round(s.recall, 4), s.leaked]),
    ),
  );
  if (bitext) console.log(JSON.stringify(bitext, null, 2));
  else console.log(`Bitext data not found at ${values.data}; false-positive check skipped.`);
  if (cost) console.log(JSON.stringify(cost, null, 2));
}

interface BitextRow {
  instruction: string;
  response: string;
}

function loadBitext(path: string): BitextRow[] {
  return parseCsv<BitextRow>(readFileSync(path, "utf8"), { columns: true, skip_empty_lines: true });
}

/** Every detection on Bitext is a false positive: the data has no real personal values. */
function bitextFalsePositives(path: string, detector: PiiDetector) {
  const rows = loadBitext(path);
  const byField = (field: "instruction" | "response") => {
    const counts: Partial<Record<PiiEntityType, number>> = {};
    const examples: string[] = [];
    let textsWithAny = 0;
    for (const row of rows) {
      const found = detector.detect(row[field]);
      if (found.length > 0) textsWithAny++;
      for (const m of found) {
        counts[m.type] = (counts[m.type] ?? 0) + 1;
        if (examples.length < 8) examples.push(`${m.type}: ${JSON.stringify(m.value)} in ${JSON.stringify(row[field].slice(Math.max(0, m.start - 30), m.end + 10))}`);
      }
    }
    return { texts: rows.length, textsWithAny, rate: round(textsWithAny / rows.length, 4), counts, examples };
  };
  return { instruction: byField("instruction"), response: byField("response") };
}

/** µs per request for redaction on vs. the same texts only copied through the same loop (the reference). */
function redactionCost(path: string, region: string) {
  const rows = loadBitext(path).slice(0, 400);
  const system = "You are a helpful support assistant for ACME. Answer briefly and cite the order number when you have it.";
  const guard = new PiiGuard({ policy: { mode: "redact", entities: PII_ENTITY_TYPES, restore: true }, defaultRegion: region, timeoutMs: 10_000 });
  const chunked = rows.map((r) => r.response.match(/[\s\S]{1,4}/g) ?? []);

  const measure = (fn: (i: number) => number): number[] => {
    const samples: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < rows.length; i++) {
        const t0 = performance.now();
        fn(i);
        samples.push((performance.now() - t0) * 1000);
      }
    }
    return samples;
  };
  let sink = 0;
  const copyInput = measure((i) => (sink += (system + rows[i]!.instruction).length));
  const input = measure((i) => {
    const r = guard.begin();
    return (sink += r.redactInput(system).length + r.redactInput(rows[i]!.instruction).length);
  });
  const copyStream = measure((i) => {
    let n = 0;
    for (const c of chunked[i]!) n += c.length;
    return (sink += n);
  });
  const stream = measure((i) => {
    const s = guard.begin().outputStream();
    let n = 0;
    for (const c of chunked[i]!) n += s.push(c).caller.length;
    return (sink += n + s.flush().caller.length);
  });
  const summary = (xs: number[]) => ({ p50: round(percentile(xs, 50), 1), p95: round(percentile(xs, 95), 1) });
  return {
    requests: rows.length,
    meanChunksPerAnswer: round(chunked.reduce((a, c) => a + c.length, 0) / chunked.length, 1),
    inputRedactionUs: summary(input),
    inputReferenceUs: summary(copyInput),
    streamScanUs: summary(stream),
    streamReferenceUs: summary(copyStream),
    sink: sink > 0,
  };
}

main();
