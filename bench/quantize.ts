/**
 * `npm run bench:quantize`: `switchyard quantize` + `switchyard eval perplexity` on a real
 * model (TinyStories 260K at ../shared/models or SWITCHYARD_REAL_MODEL; the generated tiny
 * F32 model otherwise) and TinyStories-style text: perplexity of each variant relative to
 * the F32 original, file size, and speeds, all measured in the same run.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ensureTinyModel } from "../src/engine/tiny-model/index.js";
import { evaluateModels } from "../src/eval/index.js";
import { quantizeGguf, type QuantType } from "../src/quantize/index.js";
import { machineInfo, markdownTable, round, writeResult } from "./stats.js";

const TYPES: QuantType[] = ["f16", "q8_0", "q5_1", "q5_0", "q4_1", "q4_0"];
const dir = path.join(os.tmpdir(), "switchyard-bench-quantize");
const real = process.env.SWITCHYARD_REAL_MODEL ?? path.resolve("..", "shared", "models", "stories260K.gguf");
const input = existsSync(real) ? real : await ensureTinyModel(dir, { weights: "f32" });
const text = await readFile(path.resolve("test/fixtures/eval/tinystories-style.txt"), "utf8");

const files = [input];
for (const type of TYPES) {
  const output = path.join(dir, `${path.basename(input, ".gguf")}-${type}.gguf`);
  await quantizeGguf({ input, output, type });
  files.push(output);
}
const results = await evaluateModels(files, text, { contextSize: 256, stride: 128, threads: 1, gpu: false, decodeTokens: 64 });
const reference = results[0]!;
const rows = results.map((r, i) => ({
  variant: i === 0 ? "F32 (original)" : TYPES[i - 1]!,
  perplexity: round(r.perplexity, 4),
  vsF32: round(r.perplexity / reference.perplexity, 4),
  sizeVsF32: round(r.fileBytes / reference.fileBytes, 3),
  promptVsF32: round(r.promptTokensPerSecond / reference.promptTokensPerSecond, 2),
  decodeVsF32: round(r.decodeTokensPerSecond / reference.decodeTokensPerSecond, 2),
}));
console.log(
  markdownTable(
    ["variant", "perplexity", "vs F32", "file size vs F32", "prompt tok/s vs F32", "decode tok/s vs F32"],
    rows.map((r) => [r.variant, r.perplexity, r.vsF32, r.sizeVsF32, r.promptVsF32, r.decodeVsF32]),
  ),
);
console.log(`wrote ${writeResult("quantize", { machine: machineInfo(), model: path.basename(input), tokens: reference.tokens, scored: reference.scored, rows, results })}`);
