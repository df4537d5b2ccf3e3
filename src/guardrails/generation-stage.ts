/**
 * The guardrails as a stage of a generation: redact a request's input
 * (message text, tool-call arguments, tool results, a completion prompt), scan
 * a generation's output chunk by chunk into its stored (redacted) form, and
 * restore the caller's view of stored chunks and results.
 *
 * The pipeline puts {@link GuardedGeneration} *inside* the cache (so the cache
 * keeps only stored forms) and {@link restoreChunk} / {@link restoreResult}
 * outside it (so fresh answers and cache replays are restored alike).
 */
import type { ChatMessage, GeneratedChunk, GenerationInput, GenerationResult, ToolCallFragment } from "../types.js";
import type { OutputStreamScanner, PiiRedaction } from "./pii-guard.js";

/**
 * The input with every caller-written text redacted. Tool definitions are the
 * integrator's, not the end user's, and pass unchanged.
 */
export function redactGenerationInput(redaction: PiiRedaction, input: GenerationInput): GenerationInput {
  if (input.kind === "completion") return { ...input, prompt: redaction.redactInput(input.prompt) };
  return { ...input, messages: input.messages.map((m) => redactMessage(redaction, m)) };
}

function redactMessage(redaction: PiiRedaction, m: ChatMessage): ChatMessage {
  const out: ChatMessage = { ...m, content: redaction.redactInput(m.content) };
  if (m.toolCalls) {
    out.toolCalls = m.toolCalls.map((call) => ({ ...call, function: { ...call.function, arguments: redaction.redactInput(call.function.arguments) } }));
  }
  return out;
}

/**
 * One generation's output scan (one per choice): `chunk` turns each raw chunk
 * into its stored form (text and tool-call arguments scanned with a minimal
 * hold-back), `finish` sends what was held and gives the stored result.
 */
export class GuardedGeneration {
  private readonly text: OutputStreamScanner;
  private readonly calls = new Map<number, OutputStreamScanner>();
  private rawText = "";
  private storedText = "";
  private readonly storedArgs = new Map<number, string>();

  constructor(private readonly redaction: PiiRedaction) {
    this.text = redaction.outputStream();
  }

  chunk(chunk: GeneratedChunk): GeneratedChunk {
    this.rawText += chunk.text;
    const text = this.text.push(chunk.text).stored;
    this.storedText += text;
    const out: GeneratedChunk = { text, tokens: chunk.tokens };
    // The prompt's scored tokens are of the prompt as the model saw it (redacted), as the result's are.
    if (chunk.promptLogprobs) out.promptLogprobs = chunk.promptLogprobs;
    if (chunk.toolCalls) out.toolCalls = chunk.toolCalls.map((f) => this.fragment(f));
    return out;
  }

  /** The held-back remainder as a last chunk (when there is one) and the stored result. */
  finish(result: GenerationResult): { tail?: GeneratedChunk; result: GenerationResult } {
    const tailText = this.text.flush().stored;
    this.storedText += tailText;
    const tailCalls: ToolCallFragment[] = [];
    for (const [index, scanner] of this.calls) {
      const rest = scanner.flush().stored;
      if (rest) {
        tailCalls.push({ index, arguments: rest });
        this.storedArgs.set(index, (this.storedArgs.get(index) ?? "") + rest);
      }
    }
    // Chunks normally add up to the result's text; if a backend reported only a result, scan that instead.
    const text = this.rawText === result.text ? this.storedText : this.redaction.scanOutput(result.text).stored;
    const stored: GenerationResult = { ...result, text };
    if (result.toolCalls) {
      stored.toolCalls = result.toolCalls.map((call, i) => ({
        ...call,
        arguments: this.calls.has(i) ? (this.storedArgs.get(i) ?? "") : this.redaction.scanOutput(call.arguments).stored,
      }));
    }
    const tail: GeneratedChunk | undefined =
      tailText || tailCalls.length ? { text: tailText, tokens: 0, ...(tailCalls.length ? { toolCalls: tailCalls } : {}) } : undefined;
    return tail ? { tail, result: stored } : { result: stored };
  }

  private fragment(f: ToolCallFragment): ToolCallFragment {
    let scanner = this.calls.get(f.index);
    if (!scanner) {
      scanner = this.redaction.outputStream();
      this.calls.set(f.index, scanner);
    }
    const args = scanner.push(f.arguments).stored;
    this.storedArgs.set(f.index, (this.storedArgs.get(f.index) ?? "") + args);
    return { ...f, arguments: args };
  }
}

/** The caller's view of a stored chunk: placeholders of the caller's own values restored (when `restore` is on). */
export function restoreChunk(redaction: PiiRedaction, chunk: GeneratedChunk): GeneratedChunk {
  const out: GeneratedChunk = { ...chunk, text: redaction.restore(chunk.text) };
  if (chunk.toolCalls) out.toolCalls = chunk.toolCalls.map((f) => ({ ...f, arguments: redaction.restore(f.arguments) }));
  return out;
}

/** The caller's view of a stored result. */
export function restoreResult(redaction: PiiRedaction, result: GenerationResult): GenerationResult {
  const out: GenerationResult = { ...result, text: redaction.restore(result.text) };
  if (result.toolCalls) out.toolCalls = result.toolCalls.map((call) => ({ ...call, arguments: redaction.restore(call.arguments) }));
  return out;
}
