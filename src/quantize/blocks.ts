/**
 * ggml's simple block formats (ggml-quants.c reference implementations), both ways:
 * Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 hold 32 values per block with an f16 scale `d` (and
 * an f16 minimum `m` for the `_1` variants); F16/BF16/F32 are plain. K-quants are not
 * implemented (download them ready-made).
 */
import { encodeF32, encodeQ8_0, float32ToFloat16Bits, GgmlType, GGML_BLOCK, type GgmlTypeId } from "../engine/tiny-model/gguf-writer.js";

const QK = 32;
const HALF = QK / 2;

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE 754 half-precision bits to a number. */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function bf16BitsToFloat32(bits: number): number {
  u32Scratch[0] = bits << 16;
  return f32Scratch[0]!;
}

/** Extremes of one block: the value with the largest magnitude (signed), the minimum and the maximum. */
function blockStats(x: Float32Array, base: number): { absMax: number; min: number; max: number } {
  let amax = 0;
  let absMax = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let j = 0; j < QK; j++) {
    const v = x[base + j]!;
    if (Math.abs(v) > amax) {
      amax = Math.abs(v);
      absMax = v;
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { absMax, min, max };
}

/**
 * Q4_0 / Q5_0 (symmetric, `bits` = 4 or 5) and Q4_1 / Q5_1 (with minimum): one block layout
 * `d f16 | [m f16] | [qh u32] | qs[16]`, low nibbles holding values 0..15 and high nibbles 16..31.
 */
function encodeBlocks(x: Float32Array, bits: 4 | 5, withMin: boolean, blockBytes: number): Uint8Array {
  const blocks = x.length / QK;
  const out = new Uint8Array(blocks * blockBytes);
  const view = new DataView(out.buffer);
  const levels = 1 << bits;
  for (let b = 0; b < blocks; b++) {
    const base = b * QK;
    const { absMax, min, max } = blockStats(x, base);
    let d: number;
    let offset: number; // added to x * id before truncation
    let lo = 0;
    if (withMin) {
      d = (max - min) / (levels - 1);
      lo = min;
      offset = 0.5;
    } else {
      d = absMax / -(levels / 2);
      offset = levels / 2 + 0.5;
    }
    const id = d !== 0 ? 1 / d : 0;
    let at = b * blockBytes;
    view.setUint16(at, float32ToFloat16Bits(d), true);
    at += 2;
    if (withMin) {
      view.setUint16(at, float32ToFloat16Bits(lo), true);
      at += 2;
    }
    let qh = 0;
    const qhAt = at;
    if (bits === 5) at += 4;
    for (let j = 0; j < HALF; j++) {
      const q0 = Math.min(levels - 1, Math.trunc((x[base + j]! - lo) * id + offset));
      const q1 = Math.min(levels - 1, Math.trunc((x[base + HALF + j]! - lo) * id + offset));
      out[at + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
      if (bits === 5) qh |= (((q0 & 0x10) >>> 4) << j) | (((q1 & 0x10) >>> 4) << (j + HALF));
    }
    if (bits === 5) view.setUint32(qhAt, qh >>> 0, true);
  }
  return out;
}

function decodeBlocks(data: Uint8Array, count: number, bits: 4 | 5 | 8, withMin: boolean, blockBytes: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const center = withMin ? 0 : bits === 8 ? 0 : 1 << (bits - 1);
  for (let b = 0; b < count / QK; b++) {
    let at = b * blockBytes;
    const d = float16BitsToFloat32(view.getUint16(at, true));
    at += 2;
    let m = 0;
    if (withMin) {
      m = float16BitsToFloat32(view.getUint16(at, true));
      at += 2;
    }
    const base = b * QK;
    if (bits === 8) {
      for (let j = 0; j < QK; j++) out[base + j] = view.getInt8(at + j) * d;
      continue;
    }
    let qh = 0;
    if (bits === 5) {
      qh = view.getUint32(at, true);
      at += 4;
    }
    for (let j = 0; j < HALF; j++) {
      const byte = data[at + j]!;
      const h0 = bits === 5 ? ((qh >>> j) << 4) & 0x10 : 0;
      const h1 = bits === 5 ? (qh >>> (j + 12)) & 0x10 : 0;
      out[base + j] = ((byte & 0x0f) | h0) * d - center * d + m;
      out[base + HALF + j] = ((byte >>> 4) | h1) * d - center * d + m;
    }
  }
  return out;
}

/** Encodes `values` (a multiple of 32 long for block types) as tensor data of `type`. */
export function encodeTensor(values: Float32Array, type: GgmlTypeId): Uint8Array {
  const { values: perBlock, bytes } = GGML_BLOCK[type];
  if (values.length % perBlock !== 0) throw new RangeError(`${values.length} values are not whole blocks of ${perBlock}`);
  switch (type) {
    case GgmlType.F32:
      return encodeF32(values);
    case GgmlType.F16: {
      const out = new Uint8Array(values.length * 2);
      const view = new DataView(out.buffer);
      for (let i = 0; i < values.length; i++) view.setUint16(i * 2, float32ToFloat16Bits(values[i]!), true);
      return out;
    }
    case GgmlType.BF16: {
      const out = new Uint8Array(values.length * 2);
      const view = new DataView(out.buffer);
      for (let i = 0; i < values.length; i++) {
        f32Scratch[0] = values[i]!;
        const u = u32Scratch[0]!;
        // Round to nearest even, as ggml's fp32 -> bf16 does (NaN kept quiet).
        view.setUint16(i * 2, (u & 0x7fffffff) > 0x7f800000 ? (u >>> 16) | 64 : (u + (0x7fff + ((u >>> 16) & 1))) >>> 16, true);
      }
      return out;
    }
    case GgmlType.Q8_0:
      return encodeQ8_0(values);
    case GgmlType.Q4_0:
      return encodeBlocks(values, 4, false, bytes);
    case GgmlType.Q4_1:
      return encodeBlocks(values, 4, true, bytes);
    case GgmlType.Q5_0:
      return encodeBlocks(values, 5, false, bytes);
    case GgmlType.Q5_1:
      return encodeBlocks(values, 5, true, bytes);
  }
}

/** Decodes `count` values of tensor data of `type`. */
export function decodeTensor(data: Uint8Array, count: number, type: GgmlTypeId): Float32Array {
  const { bytes } = GGML_BLOCK[type];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (type) {
    case GgmlType.F32: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case GgmlType.F16: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = float16BitsToFloat32(view.getUint16(i * 2, true));
      return out;
    }
    case GgmlType.BF16: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = bf16BitsToFloat32(view.getUint16(i * 2, true));
      return out;
    }
    case GgmlType.Q8_0:
      return decodeBlocks(data, count, 8, false, bytes);
    case GgmlType.Q4_0:
      return decodeBlocks(data, count, 4, false, bytes);
    case GgmlType.Q4_1:
      return decodeBlocks(data, count, 4, true, bytes);
    case GgmlType.Q5_0:
      return decodeBlocks(data, count, 5, false, bytes);
    case GgmlType.Q5_1:
      return decodeBlocks(data, count, 5, true, bytes);
  }
}
