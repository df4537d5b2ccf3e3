/**
 * Builds a tiny llama-architecture model with random (seeded) weights and a small
 * SentencePiece-style vocabulary, so the real llama.cpp load / tokenize / decode /
 * sample path can run in tests and offline first starts without downloading anything.
 *
 * The weights are noise, so the text is word salad; but the model is shaped so that it
 * is well-behaved for tests: greedy decoding never picks special tokens or
 * non-printable byte tokens (their output rows are zero while every other logit is
 * random with a clearly positive maximum), so generation always runs to max_tokens and
 * yields printable ASCII deterministically.
 */
import {
  GgmlType,
  encodeF32,
  encodeQ8_0,
  type GgufFile,
  type GgufMetadataValue,
  type GgufTensor,
} from "./gguf-writer.js";

/** Fully resolved model shape; see `TinyModelOptions` in index.ts for meanings. */
export interface TinyModelSpec {
  readonly seed: number;
  readonly layers: number;
  readonly width: number;
  readonly heads: number;
  readonly ffn: number;
  readonly contextLength: number;
  /** How the matrices are stored: `q8_0` (default) or `f32` (the unquantized reference). */
  readonly weights: "q8_0" | "f32";
}

/** The standard ChatML template, which node-llama-cpp maps to its ChatMLChatWrapper. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/** llama_token_type values stored in `tokenizer.ggml.token_type`. */
const TokenType = {
  normal: 1,
  unknown: 2,
  control: 3,
  byte: 6,
} as const;

/**
 * Fixed ids of the special tokens: `<unk>`, `<s>`, `</s>` (SentencePiece llama convention),
 * then `<|im_start|>`, `<|im_end|>`. Note the model's EOS is `<|im_end|>`, not `</s>`.
 */
export const SpecialTokenId = {
  unk: 0,
  bos: 1,
  sentenceEnd: 2,
  imStart: 3,
  imEnd: 4,
} as const;

const SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"] as const;
const FIRST_BYTE_TOKEN = SPECIAL_TOKENS.length;

/** SentencePiece's whitespace marker (U+2581), which llama.cpp maps to ' '. */
const SPACE = "\u2581";

// The 200 most common English words, most frequent first (the order feeds the scores'
// tie-break). Capitalised forms are added for the first CAPITALISED_WORDS only, keeping
// the vocabulary near 1000 tokens (a bigger one only grows the embedding/output matrices).
const WORDS = (
  "the of and to a in is it you that he was for on are with as I his they be at one have this from or " +
  "had by not word but what some we can out other were all there when up use your how said an each she " +
  "which do their time if will way about many then them write would like so these her long make thing " +
  "see him two has look more day could go come did number sound no most people my over know water than " +
  "call first who may down side been now find any new work part take get place made live where after " +
  "back little only round man year came show every good me give our under name very through just form " +
  "sentence great think say help low line differ turn cause much mean before move right boy old too " +
  "same tell does set three want air well also play small end put home read hand port large spell add " +
  "even land here must big high such follow act why ask men change went light kind off need house " +
  "picture try us again animal point mother world near build self earth father"
).split(" ");
const CAPITALISED_WORDS = 30;

// Word-internal continuations (no leading space), so inflected forms merge nicely.
const SUFFIXES = ["s", "es", "ed", "ing", "er", "ers", "est", "ly", "tion", "ment", "ness", "ful", "able", "al", "y"];

const PUNCTUATION = Array.from("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
const LETTERS = Array.from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
const DIGITS = Array.from("0123456789");

/** The vocabulary: token texts, SentencePiece scores and llama token types, index = token id. */
export interface TinyVocab {
  readonly tokens: readonly string[];
  readonly scores: Float32Array;
  readonly types: Int32Array;
}

/**
 * Builds the vocabulary. Deterministic and independent of the seed.
 *
 * llama.cpp's SPM tokenizer only reaches a multi-character piece by merging two
 * adjacent pieces that are themselves in the vocabulary, so every prefix of every
 * piece is added too, and longer pieces score higher so that the longest match wins.
 * Anything not covered (e.g. non-ASCII) falls back to the 256 byte tokens.
 */
export function buildVocab(): TinyVocab {
  const pieces: string[] = [];
  const seen = new Set<string>();
  const addWithPrefixes = (piece: string): void => {
    const chars = Array.from(piece);
    for (let end = 1; end <= chars.length; end++) {
      const prefix = chars.slice(0, end).join("");
      if (!seen.has(prefix)) {
        seen.add(prefix);
        pieces.push(prefix);
      }
    }
  };

  addWithPrefixes(SPACE);
  for (const c of [...LETTERS, ...DIGITS, ...PUNCTUATION]) addWithPrefixes(c);
  for (const c of [...LETTERS, ...DIGITS, ...PUNCTUATION]) addWithPrefixes(SPACE + c);
  WORDS.forEach((word, index) => {
    addWithPrefixes(SPACE + word);
    if (index < CAPITALISED_WORDS) addWithPrefixes(SPACE + word.charAt(0).toUpperCase() + word.slice(1));
  });
  for (const suffix of SUFFIXES) addWithPrefixes(suffix);

  const tokens: string[] = [...SPECIAL_TOKENS];
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);
  }
  tokens.push(...pieces);

  const scores = new Float32Array(tokens.length);
  const types = new Int32Array(tokens.length);
  types[SpecialTokenId.unk] = TokenType.unknown;
  for (let id = 1; id < FIRST_BYTE_TOKEN; id++) types[id] = TokenType.control;
  for (let id = FIRST_BYTE_TOKEN; id < FIRST_BYTE_TOKEN + 256; id++) types[id] = TokenType.byte;
  const firstPiece = FIRST_BYTE_TOKEN + 256;
  pieces.forEach((piece, index) => {
    types[firstPiece + index] = TokenType.normal;
    // Length dominates; the small tie-break prefers earlier (more common) pieces.
    scores[firstPiece + index] = Array.from(piece).length - index * 1e-4;
  });
  return { tokens, scores, types };
}

/**
 * Ids whose output logit is pinned to zero: special tokens and byte tokens that would
 * produce non-printable or non-ASCII output (everything but 0x20..0x7E and '\n').
 */
export function silencedTokenIds(): number[] {
  const ids: number[] = Object.values(SpecialTokenId);
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x20 && byte < 0x7f) || byte === 0x0a;
    if (!printable) ids.push(FIRST_BYTE_TOKEN + byte);
  }
  return ids;
}

/** FNV-1a, used to give every tensor its own PRNG stream derived from the seed and its name. */
function fnv1a(text: string, basis: number): number {
  let hash = (0x811c9dc5 ^ basis) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

// Sum of four uniform bytes (Irwin-Hall, n = 4): mean 4 * 127.5, variance 4 * (256^2 - 1) / 12.
const BYTE_SUM_MEAN = 510;
const BYTE_SUM_STD = Math.sqrt((4 * (256 * 256 - 1)) / 12);

/**
 * `count` approximately normal(0, std) samples, bounded to about +-3.5 std.
 *
 * Each sample is the sum of the four bytes of one mulberry32 output (Irwin-Hall), which
 * is bell-shaped enough for random weights and ~3x cheaper than Box-Muller; that matters
 * because the bigger variants have tens of millions of weights. The PRNG is inlined for
 * the same reason. Each tensor gets an independent stream, so changing the layer count
 * does not reshuffle the weights of the other tensors.
 */
function approxNormal(seed: number, name: string, count: number, std: number): Float32Array {
  const out = new Float32Array(count);
  const scale = std / BYTE_SUM_STD;
  let state = fnv1a(name, seed);
  for (let i = 0; i < count; i++) {
    // mulberry32
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    t ^= t >>> 14;
    const byteSum = (t & 0xff) + ((t >>> 8) & 0xff) + ((t >>> 16) & 0xff) + (t >>> 24);
    out[i] = (byteSum - BYTE_SUM_MEAN) * scale;
  }
  return out;
}

/** Builds the complete GGUF (metadata + tensors) for `spec`. */
export function buildTinyModel(spec: TinyModelSpec): GgufFile {
  const { seed, layers, width, heads, ffn, contextLength, weights } = spec;
  const f32 = weights === "f32";
  const encodeMatrix = (values: Float32Array) =>
    f32 ? { type: GgmlType.F32, data: encodeF32(values) } : { type: GgmlType.Q8_0, data: encodeQ8_0(values) };
  const vocab = buildVocab();
  const vocabSize = vocab.tokens.length;
  const headDim = width / heads;
  const name = `switchyard-tiny-l${layers}-w${width}-s${seed}`;

  const metadata: Array<readonly [string, GgufMetadataValue]> = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: name }],
    ["general.alignment", { type: "uint32", value: 32 }],
    ["general.file_type", { type: "uint32", value: f32 ? 0 : 7 }], // LLAMA_FTYPE_ALL_F32 | LLAMA_FTYPE_MOSTLY_Q8_0
    ["general.quantization_version", { type: "uint32", value: 2 }], // GGML_QNT_VERSION
    ["llama.context_length", { type: "uint32", value: contextLength }],
    ["llama.embedding_length", { type: "uint32", value: width }],
    ["llama.block_count", { type: "uint32", value: layers }],
    ["llama.feed_forward_length", { type: "uint32", value: ffn }],
    ["llama.attention.head_count", { type: "uint32", value: heads }],
    ["llama.attention.head_count_kv", { type: "uint32", value: heads }],
    ["llama.rope.dimension_count", { type: "uint32", value: headDim }],
    ["llama.rope.freq_base", { type: "float32", value: 10000 }],
    ["llama.attention.layer_norm_rms_epsilon", { type: "float32", value: 1e-5 }],
    ["llama.vocab_size", { type: "uint32", value: vocabSize }],
    ["tokenizer.ggml.model", { type: "string", value: "llama" }],
    ["tokenizer.ggml.tokens", { type: "string[]", value: vocab.tokens }],
    ["tokenizer.ggml.scores", { type: "float32[]", value: vocab.scores }],
    ["tokenizer.ggml.token_type", { type: "int32[]", value: vocab.types }],
    ["tokenizer.ggml.bos_token_id", { type: "uint32", value: SpecialTokenId.bos }],
    // ChatML models (e.g. Qwen) end a turn with <|im_end|>, so make it both EOS and EOT.
    // llama.cpp also treats "</s>" and "<|im_end|>" as end-of-generation by their text.
    ["tokenizer.ggml.eos_token_id", { type: "uint32", value: SpecialTokenId.imEnd }],
    ["tokenizer.ggml.eot_token_id", { type: "uint32", value: SpecialTokenId.imEnd }],
    ["tokenizer.ggml.unknown_token_id", { type: "uint32", value: SpecialTokenId.unk }],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: true }],
    ["tokenizer.ggml.add_eos_token", { type: "bool", value: false }],
    ["tokenizer.chat_template", { type: "string", value: CHATML_TEMPLATE }],
  ];

  const tensors: GgufTensor[] = [];
  const ones = new Float32Array(width).fill(1);
  const norm = (tensorName: string): GgufTensor => ({
    name: tensorName,
    dims: [width],
    type: GgmlType.F32,
    data: encodeF32(ones),
  });
  // ggml matrices are [ne0 = input width, ne1 = output width]; each output row is contiguous.
  // std = 1/sqrt(fan_in) keeps every projection's output at roughly unit scale.
  const matrix = (tensorName: string, inputs: number, outputs: number, std = 1 / Math.sqrt(inputs)): GgufTensor => ({
    name: tensorName,
    dims: [inputs, outputs],
    ...encodeMatrix(approxNormal(seed, tensorName, inputs * outputs, std)),
  });

  // Unit-scale embeddings: the first RMS norm would normalise them anyway.
  tensors.push(matrix("token_embd.weight", width, vocabSize, 1));
  for (let layer = 0; layer < layers; layer++) {
    const prefix = `blk.${layer}`;
    tensors.push(norm(`${prefix}.attn_norm.weight`));
    tensors.push(matrix(`${prefix}.attn_q.weight`, width, width));
    tensors.push(matrix(`${prefix}.attn_k.weight`, width, width));
    tensors.push(matrix(`${prefix}.attn_v.weight`, width, width));
    tensors.push(matrix(`${prefix}.attn_output.weight`, width, width));
    tensors.push(norm(`${prefix}.ffn_norm.weight`));
    tensors.push(matrix(`${prefix}.ffn_gate.weight`, width, ffn));
    tensors.push(matrix(`${prefix}.ffn_up.weight`, width, ffn));
    tensors.push(matrix(`${prefix}.ffn_down.weight`, ffn, width));
  }
  tensors.push(norm("output_norm.weight"));

  // The normed hidden state has RMS 1, so a logit's std is std * sqrt(width); aim for ~3
  // so the greedy choice has a clear margin and never ties.
  const output = approxNormal(seed, "output.weight", width * vocabSize, 3 / Math.sqrt(width));
  for (const id of silencedTokenIds()) output.fill(0, id * width, (id + 1) * width);
  tensors.push({ name: "output.weight", dims: [width, vocabSize], ...encodeMatrix(output) });

  return { metadata, tensors };
}

/** Shape of a generated LoRA adapter for a tiny model; see `TinyLoraOptions` in index.ts. */
export interface TinyLoraSpec {
  readonly seed: number;
  readonly rank: number;
  readonly alpha: number;
}

/**
 * A LoRA adapter GGUF for the tiny model of `model`, in the layout llama.cpp's
 * `convert_lora_to_gguf.py` writes and `llama_adapter_lora_init` checks:
 * `general.type = adapter`, `adapter.type = lora`, `adapter.lora.alpha`, and for each
 * adapted matrix W ([ne0 = in, ne1 = out]) a pair `<W>.lora_a` ([in, rank]) and
 * `<W>.lora_b` ([rank, out]), applied as W x + scale * (alpha / rank) * B (A x).
 *
 * It adapts every layer's `attn_q`, `attn_v` and `ffn_up` and the output projection,
 * with random low-rank factors scaled so that the adapted model's greedy text clearly
 * differs from the base's. The output rows of silenced tokens stay zero (their `lora_b`
 * rows are zero), so the adapted model keeps the base's printable-ASCII guarantee.
 */
export function buildTinyLora(model: TinyModelSpec, lora: TinyLoraSpec): GgufFile {
  const { layers, width, ffn } = model;
  const { rank, alpha, seed } = lora;
  const vocabSize = buildVocab().tokens.length;
  const metadata: Array<readonly [string, GgufMetadataValue]> = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.type", { type: "string", value: "adapter" }],
    ["general.name", { type: "string", value: `switchyard-tiny-lora-r${rank}-s${seed}` }],
    ["general.alignment", { type: "uint32", value: 32 }],
    ["adapter.type", { type: "string", value: "lora" }],
    ["adapter.lora.alpha", { type: "float32", value: alpha }],
  ];
  const tensors: GgufTensor[] = [];
  // With scale alpha/rank applied by llama.cpp, A x has unit-scale components and the
  // update B A x has a standard deviation of about `outStd` per output.
  const pair = (target: string, inputs: number, outputs: number, outStd: number, silenced: readonly number[] = []): void => {
    const a = approxNormal(seed, `${target}.lora_a`, inputs * rank, 1 / Math.sqrt(inputs));
    const b = approxNormal(seed, `${target}.lora_b`, rank * outputs, (outStd * rank) / alpha / Math.sqrt(rank));
    for (const id of silenced) b.fill(0, id * rank, (id + 1) * rank);
    tensors.push({ name: `${target}.lora_a`, dims: [inputs, rank], type: GgmlType.F32, data: encodeF32(a) });
    tensors.push({ name: `${target}.lora_b`, dims: [rank, outputs], type: GgmlType.F32, data: encodeF32(b) });
  };
  for (let layer = 0; layer < layers; layer++) {
    pair(`blk.${layer}.attn_q.weight`, width, width, 1);
    pair(`blk.${layer}.attn_v.weight`, width, width, 1);
    pair(`blk.${layer}.ffn_up.weight`, width, ffn, 1);
  }
  // Comparable to the base logits' spread (~3), so the greedy choice changes.
  pair("output.weight", width, vocabSize, 3, silencedTokenIds());
  return { metadata, tensors };
}

/**
 * A tiny cross-encoder reranker for tests: the tiny model's weights under llama.cpp's
 * `qwen3` architecture (plus the per-head q/k norms qwen3 has) with rank pooling and a
 * two-label classification head (`cls.output`, labels yes/no, as llama.cpp converts
 * Qwen3-Reranker), so node-llama-cpp's `LlamaRankingContext` runs its real path. Scores
 * are deterministic and meaningless (random weights). qwen3 is the architecture whose
 * loader in the bundled llama.cpp reads `cls.output`; `llama-embed` there does not yet.
 */
export function buildTinyReranker(spec: TinyModelSpec): GgufFile {
  const base = buildTinyModel(spec);
  const arch = "qwen3";
  const metadata: Array<readonly [string, GgufMetadataValue]> = base.metadata.map(([key, value]) => {
    if (key === "general.architecture") return [key, { type: "string", value: arch }] as const;
    return [key.startsWith("llama.") ? `${arch}.${key.slice("llama.".length)}` : key, value] as const;
  });
  metadata.push([`${arch}.pooling_type`, { type: "uint32", value: 4 }]); // LLAMA_POOLING_TYPE_RANK
  metadata.push([`${arch}.classifier.output_labels`, { type: "string[]", value: ["yes", "no"] }]);
  const headDim = spec.width / spec.heads;
  const ones = encodeF32(new Float32Array(headDim).fill(1));
  const tensors: GgufTensor[] = [...base.tensors];
  for (let layer = 0; layer < spec.layers; layer++) {
    tensors.push({ name: `blk.${layer}.attn_q_norm.weight`, dims: [headDim], type: GgmlType.F32, data: ones });
    tensors.push({ name: `blk.${layer}.attn_k_norm.weight`, dims: [headDim], type: GgmlType.F32, data: ones });
  }
  const head = approxNormal(spec.seed, "cls.output.weight", spec.width * 2, 1 / Math.sqrt(spec.width));
  tensors.push({ name: "cls.output.weight", dims: [spec.width, 2], type: GgmlType.F32, data: encodeF32(head) });
  return { metadata, tensors };
}
