/**
 * `switchyard quantize`: rewrites a GGUF's weight matrices in one of ggml's simple block
 * formats (or F16), copying every metadata entry and every other tensor unchanged. For
 * users who only have an F16/F32 file; K-quants (Q4_K_M, ...) are not produced here:
 * download them ready-made.
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { GgmlType, ggufPadding, serializeGgufHeader, type GgmlTypeId, type GgufMetadataValue, type GgufTensorInfo } from "../engine/tiny-model/gguf-writer.js";
import { GGML_BLOCK } from "../engine/tiny-model/gguf-writer.js";
import { decodeTensor, encodeTensor } from "./blocks.js";
import { GgufFormatError, isKnownType, readGgufLayout, readTensorData } from "./gguf-reader.js";

/** Target types: `llama_ftype` value written to `general.file_type` and the ggml type of the matrices. */
export const QUANT_TYPES = {
  f32: { ftype: 0, ggml: GgmlType.F32 },
  f16: { ftype: 1, ggml: GgmlType.F16 },
  q4_0: { ftype: 2, ggml: GgmlType.Q4_0 },
  q4_1: { ftype: 3, ggml: GgmlType.Q4_1 },
  q8_0: { ftype: 7, ggml: GgmlType.Q8_0 },
  q5_0: { ftype: 8, ggml: GgmlType.Q5_0 },
  q5_1: { ftype: 9, ggml: GgmlType.Q5_1 },
} as const;

export type QuantType = keyof typeof QUANT_TYPES;

export function isQuantType(name: string): name is QuantType {
  return Object.hasOwn(QUANT_TYPES, name);
}

export interface QuantizeOptions {
  input: string;
  output: string;
  type: QuantType;
  /** Called after each tensor with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface QuantizeResult {
  /** Tensors rewritten to the target type. */
  converted: number;
  /** Tensors copied unchanged (norms, biases, rows that are not whole blocks). */
  kept: number;
  /** Converted tensors that were already quantized (a second rounding loses more than quantizing once). */
  requantized: number;
  inputBytes: number;
  outputBytes: number;
}

const typeNames = new Map<number, string>(Object.entries(GgmlType).map(([name, id]) => [id, name]));
const isQuantized = (type: GgmlTypeId) => type !== GgmlType.F32 && type !== GgmlType.F16 && type !== GgmlType.BF16;

/**
 * Which type a tensor gets: weight matrices whose rows are whole blocks take the target;
 * vectors (norms, biases) and odd-shaped matrices keep their own type, as llama.cpp's
 * quantizer does for tensors it cannot convert.
 */
function targetFor(tensor: { name: string; dims: readonly number[]; type: GgmlTypeId }, target: GgmlTypeId): GgmlTypeId {
  if (tensor.dims.length < 2 || !tensor.name.endsWith(".weight")) return tensor.type;
  if ((tensor.dims[0] ?? 0) % GGML_BLOCK[target].values !== 0) return tensor.type;
  return target;
}

/**
 * @example
 * ```ts
 * await quantizeGguf({ input: "model-f32.gguf", output: "model-q8_0.gguf", type: "q8_0" });
 * ```
 * @throws GgufFormatError for a file that is not a GGUF, or holds tensor types this tool cannot decode (K-quants, IQ types).
 */
export async function quantizeGguf({ input, output, type, onProgress }: QuantizeOptions): Promise<QuantizeResult> {
  const layout = await readGgufLayout(input);
  if (layout.entries.find((e) => e.key === "general.type")?.value === "adapter") {
    throw new GgufFormatError(`${input} is a LoRA adapter; quantize the base model instead.`);
  }
  const target = QUANT_TYPES[type].ggml;
  const plan: Array<GgufTensorInfo & { from: GgmlTypeId; source: (typeof layout.tensors)[number] }> = [];
  for (const t of layout.tensors) {
    if (!isKnownType(t.type)) {
      throw new GgufFormatError(
        `${input}: tensor ${t.name} has ggml type ${t.type}, which this quantizer cannot decode (it reads F32, F16, BF16, Q8_0, Q4_0/1, Q5_0/1). Start from an F16 or F32 GGUF.`,
      );
    }
    plan.push({ name: t.name, dims: t.dims, type: targetFor({ name: t.name, dims: t.dims, type: t.type }, target), from: t.type, source: t });
  }

  const metadata: Array<readonly [string, GgufMetadataValue]> = layout.entries.map((e) => [e.key, { type: "raw", bytes: e.raw }] as const);
  const setUint32 = (key: string, value: number) => {
    const entry: readonly [string, GgufMetadataValue] = [key, { type: "uint32", value }];
    const at = metadata.findIndex(([k]) => k === key);
    if (at >= 0) metadata[at] = entry;
    else metadata.push(entry);
  };
  // Decoded, so the writer can check it and pad with it.
  if (layout.entries.some((e) => e.key === "general.alignment")) setUint32("general.alignment", layout.alignment);
  setUint32("general.file_type", QUANT_TYPES[type].ftype);
  setUint32("general.quantization_version", 2);

  const header = serializeGgufHeader(metadata, plan);
  const dir = path.dirname(path.resolve(output));
  await mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(output)}.${randomUUID()}.tmp`);
  const result: QuantizeResult = { converted: 0, kept: 0, requantized: 0, inputBytes: 0, outputBytes: 0 };
  const reader = await open(input, "r");
  try {
    const writer = await open(temp, "w");
    try {
      let position = 0;
      const write = async (bytes: Uint8Array) => {
        await writer.write(bytes, 0, bytes.length, position);
        position += bytes.length;
      };
      await write(header);
      for (const [i, t] of plan.entries()) {
        const data = await readTensorData(reader, layout, t.source);
        result.inputBytes += data.length;
        let encoded = data;
        if (t.type !== t.from) {
          const count = t.dims.reduce((a, b) => a * b, 1);
          encoded = encodeTensor(decodeTensor(data, count, t.from), t.type);
          result.converted++;
          if (isQuantized(t.from)) result.requantized++;
        } else result.kept++;
        await write(encoded);
        const padding = ggufPadding(encoded.length, layout.alignment);
        if (padding) await write(new Uint8Array(padding));
        result.outputBytes += encoded.length;
        onProgress?.(i + 1, plan.length);
      }
      await writer.sync();
    } finally {
      await writer.close();
    }
    await rename(temp, output);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  } finally {
    await reader.close();
  }
  return result;
}

/** A readable name of a ggml type id (`Q8_0`), for messages. */
export function ggmlTypeName(type: number): string {
  return typeNames.get(type) ?? `type ${type}`;
}
