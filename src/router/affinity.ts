/**
 * Prefix affinity without tokenizing in the gateway: a request becomes a chain
 * of hashes, one per message (or per 512-character block of a raw prompt), each
 * covering everything before it. A slot remembers the chain of what its KV cache
 * holds; the longest common chain prefix approximates the longest token prefix.
 */
import { createHash } from "node:crypto";
import type { GenerationInput } from "../types.js";

const BLOCK = 512;

function link(prev: string, part: string): string {
  return createHash("sha1").update(prev).update("\u0000").update(part).digest("base64url");
}

/** Hash chain of an input, optionally followed by the model's answer to it. */
export function prefixChain(input: GenerationInput, output?: string): string[] {
  const chain: string[] = [];
  let prev = "";
  if (input.kind === "chat") {
    for (const m of input.messages) chain.push((prev = link(prev, `${m.role}\u0001${m.content}`)));
    if (output !== undefined) chain.push(link(prev, `assistant\u0001${output}`));
    return chain;
  }
  const text = input.prompt + (output ?? "");
  for (let i = 0; i < text.length; i += BLOCK) chain.push((prev = link(prev, text.slice(i, i + BLOCK))));
  return chain;
}

export function commonPrefixLength(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
