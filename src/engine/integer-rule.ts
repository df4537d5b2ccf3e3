/**
 * node-llama-cpp 3.22's JSON-schema grammar writes `type: integer` as
 * `"-"? ("0" | [1-9] [0-9]{0,15}) ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?`:
 * an integer may come back as `560E97`. The gateway's own grammars
 * (src/structured-output) never allow that, but under `tool_choice: auto`
 * LlamaChat builds the parameters' grammar itself, from node-llama-cpp's
 * `GbnfNumber` terminal. This replaces that terminal's integer rule with one
 * without an exponent (and without `-0`), once per process. node-llama-cpp is
 * pinned to an exact version; `test/standalone/structured-output-gbnf.test.ts`
 * checks the rule after the patch, so an upgrade that moves the file fails there.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

/** The integer rule node-llama-cpp's grammars use after {@link fixNodeLlamaIntegerRule}. */
export const INTEGER_RULE = '"0" | "-"? [1-9] [0-9]{0,15}';

interface GbnfNumberClass {
  prototype: { allowFractional: boolean; getGrammar(): string };
}

let patched: Promise<void> | undefined;

/**
 * Idempotent; resolves once node-llama-cpp's integer terminal is fixed.
 *
 * @example
 * ```ts
 * await fixNodeLlamaIntegerRule();
 * (await llama.createGrammarForJsonSchema({ type: "integer" })).grammar; // no [eE] in the integer rule
 * ```
 */
export function fixNodeLlamaIntegerRule(): Promise<void> {
  patched ??= (async () => {
    // Not in the package's exports map: imported by file URL, the same module instance LlamaChat uses.
    const url = new URL("./utils/gbnfJson/terminals/GbnfNumber.js", pathToFileURL(createRequire(import.meta.url).resolve("node-llama-cpp")));
    const { GbnfNumber } = (await import(url.href)) as { GbnfNumber: GbnfNumberClass };
    const original = GbnfNumber.prototype.getGrammar;
    GbnfNumber.prototype.getGrammar = function getGrammar(this: GbnfNumberClass["prototype"]): string {
      return this.allowFractional ? original.call(this) : INTEGER_RULE;
    };
  })();
  return patched;
}
