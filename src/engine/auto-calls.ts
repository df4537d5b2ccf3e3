/**
 * Tool calls under `tool_choice: auto`: LlamaChat detects the template's call
 * syntax, constrains the parameters with a grammar and reports them in chunks
 * (`onFunctionCallParamsChunk`). This turns those chunks into tool-call
 * fragments and makes sure every call of the final result was announced.
 */
import type { GeneratedToolCall, ToolCallFragment } from "../types.js";

/**
 * @example
 * ```ts
 * const calls = new AutoCallCollector((fragments) => send({ text: "", tokens: 0, toolCalls: fragments }));
 * await chat.generateResponse(history, { functions, onFunctionCallParamsChunk: (c) => calls.onParamsChunk(c.callIndex, c.functionName, c.paramsChunk) });
 * const toolCalls = calls.finish(res.functionCalls ?? []);
 * ```
 */
export class AutoCallCollector {
  private readonly calls = new Map<number, GeneratedToolCall & { pendingSpace: string }>();

  constructor(private readonly emit: (fragments: ToolCallFragment[]) => void) {}

  onParamsChunk(index: number, name: string, params: string): void {
    const fragments: ToolCallFragment[] = [];
    let call = this.calls.get(index);
    if (!call) {
      call = { name, arguments: "", pendingSpace: "" };
      this.calls.set(index, call);
      fragments.push({ index, name, arguments: "" });
    }
    // The grammar lets the model end a call with newlines; whitespace is held until more JSON follows, so none trails.
    if (params.trim() === "") call.pendingSpace += params;
    else {
      const text = call.pendingSpace + params;
      call.pendingSpace = "";
      call.arguments += text;
      fragments.push({ index, arguments: text });
    }
    if (fragments.length) this.emit(fragments);
  }

  /** Announces calls that produced no parameter chunks; returns the calls in order. */
  finish(functionCalls: ReadonlyArray<{ functionName: string; params: unknown }>): GeneratedToolCall[] {
    functionCalls.forEach((fc, index) => {
      const call = this.calls.get(index);
      if (!call) this.onParamsChunk(index, fc.functionName, JSON.stringify(fc.params ?? {}));
      else if (call.arguments.trim() === "") this.onParamsChunk(index, call.name, JSON.stringify(fc.params ?? {}));
    });
    return [...this.calls.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => ({ name: c.name, arguments: c.arguments }));
  }
}
