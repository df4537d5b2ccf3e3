/**
 * Reads a GGUF file's layout (ggml's docs/gguf.md, versions 2 and 3): every metadata entry
 * kept as its raw encoded bytes (so it can be written back unchanged) plus decoded scalars
 * and strings, the tensor infos, and where the tensor data starts. Tensor data is read on
 * demand, one tensor at a time, so multi-GiB models are never held in memory whole.
 */
import { open, type FileHandle } from "node:fs/promises";
import { GgufValueType, GGML_BLOCK, GGUF_DEFAULT_ALIGNMENT, ggmlTensorByteSize, type GgmlTypeId } from "../engine/tiny-model/gguf-writer.js";

/** One metadata entry: the encoded value (type id included) and, for scalars and strings, its value. */
export interface GgufEntry {
  key: string;
  /** `u32 type` followed by the value, exactly as in the file. */
  raw: Uint8Array;
  value: number | bigint | boolean | string | undefined;
}

export interface GgufTensorLayout {
  name: string;
  dims: number[];
  type: number;
  /** Offset from the start of the data section. */
  offset: number;
}

export interface GgufLayout {
  version: number;
  entries: GgufEntry[];
  tensors: GgufTensorLayout[];
  alignment: number;
  /** Absolute file offset of the data section. */
  dataStart: number;
}

/** Raised for files that are not GGUF or are truncated/corrupt; the message names the file. */
export class GgufFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GgufFormatError";
  }
}

const CHUNK = 1 << 20;
const MAX_STRING = 1 << 28;
const decoder = new TextDecoder();

/** Sequential little-endian reads over a file handle, refilled a megabyte at a time. */
class FileCursor {
  private buffer = new Uint8Array(0);
  private view = new DataView(this.buffer.buffer);
  private start = 0; // file offset of buffer[0]
  private pos = 0; // index into buffer
  private eof = false;
  /** File offset the buffer must keep from (see {@link mark}), or -1. */
  private markAt = -1;

  constructor(
    private readonly handle: FileHandle,
    private readonly file: string,
  ) {}

  get offset(): number {
    return this.start + this.pos;
  }

  private async need(bytes: number): Promise<void> {
    if (this.pos + bytes <= this.buffer.length) return;
    if (this.eof) throw new GgufFormatError(`${this.file}: truncated GGUF header at byte ${this.offset}`);
    const keepFrom = this.markAt >= 0 ? this.markAt - this.start : this.pos;
    const keep = this.buffer.subarray(keepFrom);
    const wanted = this.pos - keepFrom + bytes;
    const next = new Uint8Array(keep.length + Math.max(CHUNK, wanted));
    next.set(keep);
    const { bytesRead } = await this.handle.read(next, keep.length, next.length - keep.length, this.start + this.buffer.length);
    if (bytesRead < next.length - keep.length) this.eof = true;
    this.start += keepFrom;
    this.pos -= keepFrom;
    this.buffer = next.subarray(0, keep.length + bytesRead);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
    if (this.pos + bytes > this.buffer.length) throw new GgufFormatError(`${this.file}: truncated GGUF header at byte ${this.offset}`);
  }

  async u32(): Promise<number> {
    await this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  async u64(): Promise<number> {
    await this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufFormatError(`${this.file}: implausible size ${v} at byte ${this.offset - 8}`);
    return Number(v);
  }
  async bytes(n: number): Promise<Uint8Array> {
    await this.need(n);
    const out = this.buffer.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  async string(): Promise<string> {
    const length = await this.u64();
    if (length > MAX_STRING) throw new GgufFormatError(`${this.file}: string of ${length} bytes at byte ${this.offset - 8}`);
    return decoder.decode(await this.bytes(length));
  }
  /** Keeps everything from the current position buffered until {@link since} is called. */
  mark(): number {
    this.markAt = this.offset;
    return this.markAt;
  }
  /** The bytes read since {@link mark} returned `from`. */
  since(from: number): Uint8Array {
    this.markAt = -1;
    return this.buffer.slice(from - this.start, this.pos);
  }
}

const SCALAR_BYTES: Partial<Record<number, number>> = {
  [GgufValueType.uint8]: 1,
  [GgufValueType.int8]: 1,
  [GgufValueType.uint16]: 2,
  [GgufValueType.int16]: 2,
  [GgufValueType.uint32]: 4,
  [GgufValueType.int32]: 4,
  [GgufValueType.float32]: 4,
  [GgufValueType.bool]: 1,
  [GgufValueType.uint64]: 8,
  [GgufValueType.int64]: 8,
  [GgufValueType.float64]: 8,
};

function decodeScalar(type: number, b: Uint8Array): number | bigint | boolean {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (type) {
    case GgufValueType.uint8:
      return v.getUint8(0);
    case GgufValueType.int8:
      return v.getInt8(0);
    case GgufValueType.uint16:
      return v.getUint16(0, true);
    case GgufValueType.int16:
      return v.getInt16(0, true);
    case GgufValueType.uint32:
      return v.getUint32(0, true);
    case GgufValueType.int32:
      return v.getInt32(0, true);
    case GgufValueType.float32:
      return v.getFloat32(0, true);
    case GgufValueType.bool:
      return v.getUint8(0) !== 0;
    case GgufValueType.uint64:
      return v.getBigUint64(0, true);
    case GgufValueType.int64:
      return v.getBigInt64(0, true);
    default:
      return v.getFloat64(0, true);
  }
}

/**
 * Reads a value of `type`, returning its decoded form for scalars and strings. Arrays are
 * consumed element by element (only their raw bytes are kept by the caller).
 */
async function readValue(cursor: FileCursor, type: number, file: string): Promise<GgufEntry["value"]> {
  const size = SCALAR_BYTES[type];
  if (size !== undefined) return decodeScalar(type, await cursor.bytes(size));
  if (type === GgufValueType.string) return cursor.string();
  if (type === GgufValueType.array) {
    const itemType = await cursor.u32();
    const count = await cursor.u64();
    const itemSize = SCALAR_BYTES[itemType];
    if (itemSize !== undefined) await cursor.bytes(itemSize * count);
    else for (let i = 0; i < count; i++) await readValue(cursor, itemType, file);
    return undefined;
  }
  throw new GgufFormatError(`${file}: unknown GGUF value type ${type} at byte ${cursor.offset - 4}`);
}

/**
 * @example
 * ```ts
 * const layout = await readGgufLayout("model.gguf");
 * layout.tensors.map((t) => t.name); // ["token_embd.weight", ...]
 * ```
 * @throws GgufFormatError when the file is not a GGUF (v2/v3) or is truncated.
 */
export async function readGgufLayout(file: string): Promise<GgufLayout> {
  const handle = await open(file, "r");
  try {
    const cursor = new FileCursor(handle, file);
    const magic = decoder.decode(await cursor.bytes(4));
    if (magic !== "GGUF") throw new GgufFormatError(`${file}: not a GGUF file (magic '${magic.replace(/[^\x20-\x7e]/g, "?")}')`);
    const version = await cursor.u32();
    if (version !== 2 && version !== 3) throw new GgufFormatError(`${file}: unsupported GGUF version ${version} (2 and 3 are)`);
    const tensorCount = await cursor.u64();
    const entryCount = await cursor.u64();
    const entries: GgufEntry[] = [];
    for (let i = 0; i < entryCount; i++) {
      const key = await cursor.string();
      const from = cursor.mark();
      const type = await cursor.u32();
      const value = await readValue(cursor, type, file);
      entries.push({ key, raw: cursor.since(from), value });
    }
    const tensors: GgufTensorLayout[] = [];
    for (let i = 0; i < tensorCount; i++) {
      const name = await cursor.string();
      const nDims = await cursor.u32();
      if (nDims < 1 || nDims > 4) throw new GgufFormatError(`${file}: tensor ${name} has ${nDims} dimensions`);
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) dims.push(await cursor.u64());
      const type = await cursor.u32();
      const offset = await cursor.u64();
      tensors.push({ name, dims, type, offset });
    }
    const alignmentEntry = entries.find((e) => e.key === "general.alignment")?.value;
    const alignment = typeof alignmentEntry === "number" ? alignmentEntry : GGUF_DEFAULT_ALIGNMENT;
    const dataStart = Math.ceil(cursor.offset / alignment) * alignment;
    return { version, entries, tensors, alignment, dataStart };
  } finally {
    await handle.close();
  }
}

/** True when this reader's codecs know `type` (see {@link GGML_BLOCK}). */
export function isKnownType(type: number): type is GgmlTypeId {
  return type in GGML_BLOCK;
}

/** The encoded bytes of one tensor. */
export async function readTensorData(handle: FileHandle, layout: GgufLayout, tensor: GgufTensorLayout): Promise<Uint8Array> {
  if (!isKnownType(tensor.type)) throw new GgufFormatError(`tensor ${tensor.name}: ggml type ${tensor.type} is not supported here`);
  const size = ggmlTensorByteSize(tensor.type, tensor.dims);
  const out = new Uint8Array(size);
  const { bytesRead } = await handle.read(out, 0, size, layout.dataStart + tensor.offset);
  if (bytesRead !== size) throw new GgufFormatError(`tensor ${tensor.name}: file truncated (${bytesRead} of ${size} bytes)`);
  return out;
}
