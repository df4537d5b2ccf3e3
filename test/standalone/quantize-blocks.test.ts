/** ggml block codecs and the GGUF reader, checked against the format's own rules (no model load). */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTinyLora, ensureTinyModel } from "../../src/engine/tiny-model/index.js";
import { GgmlType, float32ToFloat16Bits } from "../../src/engine/tiny-model/gguf-writer.js";
import { decodeTensor, encodeTensor, float16BitsToFloat32, GgufFormatError, quantizeGguf, readGgufLayout } from "../../src/quantize/index.js";
import { seededRandom } from "../../src/util/seeded-random.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-quantize-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

function sample(count: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: count }, () => (random() - 0.5) * 4);
}

describe("block codecs", () => {
  it("f16 bits round-trip exactly for representable values", () => {
    for (const v of [0, 1, -2.5, 65504, 2 ** -24, 0.333251953125]) expect(float16BitsToFloat32(float32ToFloat16Bits(v))).toBe(v);
    expect(float16BitsToFloat32(0x7c00)).toBe(Infinity);
  });

  // Per block the error is at most half a quantization step (plus f16 rounding of the scale).
  it.each([
    ["Q8_0", GgmlType.Q8_0, 34, 1 / 127],
    ["Q5_1", GgmlType.Q5_1, 24, 1 / 31],
    ["Q5_0", GgmlType.Q5_0, 22, 1 / 16],
    ["Q4_1", GgmlType.Q4_1, 20, 1 / 15],
    ["Q4_0", GgmlType.Q4_0, 18, 1 / 8],
  ] as const)("%s: block size and bounded round-trip error", (_name, type, blockBytes, step) => {
    const values = sample(32 * 64, 3);
    const encoded = encodeTensor(values, type);
    expect(encoded.length).toBe(64 * blockBytes);
    const decoded = decodeTensor(encoded, values.length, type);
    for (let b = 0; b < 64; b++) {
      const block = values.subarray(b * 32, b * 32 + 32);
      const range = Math.max(...block.map(Math.abs)) * 2;
      for (let j = 0; j < 32; j++) expect(Math.abs(decoded[b * 32 + j]! - block[j]!)).toBeLessThanOrEqual(range * step * 0.51 + 1e-3);
    }
  });

  it("ranks the formats by error: Q8_0 < Q5_1 < Q4_0", () => {
    const values = sample(32 * 256, 9);
    const rmse = (type: (typeof GgmlType)[keyof typeof GgmlType]) => {
      const d = decodeTensor(encodeTensor(values, type), values.length, type);
      return Math.sqrt(values.reduce((s, v, i) => s + (v - d[i]!) ** 2, 0) / values.length);
    };
    expect(rmse(GgmlType.Q8_0)).toBeLessThan(rmse(GgmlType.Q5_1));
    expect(rmse(GgmlType.Q5_1)).toBeLessThan(rmse(GgmlType.Q4_0));
  });
});

describe("GGUF reader", () => {
  it("reads the same tensors and alignment node-llama-cpp does", async () => {
    const file = await ensureTinyModel(dir);
    const layout = await readGgufLayout(file);
    const info = await readGgufFileInfo(file);
    expect(layout.version).toBe(3);
    expect(layout.tensors.map((t) => [t.name, t.dims])).toEqual(info.tensorInfo!.map((t) => [t.name, t.dimensions.map(Number)]));
    expect(layout.entries.find((e) => e.key === "general.architecture")?.value).toBe("llama");
    expect(layout.dataStart % layout.alignment).toBe(0);
  });

  it("refuses a file that is not a GGUF, and a LoRA adapter, with clear errors", async () => {
    const bogus = path.join(dir, "bogus.gguf");
    await writeFile(bogus, "definitely not a gguf");
    await expect(quantizeGguf({ input: bogus, output: path.join(dir, "x.gguf"), type: "q8_0" })).rejects.toThrow(GgufFormatError);
    await expect(quantizeGguf({ input: bogus, output: path.join(dir, "x.gguf"), type: "q8_0" })).rejects.toThrow(/not a GGUF/);
    const lora = await ensureTinyLora(dir);
    await expect(quantizeGguf({ input: lora, output: path.join(dir, "y.gguf"), type: "q8_0" })).rejects.toThrow(/LoRA adapter/);
  });

  it("quantizes matrices only, updates general.file_type, and writes a file node-llama-cpp reads", async () => {
    const input = await ensureTinyModel(dir, { weights: "f32" });
    const output = path.join(dir, "q4.gguf");
    const result = await quantizeGguf({ input, output, type: "q4_0" });
    expect(result).toMatchObject({ converted: 16, kept: 5, requantized: 0 });
    const info = await readGgufFileInfo(output);
    const types = new Map(info.tensorInfo!.map((t) => [t.name, t.ggmlType as number]));
    expect(types.get("blk.0.attn_q.weight")).toBe(GgmlType.Q4_0);
    expect(types.get("blk.0.attn_norm.weight")).toBe(GgmlType.F32);
    expect((info.metadata.general as { file_type?: number }).file_type).toBe(2);
  });
});
