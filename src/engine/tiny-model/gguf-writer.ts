/**
 * A minimal GGUF v3 serializer: just enough of the format (ggml's docs/gguf.md)
 * to write small llama.cpp models from JavaScript.
 *
 * Layout written:
 *   magic "GGUF" | version u32 | tensor_count u64 | kv_count u64
 *   kv*          (key string, value type u32, value)
 *   tensor_info* (name string, n_dims u32, ne[n_dims] u64, ggml type u32, data offset u64)
 *   padding to `general.alignment`
 *   tensor data, each tensor padded to `general.alignment`
 *
 * All integers are little-endian; strings are a u64 byte length followed by UTF-8 bytes
 * (no terminator).
 */

/** GGUF metadata value type ids (gguf_type in ggml). */
export const GgufValueType = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

/** ggml tensor type ids supported by this writer (ggml.h `enum ggml_type`). */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  BF16: 30,
} as const;

/**
 * Values per block and bytes per block of each type (ggml's `type_traits`): the simple
 * block formats hold 32 values with one f16 scale (`d`), an f16 minimum (`m`, the `_1`
 * variants), the fifth bits (`qh`, Q5) and the packed quants.
 */
export const GGML_BLOCK: Record<GgmlTypeId, { values: number; bytes: number }> = {
  [GgmlType.F32]: { values: 1, bytes: 4 },
  [GgmlType.F16]: { values: 1, bytes: 2 },
  [GgmlType.BF16]: { values: 1, bytes: 2 },
  [GgmlType.Q4_0]: { values: 32, bytes: 2 + 16 },
  [GgmlType.Q4_1]: { values: 32, bytes: 2 + 2 + 16 },
  [GgmlType.Q5_0]: { values: 32, bytes: 2 + 4 + 16 },
  [GgmlType.Q5_1]: { values: 32, bytes: 2 + 2 + 4 + 16 },
  [GgmlType.Q8_0]: { values: 32, bytes: 2 + 32 },
};

/** A ggml tensor type id supported by this writer. */
export type GgmlTypeId = (typeof GgmlType)[keyof typeof GgmlType];

/** Values per Q8_0 block: one f16 scale followed by this many int8 quants. */
export const Q8_0_BLOCK_SIZE = 32;
/** Bytes per Q8_0 block (2-byte f16 scale + 32 int8). */
export const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK_SIZE;

/** Default alignment of the tensor data section (GGUF_DEFAULT_ALIGNMENT). */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** One typed metadata value. Arrays are homogeneous, as GGUF requires. */
export type GgufMetadataValue =
  | { readonly type: "uint32"; readonly value: number }
  | { readonly type: "int32"; readonly value: number }
  | { readonly type: "float32"; readonly value: number }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "string[]"; readonly value: readonly string[] }
  | { readonly type: "float32[]"; readonly value: ArrayLike<number> }
  | { readonly type: "int32[]"; readonly value: ArrayLike<number> }
  /** Copied from another GGUF as is: the u32 value type followed by the encoded value. */
  | { readonly type: "raw"; readonly bytes: Uint8Array };

/** A tensor ready to be written: raw bytes already encoded in `type`. */
export interface GgufTensor {
  readonly name: string;
  /** ggml dimension order: `dims[0]` (ne0) is the innermost, contiguous row length. */
  readonly dims: readonly number[];
  readonly type: GgmlTypeId;
  readonly data: Uint8Array;
}

/** Everything that goes into one GGUF file. */
export interface GgufFile {
  /** Written in this order; keys must be unique. */
  readonly metadata: ReadonlyArray<readonly [string, GgufMetadataValue]>;
  /** Written (info and data) in this order, which llama.cpp requires to match the data offsets. */
  readonly tensors: readonly GgufTensor[];
}

/** Bytes a tensor of `type` and `dims` occupies, validating the shape for block types. */
export function ggmlTensorByteSize(type: GgmlTypeId, dims: readonly number[]): number {
  const elements = dims.reduce((a, b) => a * b, 1);
  const block = GGML_BLOCK[type];
  const rowLength = dims[0] ?? 0;
  if (rowLength % block.values !== 0) {
    const name = Object.entries(GgmlType).find(([, id]) => id === type)?.[0] ?? String(type);
    throw new RangeError(`${name} row length (ne0) must be a multiple of ${block.values}, got ${rowLength}`);
  }
  return (elements / block.values) * block.bytes;
}

const float32Scratch = new Float32Array(1);
const uint32Scratch = new Uint32Array(float32Scratch.buffer);

/**
 * Converts a number to IEEE 754 half-precision bits, rounding to nearest even
 * (Node 20 has no Float16Array, and Q8_0 scales are stored as f16).
 */
export function float32ToFloat16Bits(value: number): number {
  float32Scratch[0] = value;
  const bits = uint32Scratch[0] ?? 0;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;

  if (exponent === 0xff) {
    // Inf stays Inf; NaN keeps a non-zero (quiet) mantissa.
    return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  }
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (halfExponent <= 0) {
    // Subnormal half (or underflow to zero).
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000; // implicit leading 1
    const shift = 14 - halfExponent;
    let half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (possibly to Inf).
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** Encodes float values as a little-endian F32 tensor payload. */
export function encodeF32(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] ?? 0, true);
  return out;
}

/**
 * Quantizes float values to Q8_0 blocks the way ggml's reference quantizer does:
 * per block of 32, scale d = max|x| / 127 and q = round(x / d).
 * `values.length` must be a multiple of 32 (rows are whole blocks).
 */
export function encodeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % Q8_0_BLOCK_SIZE !== 0) {
    throw new RangeError(`Q8_0 needs a multiple of ${Q8_0_BLOCK_SIZE} values, got ${values.length}`);
  }
  const blocks = values.length / Q8_0_BLOCK_SIZE;
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const base = b * Q8_0_BLOCK_SIZE;
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK_SIZE; j++) {
      const a = Math.abs(values[base + j] ?? 0);
      if (a > amax) amax = a;
    }
    const d = amax / 127;
    const inverse = d !== 0 ? 1 / d : 0;
    const offset = b * Q8_0_BLOCK_BYTES;
    view.setUint16(offset, float32ToFloat16Bits(d), true);
    for (let j = 0; j < Q8_0_BLOCK_SIZE; j++) {
      // Two's complement int8; Math.round(-0.5) === -0 which stores as 0, as intended.
      out[offset + 2 + j] = Math.round((values[base + j] ?? 0) * inverse) & 0xff;
    }
  }
  return out;
}

/** Growable little-endian byte sink for the header section. */
class ByteSink {
  private buffer = new Uint8Array(64 * 1024);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(bytes: number): number {
    const start = this.length;
    const needed = start + bytes;
    if (needed > this.buffer.length) {
      let size = this.buffer.length * 2;
      while (size < needed) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buffer.subarray(0, start));
      this.buffer = next;
      this.view = new DataView(next.buffer);
    }
    this.length = needed;
    return start;
  }

  // Each writer reserves before touching `view`: reserve() may swap in a larger buffer.
  u8(value: number): void {
    const offset = this.reserve(1);
    this.view.setUint8(offset, value);
  }
  u32(value: number): void {
    const offset = this.reserve(4);
    this.view.setUint32(offset, value, true);
  }
  i32(value: number): void {
    const offset = this.reserve(4);
    this.view.setInt32(offset, value, true);
  }
  f32(value: number): void {
    const offset = this.reserve(4);
    this.view.setFloat32(offset, value, true);
  }
  u64(value: number): void {
    const offset = this.reserve(8);
    this.view.setBigUint64(offset, BigInt(value), true);
  }
  bytes(data: Uint8Array): void {
    const start = this.reserve(data.length);
    this.buffer.set(data, start);
  }
  string(value: string): void {
    const encoded = textEncoder.encode(value);
    this.u64(encoded.length);
    this.bytes(encoded);
  }
  padTo(alignment: number): void {
    const padding = (alignment - (this.length % alignment)) % alignment;
    this.reserve(padding); // fresh bytes are already zero
  }
  result(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

const textEncoder = new TextEncoder();

function writeValue(sink: ByteSink, value: GgufMetadataValue): void {
  switch (value.type) {
    case "uint32":
      sink.u32(GgufValueType.uint32);
      sink.u32(value.value);
      return;
    case "int32":
      sink.u32(GgufValueType.int32);
      sink.i32(value.value);
      return;
    case "float32":
      sink.u32(GgufValueType.float32);
      sink.f32(value.value);
      return;
    case "bool":
      sink.u32(GgufValueType.bool);
      sink.u8(value.value ? 1 : 0);
      return;
    case "string":
      sink.u32(GgufValueType.string);
      sink.string(value.value);
      return;
    case "string[]":
      sink.u32(GgufValueType.array);
      sink.u32(GgufValueType.string);
      sink.u64(value.value.length);
      for (const item of value.value) sink.string(item);
      return;
    case "float32[]":
      sink.u32(GgufValueType.array);
      sink.u32(GgufValueType.float32);
      sink.u64(value.value.length);
      for (let i = 0; i < value.value.length; i++) sink.f32(value.value[i] ?? 0);
      return;
    case "int32[]":
      sink.u32(GgufValueType.array);
      sink.u32(GgufValueType.int32);
      sink.u64(value.value.length);
      for (let i = 0; i < value.value.length; i++) sink.i32(value.value[i] ?? 0);
      return;
    case "raw":
      sink.bytes(value.bytes);
      return;
  }
}

/** The file's `general.alignment` (default 32); it must be a uint32 power of two. */
export function alignmentOf(metadata: GgufFile["metadata"]): number {
  const entry = metadata.find(([key]) => key === "general.alignment");
  if (entry === undefined) return GGUF_DEFAULT_ALIGNMENT;
  const [, value] = entry;
  // llama.cpp rejects any other type for this key, and non-powers of two.
  if (value.type !== "uint32" || value.value <= 0 || (value.value & (value.value - 1)) !== 0) {
    throw new RangeError("general.alignment must be a uint32 power of two");
  }
  return value.value;
}

/** A tensor's name, shape and type: what the header describes. */
export type GgufTensorInfo = Pick<GgufTensor, "name" | "dims" | "type">;

/**
 * Serializes a GGUF v3 header (metadata, tensor infos, padding) for tensors whose data will
 * follow in this order, each padded to the alignment (see {@link ggufPadding}). Lets a large
 * file be streamed tensor by tensor.
 */
export function serializeGgufHeader(metadata: GgufFile["metadata"], tensors: readonly GgufTensorInfo[]): Uint8Array {
  const alignment = alignmentOf(metadata);
  const keys = new Set<string>();
  for (const [key] of metadata) {
    if (keys.has(key)) throw new Error(`Duplicate GGUF metadata key: ${key}`);
    keys.add(key);
  }

  const header = new ByteSink();
  header.bytes(textEncoder.encode("GGUF"));
  header.u32(3);
  header.u64(tensors.length);
  header.u64(metadata.length);
  for (const [key, value] of metadata) {
    header.string(key);
    writeValue(header, value);
  }
  let dataOffset = 0;
  for (const tensor of tensors) {
    const size = ggmlTensorByteSize(tensor.type, tensor.dims);
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const dim of tensor.dims) header.u64(dim);
    header.u32(tensor.type);
    header.u64(dataOffset);
    // llama.cpp checks each offset equals the previous one plus its padded size.
    dataOffset += size + ggufPadding(size, alignment);
  }
  header.padTo(alignment);
  return header.result();
}

/** Zero bytes that follow `size` bytes of tensor data. */
export function ggufPadding(size: number, alignment: number): number {
  return (alignment - (size % alignment)) % alignment;
}

/**
 * Serializes a GGUF v3 file. Returns the chunks to write in order (header, then each
 * tensor's data and padding) so large tensors are not copied into one buffer.
 */
export function serializeGguf(file: GgufFile): Uint8Array[] {
  const alignment = alignmentOf(file.metadata);
  const chunks: Uint8Array[] = [serializeGgufHeader(file.metadata, file.tensors)];
  for (const tensor of file.tensors) {
    const expected = ggmlTensorByteSize(tensor.type, tensor.dims);
    if (tensor.data.length !== expected) {
      throw new RangeError(`Tensor ${tensor.name}: ${tensor.data.length} bytes, expected ${expected}`);
    }
    chunks.push(tensor.data);
    const padding = ggufPadding(expected, alignment);
    if (padding > 0) chunks.push(new Uint8Array(padding));
  }
  return chunks;
}
