/**
 * Turns a model's `file` setting into a path on disk: a local GGUF, an `hf:`
 * URI (downloaded with a progress bar when online), or the generated tiny model.
 * A missing real model falls back to the tiny one with a loud warning, so a
 * fresh clone with no network still starts.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { resolveModelFile } from "node-llama-cpp";
import { ensureTinyModel } from "./tiny-model/index.js";

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
  fallbackToTiny: boolean;
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
export async function resolveModel(file: string, { modelsDir, dataDir, fallbackToTiny, warn }: ResolveOptions): Promise<ResolvedModelFile> {
  const tiny = async (why: string): Promise<ResolvedModelFile> => {
    if (!fallbackToTiny) throw new Error(why);
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
  if (file.startsWith("hf:") || /^https?:\/\//.test(file)) {
    try {
      const p = await resolveModelFile(file, { directory: modelsDir, download: "auto", cli: process.stderr.isTTY === true });
      return { path: p, identity: identityOf(p), tiny: false };
    } catch (err) {
      return tiny(`Model ${file} is not in ${modelsDir} and could not be downloaded (${err instanceof Error ? err.message.split("\n")[0] : String(err)})`);
    }
  }
  const p = path.resolve(file);
  if (existsSync(p)) return { path: p, identity: identityOf(p), tiny: false };
  return tiny(`Model file ${file} does not exist`);
}
