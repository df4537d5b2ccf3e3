/**
 * `switchyard quantize` and `switchyard eval perplexity` on real models: the generated tiny
 * model (always), and TinyStories 260K (opt-in: ../shared/models or SWITCHYARD_REAL_MODEL).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getLlama, LlamaCompletion, LlamaLogLevel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTinyModel } from "../../src/engine/tiny-model/index.js";
import { evaluateModels, type ModelEvaluation } from "../../src/eval/index.js";
import { quantizeGguf } from "../../src/quantize/index.js";
import { startTestGateway } from "../helpers/gateway.js";

/** Runs the CLI without blocking the test worker (a blocked worker misses vitest's RPC deadline). */
const cli = (args: string[]) =>
  new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], { encoding: "utf8", timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
const byName = (results: ModelEvaluation[]) => Object.fromEntries(results.map((r) => [r.model.replace(/\.gguf$/, ""), r.perplexity]));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-quant-eval-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("quantize + eval on the generated tiny model", () => {
  let f32: string;
  let text: string;
  const variant = (type: string) => path.join(dir, `${type}.gguf`);

  beforeAll(async () => {
    f32 = await ensureTinyModel(dir, { weights: "f32" });
    // Text in the model's own distribution (sampled with a fixed seed): quantization noise can only make it less likely.
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: f32 });
    const context = await model.createContext({ contextSize: 512, threads: 1 });
    text = await new LlamaCompletion({ contextSequence: context.getSequence() }).generateCompletion("Once upon a time", { maxTokens: 300, temperature: 1, seed: 1 });
    await context.dispose();
    await model.dispose();
    await llama.dispose();
    await writeFile(path.join(dir, "sample.txt"), text);
  }, 120_000);

  it("the quantize CLI writes q8_0 and q4_0 files that load and generate through a real shard", async () => {
    for (const type of ["q8_0", "q4_0"]) {
      const res = await cli(["quantize", f32, variant(type), "--type", type]);
      expect(res.status, res.stderr).toBe(0);
      expect(res.stdout).toContain(`16 tensors as ${type}, 5 kept`);
    }
    const bad = await cli(["quantize", f32, variant("x"), "--type", "q4_k_m"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("--type: expected one of");
    const t = await startTestGateway({ cache: { enabled: false } }, { file: variant("q4_0"), contextSize: 256 });
    try {
      const res = await t.client.completions.create({ model: "tiny", prompt: "Once upon a time", max_tokens: 12, temperature: 0 });
      expect(res.usage!.completion_tokens).toBe(12);
      expect(res.choices[0]!.text.length).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  }, 180_000);

  it("perplexity is reproducible and ranks F32 < q8_0 < q4_0", async () => {
    const files = [f32, variant("q8_0"), variant("q4_0")];
    const options = { contextSize: 128, stride: 64, threads: 1, gpu: false as const, decodeTokens: 4 };
    const first = await evaluateModels(files, text, options);
    const again = await evaluateModels(files, text, options);
    expect(byName(again)).toEqual(byName(first));
    const [pF32, pQ8, pQ4] = first.map((r) => r.perplexity);
    expect(pF32).toBeLessThan(pQ8!);
    expect(pQ8).toBeLessThan(pQ4!);
    // Each window after the first scores only new tokens: every token but none twice.
    expect(first[0]!.scored).toBe(first[0]!.tokens);
    expect(first[0]!.evaluated).toBeGreaterThan(first[0]!.tokens);
  }, 180_000);

  it("the eval CLI prints a table, names the pick within the budget, and writes JSON and HTML", async () => {
    const out = path.join(dir, "report");
    const res = await cli(["eval", "perplexity", "--model", f32, "--model", variant("q8_0"), "--model", variant("q4_0"), "--text", path.join(dir, "sample.txt"), "--context", "128", "--threads", "1", "--cpu", "--budget", "1%", "--out", out]);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/perplexity/);
    // q8_0 is within 1% of F32 here and smaller; q4_0 is not within 1%.
    expect(res.stdout).toContain("the smallest is q8_0.gguf");
    const json = JSON.parse(await readFile(path.join(out, "results.json"), "utf8")) as { picked: string; results: ModelEvaluation[] };
    expect(json.picked).toBe(variant("q8_0"));
    expect(json.results).toHaveLength(3);
    expect(await readFile(path.join(out, "report.html"), "utf8")).toContain("<svg");
    const missing = await cli(["eval", "perplexity", "--model", f32]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("usage: switchyard eval perplexity");
  }, 180_000);
});

const real = process.env.SWITCHYARD_REAL_MODEL ?? path.resolve("..", "shared", "models", "stories260K.gguf");
describe.skipIf(!existsSync(real))(`quantizing a real model (${path.basename(real)})`, () => {
  it("q8_0 stays within 1% of the F32 perplexity on TinyStories-style text; q4_0 is worse", async () => {
    const text = await readFile(path.resolve("test/fixtures/eval/tinystories-style.txt"), "utf8");
    const files = [real];
    for (const type of ["q8_0", "q4_0"] as const) {
      const output = path.join(dir, `stories-${type}.gguf`);
      await quantizeGguf({ input: real, output, type });
      files.push(output);
    }
    const [f32, q8, q4] = (await evaluateModels(files, text, { contextSize: 256, stride: 128, threads: 1, gpu: false, decodeTokens: 4 })).map((r) => r.perplexity);
    expect(Math.abs(q8! - f32!) / f32!).toBeLessThan(0.01);
    expect(q4!).toBeGreaterThan(f32! * 1.01);
  }, 180_000);
});
