/** BENCHMARKS.md sections of `bench:lora` and `bench:quantize` (used by bench/report.ts). */
import { markdownTable, round } from "./stats.js";

type Json = Record<string, unknown>;

interface LoraSummary {
  loadMs: number;
  runMs: number;
  tokensPerSecond: number;
  rssMiB: number;
}
interface LoraSample {
  loadMs: number;
  runMs: number;
  tokens: number;
  rssBytes: number;
}

export function loraSection(r: Json | undefined): string {
  if (!r) return "_Not measured yet: run `npm run bench:lora`._";
  const shards = r.shards as LoraSummary;
  const contexts = r.contexts as LoraSummary;
  const samples = r.samples as Record<"shards" | "contexts", LoraSample[]>;
  const best = (s: LoraSample[]) => Math.max(...s.map((x) => x.tokens / (x.runMs / 1000)));
  return [
    `Base + one LoRA alias, ${String(r.requests)} greedy completions of ${String(r.tokens)} tokens per variant, ${String(r.slots)} slots per variant, both variants at once; tiny model, CPU, median of ${String(r.runs)} runs.`,
    "",
    markdownTable(
      ["layout", "decode tok/s vs contexts (median)", "(best run)", "RSS vs contexts", "RSS MiB", "load ms"],
      [
        ["one context per adapter set, 1 process", "1.00", "1.00", "1.00", contexts.rssMiB, contexts.loadMs],
        [
          "dedicated shard per alias, 2 processes (chosen)",
          round(shards.tokensPerSecond / contexts.tokensPerSecond),
          round(best(samples.shards) / best(samples.contexts)),
          round(shards.rssMiB / contexts.rssMiB),
          shards.rssMiB,
          shards.loadMs,
        ],
      ],
    ),
    "",
    "Memory favours contexts: a shard process costs its own Node + llama.cpp runtime (~130 MiB here, where the tiny model's weights are <1 MiB; on CPU",
    "a real model's mmapped weights are shared through the page cache, on a GPU each process uploads its own copy). Throughput was within the noise",
    "of this overloaded 2-core VM (load average ~26 during the run; the median ratio flipped between runs, the best runs are close). Dedicated shards",
    "were chosen for isolation (an adapter set can never share a batch or a crash with another), per-alias scaling (`shards`), and no change to the",
    "pool's slot accounting; several contexts per shard is the memory-saving follow-up for GPUs with many aliases.",
  ].join("\n");
}

interface QuantRow {
  variant: string;
  perplexity: number;
  vsF32: number;
  sizeVsF32: number;
  promptVsF32: number;
  decodeVsF32: number;
}

export function quantizeSection(r: Json | undefined): string {
  if (!r) return "_Not measured yet: run `npm run bench:quantize`._";
  const rows = r.rows as QuantRow[];
  const q8 = rows.find((x) => x.variant === "q8_0");
  const q4 = rows.find((x) => x.variant === "q4_0");
  return [
    `\`switchyard quantize\` of ${String(r.model)} (F32) and \`switchyard eval perplexity\` on test/fixtures/eval/tinystories-style.txt (${String(r.tokens)} tokens, window 256, stride 128), CPU, 1 thread.`,
    "",
    markdownTable(
      ["variant", "perplexity", "vs F32", "file size vs F32", "prompt tok/s vs F32", "decode tok/s vs F32"],
      rows.map((x) => [x.variant, x.perplexity, x.vsF32, x.sizeVsF32, x.promptVsF32, x.decodeVsF32]),
    ),
    "",
    q8 && q4
      ? `q8_0 is within ${round(Math.abs(q8.vsF32 - 1) * 100, 2)}% of F32 (goal: 1%) at ${round(q8.sizeVsF32 * 100, 1)}% of the size; q4_0 costs ${round((q4.vsF32 - 1) * 100, 2)}% perplexity. ` +
        "The speed columns are single measurements on an overloaded shared VM and are not meaningful for a 260K-parameter model (they swing several-fold between runs); perplexity and size are exact and reproducible. " +
        "Tensors whose rows are not whole 32-value blocks (this model's `ffn_down`, 172 wide) stay F32."
      : "",
  ].join("\n");
}
