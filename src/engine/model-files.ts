/**
 * Turns a model's `file` setting into a path on disk: a local GGUF, an `hf:`
 * URI (downloaded with a progress bar when online), or the generated tiny model.
 * A missing `hf:` model falls back to the tiny one (loud warning) only when its
 * config opts in (`fallback: tiny`, as the shipped default config does), so a fresh
 * clone with no network still starts; a mistyped local path always fails startup.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { resolveModelFile } from "node-llama-cpp";
import { ensureTinyLora, ensureTinyModel } from "./tiny-model/index.js";

export interface ResolvedModelFile {
  path: string;
  /** Identity of the weights for cache keys: name, size, mtime. */
  identity: string;
  /** True when this is the generated tiny model (meaningless text). */
  tiny: boolean;
}

export interface ResolveOptions {
  modelsDir: string;
  dataDir: string;
  /** Serve the tiny model when an `hf:`/URL model is absent and cannot be downloaded. */
  fallbackToTiny: boolean;
  /** The configured model name, for error messages. */
  model?: string;
  warn: (msg: string) => void;
}

export const TINY_MODEL_FILE = "tiny";

/** Where generated models live. */
export function tinyModelDir(dataDir: string): string {
  return path.join(dataDir, "models");
}

function identityOf(file: string): string {
  const st = statSync(file);
  return `${path.basename(file)}:${st.size}:${Math.round(st.mtimeMs)}`;
}

/**
 * @example
 * ```ts
 * const { path } = await resolveModel("hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M", { modelsDir: "models", dataDir: "data", fallbackToTiny: true, warn: console.warn });
 * ```
 */
export async function resolveModel(file: string, { modelsDir, dataDir, fallbackToTiny, model, warn }: ResolveOptions): Promise<ResolvedModelFile> {
  const named = model === undefined ? "" : `model '${model}': `;
  const tiny = async (why: string): Promise<ResolvedModelFile> => {
    if (!fallbackToTiny) throw new Error(`${named}${why} (set \`fallback: tiny\` on the model to serve the generated test model instead)`);
    warn(
      `${why}. Falling back to the generated tiny test model: it runs the real llama.cpp path but its text is MEANINGLESS. ` +
        "See models/README.md to get a real model.",
    );
    const p = await ensureTinyModel(tinyModelDir(dataDir));
    return { path: p, identity: identityOf(p), tiny: true };
  };

  if (file === TINY_MODEL_FILE) {
    const p = await ensureTinyModel(tinyModelDir(dataDir));
    return { path: p, identity: identityOf(p), tiny: true };
  }
  const found = await findFile(file, modelsDir, "Model");
  // A local path is what the operator typed: serving something else would hide the typo.
  if (typeof found !== "string" && !isRemote(file)) throw new Error(`${named}${found.why} (resolved to ${path.resolve(file)})`);
  if (typeof found !== "string") return tiny(found.why);
  return { path: found, identity: identityOf(found), tiny: false };
}

function isRemote(file: string): boolean {
  return file.startsWith("hf:") || /^https?:\/\//.test(file);
}

/** A local path or a remote URI made local; `{ why }` when it is not there. */
async function findFile(file: string, modelsDir: string, noun: "Model" | "Adapter"): Promise<string | { why: string }> {
  if (isRemote(file)) {
    try {
      return await resolveModelFile(file, { directory: modelsDir, download: "auto", cli: process.stderr.isTTY === true });
    } catch (err) {
      return { why: `${noun} ${file} is not in ${modelsDir} and could not be downloaded (${err instanceof Error ? err.message.split("\n")[0] : String(err)})` };
    }
  }
  const p = path.resolve(file);
  return existsSync(p) ? p : { why: `${noun} file ${file} does not exist` };
}

export interface ResolveAdapterOptions extends ResolveOptions {
  /** The base model resolved to the generated tiny model (a real adapter cannot apply to it). */
  baseTiny: boolean;
}

/**
 * Turns an adapter's `file` setting into a path: a local LoRA GGUF, an `hf:` URI (downloaded
 * like models), or `tiny` (the LoRA matching the generated tiny model). When the base model fell
 * back to the tiny one, the adapter falls back to the tiny LoRA too (with a warning), since no
 * real adapter's shapes match it.
 */
export async function resolveAdapter(file: string, { modelsDir, dataDir, fallbackToTiny, warn, baseTiny }: ResolveAdapterOptions): Promise<ResolvedModelFile> {
  const tinyLora = async (): Promise<ResolvedModelFile> => {
    const p = await ensureTinyLora(tinyModelDir(dataDir));
    return { path: p, identity: identityOf(p), tiny: true };
  };
  // llama.cpp checks the shapes at load: on any other base this fails naming the adapter.
  if (file === TINY_MODEL_FILE) return tinyLora();
  if (baseTiny && fallbackToTiny) {
    warn(`The base model is the generated tiny model, so adapter ${file} is replaced by the tiny model's LoRA (its text is meaningless too).`);
    return tinyLora();
  }
  const found = await findFile(file, modelsDir, "Adapter");
  if (typeof found !== "string") throw new Error(found.why);
  return { path: found, identity: identityOf(found), tiny: false };
}
