/**
 * Tiny llama-architecture GGUF models with seeded random weights, generated on the fly
 * so tests and offline first starts exercise the real llama.cpp path with no download.
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { buildTinyModel, type TinyModelSpec } from "./generate.js";
import { serializeGguf } from "./gguf-writer.js";

/** Shape and seed of a generated tiny model. */
export interface TinyModelOptions {
  /** PRNG seed for weights (an unsigned 32-bit integer). Default 42. */
  seed?: number;
  /** Transformer blocks. Default 2. */
  layers?: number;
  /** Embedding width (multiple of 32). Default 64. */
  width?: number;
  /** Attention heads; must divide `width` into an even head size. Default 4. */
  heads?: number;
  /** Feed-forward width (multiple of 32). Default `2 * width` (128 for width 64). */
  ffn?: number;
  /** Training context length written to metadata. Default 2048. */
  contextLength?: number;
}

const DEFAULT_SEED = 42;
const DEFAULT_LAYERS = 2;
const DEFAULT_WIDTH = 64;
const DEFAULT_HEADS = 4;
const DEFAULT_CONTEXT_LENGTH = 2048;

function requireInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`TinyModelOptions.${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

function resolveSpec(options: TinyModelOptions = {}): TinyModelSpec {
  const width = options.width ?? DEFAULT_WIDTH;
  const spec: TinyModelSpec = {
    seed: options.seed ?? DEFAULT_SEED,
    layers: options.layers ?? DEFAULT_LAYERS,
    width,
    heads: options.heads ?? DEFAULT_HEADS,
    ffn: options.ffn ?? 2 * width,
    contextLength: options.contextLength ?? DEFAULT_CONTEXT_LENGTH,
  };
  requireInteger("seed", spec.seed, 0, 0xffffffff);
  requireInteger("layers", spec.layers, 1, 256);
  requireInteger("width", spec.width, 32, 16384);
  requireInteger("heads", spec.heads, 1, spec.width);
  requireInteger("ffn", spec.ffn, 32, 65536);
  requireInteger("contextLength", spec.contextLength, 1, 0xffffffff);
  // Q8_0 rows are blocks of 32 values, and every matrix row is `width` or `ffn` long.
  if (spec.width % 32 !== 0) throw new RangeError(`TinyModelOptions.width must be a multiple of 32, got ${spec.width}`);
  if (spec.ffn % 32 !== 0) throw new RangeError(`TinyModelOptions.ffn must be a multiple of 32, got ${spec.ffn}`);
  // RoPE rotates pairs of dimensions, so the head size must be even.
  const headDim = spec.width / spec.heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new RangeError(`TinyModelOptions.heads (${spec.heads}) must split width ${spec.width} into even-sized heads`);
  }
  return spec;
}

/**
 * File name for a spec, e.g. `tiny-l2-w64-s42.gguf`. Options left at their defaults are
 * omitted to keep the common names short; everything that changes the bytes is encoded.
 */
function fileNameFor(spec: TinyModelSpec): string {
  let name = `tiny-l${spec.layers}-w${spec.width}`;
  if (spec.heads !== DEFAULT_HEADS) name += `-h${spec.heads}`;
  if (spec.ffn !== 2 * spec.width) name += `-f${spec.ffn}`;
  if (spec.contextLength !== DEFAULT_CONTEXT_LENGTH) name += `-c${spec.contextLength}`;
  return `${name}-s${spec.seed}.gguf`;
}

/**
 * Writes the model to `filePath` (creating its directory), atomically: the bytes go to a
 * temporary file in the same directory which is then renamed over `filePath`, so readers
 * never see a partial file.
 * The output is a pure function of the options (same options, same bytes).
 * @throws RangeError when the options do not describe a valid model.
 */
export async function writeTinyModel(filePath: string, options?: TinyModelOptions): Promise<void> {
  const chunks = serializeGguf(buildTinyModel(resolveSpec(options)));
  const dir = path.dirname(filePath);
  await mkdir(dir, { recursive: true });
  // Same directory as the target, so the rename cannot cross file systems.
  const tempPath = path.join(dir, `.${path.basename(filePath)}.${randomUUID()}.tmp`);
  try {
    const handle = await open(tempPath, "w");
    try {
      // Batched because writev is bounded by the OS's IOV_MAX (1024 on Linux).
      for (let i = 0; i < chunks.length; i += 512) {
        const batch = chunks.slice(i, i + 512);
        const expected = batch.reduce((sum, chunk) => sum + chunk.length, 0);
        const { bytesWritten } = await handle.writev(batch);
        // A short write is only possible past ~2 GiB per call on Linux; never silently truncate.
        if (bytesWritten !== expected) throw new Error(`Short write to ${tempPath}: ${bytesWritten} of ${expected} bytes`);
      }
      // Make the content durable before the rename publishes it.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tempPath, filePath);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
}

/**
 * Returns the path of the tiny model for these options inside `dir` (creating `dir`),
 * generating the file only if it is absent. Safe when several processes call it at once:
 * each writes its own temporary file and the atomic rename makes the last one win with
 * identical bytes.
 * @throws RangeError when the options do not describe a valid model.
 */
export async function ensureTinyModel(dir: string, options?: TinyModelOptions): Promise<string> {
  const spec = resolveSpec(options);
  const filePath = path.join(dir, fileNameFor(spec));
  try {
    if ((await stat(filePath)).isFile()) return filePath;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  await writeTinyModel(filePath, spec);
  return filePath;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ENOENT";
}
