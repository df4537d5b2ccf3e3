/**
 * Tiny llama-architecture GGUF models with seeded random weights, generated on the fly
 * so tests and offline first starts exercise the real llama.cpp path with no download.
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { buildTinyLora, buildTinyModel, buildTinyReranker, type TinyLoraSpec, type TinyModelSpec } from "./generate.js";
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
  /**
   * How the matrices are stored: `q8_0` (default, what serving uses) or `f32` (an
   * unquantized reference for `switchyard quantize` and perplexity comparisons).
   */
  weights?: "q8_0" | "f32";
}

/** A tiny LoRA adapter matching a tiny model (see `buildTinyLora`). */
export interface TinyLoraOptions {
  /** PRNG seed for the low-rank factors. Default 7. */
  seed?: number;
  /** Rank of the A/B factors. Default 8. */
  rank?: number;
  /** `adapter.lora.alpha`; llama.cpp scales the update by `scale * alpha / rank`. Default = rank. */
  alpha?: number;
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
    weights: options.weights ?? "q8_0",
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
  if (spec.weights !== "q8_0") name += `-${spec.weights}`;
  return `${name}-s${spec.seed}.gguf`;
}

const DEFAULT_LORA_SEED = 7;
const DEFAULT_LORA_RANK = 8;

function resolveLoraSpec(options: TinyLoraOptions = {}): TinyLoraSpec {
  const rank = options.rank ?? DEFAULT_LORA_RANK;
  const spec: TinyLoraSpec = { seed: options.seed ?? DEFAULT_LORA_SEED, rank, alpha: options.alpha ?? rank };
  requireInteger("lora seed", spec.seed, 0, 0xffffffff);
  requireInteger("lora rank", spec.rank, 1, 256);
  if (!(spec.alpha > 0) || !Number.isFinite(spec.alpha)) throw new RangeError(`TinyLoraOptions.alpha must be a positive number, got ${spec.alpha}`);
  return spec;
}

/** File name of the adapter for a model spec, e.g. `tiny-l2-w64-s42.lora-r8-a8-s7.gguf`. */
function loraFileNameFor(model: TinyModelSpec, lora: TinyLoraSpec): string {
  // The adapter's shapes depend on the base's shape only, never on its weights' storage.
  const base = fileNameFor({ ...model, weights: "q8_0" }).replace(/\.gguf$/, "");
  return `${base}.lora-r${lora.rank}-a${lora.alpha}-s${lora.seed}.gguf`;
}

/**
 * Writes the model to `filePath` (creating its directory), atomically: the bytes go to a
 * temporary file in the same directory which is then renamed over `filePath`, so readers
 * never see a partial file.
 * The output is a pure function of the options (same options, same bytes).
 * @throws RangeError when the options do not describe a valid model.
 */
export async function writeTinyModel(filePath: string, options?: TinyModelOptions): Promise<void> {
  await writeGgufAtomically(filePath, serializeGguf(buildTinyModel(resolveSpec(options))));
}

/**
 * Writes the LoRA adapter matching the tiny model of `modelOptions` to `filePath`, atomically.
 * Same options, same bytes.
 * @throws RangeError when the options do not describe a valid model or adapter.
 */
export async function writeTinyLora(filePath: string, modelOptions?: TinyModelOptions, loraOptions?: TinyLoraOptions): Promise<void> {
  await writeGgufAtomically(filePath, serializeGguf(buildTinyLora(resolveSpec(modelOptions), resolveLoraSpec(loraOptions))));
}

/**
 * Writes serialized GGUF chunks to `filePath` (creating its directory), atomically: the bytes
 * go to a temporary file in the same directory which is then renamed over `filePath`, so
 * readers never see a partial file.
 */
export async function writeGgufAtomically(filePath: string, chunks: readonly Uint8Array[]): Promise<void> {
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
  if (!(await isFile(filePath))) await writeTinyModel(filePath, spec);
  return filePath;
}

/**
 * Returns the path of a tiny reranker GGUF (the tiny model of `options` with a
 * classification head and rank pooling, see `buildTinyReranker`) inside `dir`, generating
 * it only if absent (same concurrency guarantees as {@link ensureTinyModel}).
 * @throws RangeError when the options do not describe a valid model.
 */
export async function ensureTinyReranker(dir: string, options?: TinyModelOptions): Promise<string> {
  const spec = resolveSpec(options);
  const filePath = path.join(dir, fileNameFor(spec).replace(/\.gguf$/, ".rerank.gguf"));
  if (!(await isFile(filePath))) await writeGgufAtomically(filePath, serializeGguf(buildTinyReranker(spec)));
  return filePath;
}

/**
 * Returns the path of the LoRA adapter matching the tiny model of `modelOptions` inside
 * `dir`, generating it only if absent (same concurrency guarantees as {@link ensureTinyModel}).
 * @throws RangeError when the options do not describe a valid model or adapter.
 */
export async function ensureTinyLora(dir: string, modelOptions?: TinyModelOptions, loraOptions?: TinyLoraOptions): Promise<string> {
  const model = resolveSpec(modelOptions);
  const lora = resolveLoraSpec(loraOptions);
  const filePath = path.join(dir, loraFileNameFor(model, lora));
  if (!(await isFile(filePath))) await writeGgufAtomically(filePath, serializeGguf(buildTinyLora(model, lora)));
  return filePath;
}

async function isFile(filePath: string): Promise<boolean> {
  try {
    return (await stat(filePath)).isFile();
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ENOENT";
}
