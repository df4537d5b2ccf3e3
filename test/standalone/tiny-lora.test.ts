/** The generated tiny LoRA: llama.cpp's adapter layout, deterministic bytes, shapes matching the tiny model. */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTinyLora, ensureTinyModel, writeTinyLora } from "../../src/engine/tiny-model/index.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-tiny-lora-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const sha = async (file: string) => createHash("sha256").update(await readFile(file)).digest("hex");

describe("tiny LoRA generator", () => {
  it("writes general.type=adapter, adapter.type=lora, alpha, and lora_a/lora_b pairs shaped for the base", async () => {
    const lora = await ensureTinyLora(dir);
    const info = await readGgufFileInfo(lora);
    const meta = info.metadata as unknown as { general: { type: string; architecture: string }; adapter: { type: string; lora: { alpha: number } } };
    expect(meta.general).toMatchObject({ type: "adapter", architecture: "llama" });
    expect(meta.adapter).toEqual({ type: "lora", lora: { alpha: 8 } });
    const base = await readGgufFileInfo(await ensureTinyModel(dir));
    const baseDims = new Map(base.tensorInfo!.map((t) => [t.name, t.dimensions.map(Number)]));
    const tensors = info.tensorInfo!;
    expect(tensors.length).toBe(2 * (3 * 2 + 1));
    for (const t of tensors.filter((x) => x.name.endsWith(".lora_a"))) {
      const target = t.name.replace(/\.lora_a$/, "");
      const [inputs, outputs] = baseDims.get(target)!;
      const b = tensors.find((x) => x.name === `${target}.lora_b`)!;
      expect(t.dimensions.map(Number)).toEqual([inputs, 8]);
      expect(b.dimensions.map(Number)).toEqual([8, outputs]);
    }
  });

  it("is a pure function of its options (fixed seed), and the seed changes it", async () => {
    const a = path.join(dir, "a.gguf");
    const b = path.join(dir, "b.gguf");
    const c = path.join(dir, "c.gguf");
    await writeTinyLora(a);
    await writeTinyLora(b);
    await writeTinyLora(c, {}, { seed: 8 });
    expect(await sha(a)).toBe(await sha(b));
    expect(await sha(c)).not.toBe(await sha(a));
    expect(path.basename(await ensureTinyLora(dir, { layers: 3 }, { rank: 4 }))).toBe("tiny-l3-w64-s42.lora-r4-a4-s7.gguf");
  });

  it("rejects invalid options", async () => {
    await expect(ensureTinyLora(dir, {}, { rank: 0 })).rejects.toThrow(RangeError);
    await expect(ensureTinyLora(dir, {}, { alpha: -1 })).rejects.toThrow(/alpha/);
  });
});
