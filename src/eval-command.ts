/**
 * `switchyard eval perplexity --model a.gguf --model b.gguf --text transcripts.jsonl [--budget 2%]`:
 * perplexity and speed of each model on the user's own text, on this machine.
 */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { evaluateModels, formatTable, loadEvalText, pickWithinBudget, remotePerplexity, renderHtml } from "./eval/index.js";

export const EVAL_USAGE = `switchyard eval perplexity --model A.gguf [--model B.gguf ...] --text FILE(.txt|.jsonl|.csv)
  [--context 512] [--stride N (default context/2)] [--threads N] [--cpu]
  [--budget 2%]   name the smallest variant within this perplexity increase of the best
  [--out DIR]     write results.json and report.html (default ./eval-results)
switchyard eval perplexity --url http://host:8080/v1 --model NAME [--model NAME2 ...] --text FILE
  [--api-key KEY] [--context 512] [--stride N] [--out DIR]
                  the same perplexity through an OpenAI-compatible API (/v1/tokenize and
                  /v1/completions with echo + logprobs + max_tokens 0): a Switchyard gateway or vLLM`;

/** `2%`, `0.02` → 0.02. */
export function parseBudget(value: string): number {
  const percent = value.trim().endsWith("%");
  const n = Number(percent ? value.trim().slice(0, -1) : value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--budget: expected a percentage like 2% or a fraction like 0.02, got '${value}'`);
  return percent ? n / 100 : n;
}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got '${value}'`);
  return n;
}

export async function evalCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== "perplexity") throw new Error(`usage: ${EVAL_USAGE}`);
  const { values } = parseArgs({
    args: rest,
    options: {
      model: { type: "string", multiple: true },
      text: { type: "string" },
      context: { type: "string" },
      stride: { type: "string" },
      threads: { type: "string" },
      cpu: { type: "boolean", default: false },
      budget: { type: "string" },
      out: { type: "string", default: "eval-results" },
      url: { type: "string" },
      "api-key": { type: "string" },
    },
  });
  if (!values.model?.length || !values.text) throw new Error(`usage: ${EVAL_USAGE}`);
  const text = await loadEvalText(values.text);
  const contextSize = positiveInt("context", values.context) ?? 512;
  const stride = positiveInt("stride", values.stride);
  if (values.url !== undefined) {
    const results = [];
    for (const model of values.model) {
      console.error(`evaluating ${model} at ${values.url}`);
      const score = await remotePerplexity(text, { url: values.url, model, apiKey: values["api-key"], contextSize, ...(stride === undefined ? {} : { stride }) });
      results.push({ model, url: values.url, ...score });
      console.log(`${model}\tperplexity ${score.perplexity.toFixed(4)}\tover ${score.scored} tokens\t(${score.evaluated} evaluated in ${(score.evalMs / 1000).toFixed(1)} s)`);
    }
    await mkdir(values.out, { recursive: true });
    await writeFile(path.join(values.out, "results.json"), `${JSON.stringify({ text: values.text, url: values.url, contextSize, stride: stride ?? null, results }, null, 2)}\n`);
    console.error(`wrote ${path.join(values.out, "results.json")}`);
    return;
  }
  const budget = values.budget === undefined ? undefined : parseBudget(values.budget);
  const results = await evaluateModels(values.model, text, {
    contextSize,
    ...(stride === undefined ? {} : { stride }),
    threads: positiveInt("threads", values.threads) ?? Math.max(1, os.availableParallelism() - 1),
    gpu: values.cpu ? false : "auto",
    onProgress: (message) => console.error(message),
  });
  const picked = budget === undefined ? undefined : pickWithinBudget(results, budget);
  console.log(formatTable(results, picked));
  if (picked) console.log(`\nWithin ${(budget! * 100).toFixed(2)}% of the best perplexity, the smallest is ${picked.model} (${picked.file}).`);
  await mkdir(values.out, { recursive: true });
  const json = { text: values.text, contextSize, stride: stride ?? null, budget: budget ?? null, picked: picked?.file ?? null, results };
  await writeFile(path.join(values.out, "results.json"), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(path.join(values.out, "report.html"), renderHtml(results, { text: values.text, ...(picked ? { picked } : {}), ...(budget === undefined ? {} : { budget }) }));
  console.error(`wrote ${path.join(values.out, "results.json")} and report.html`);
}
