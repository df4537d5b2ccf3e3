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
import type { ChatMessage, GeneratedChunk, GenerationInput, GenerationResult, TokenLogprob, ToolCallFragment } from "../types.js";
import type { OutputStreamScanner, PiiRedaction } from "./pii-guard.js";
import { LogprobTracker } from "./text-edits.js";

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
  /** The tokens' log probabilities, released as their text is scanned; those of replaced values dropped. */
  private readonly logprobs = new LogprobTracker("drop");
  private readonly storedLogprobs: TokenLogprob[] = [];
  private sawLogprobs = false;

  constructor(private readonly redaction: PiiRedaction) {
    this.text = redaction.outputStream();
  }

  chunk(chunk: GeneratedChunk): GeneratedChunk {
    this.rawText += chunk.text;
    const scan = this.text.push(chunk.text);
    this.storedText += scan.stored;
    const out: GeneratedChunk = { text: scan.stored, tokens: chunk.tokens };
    if (chunk.logprobs) {
      this.sawLogprobs = true;
      this.logprobs.add(chunk.logprobs);
    }
    this.logprobs.advance(scan.consumed, scan.edits);
    const logprobs = this.logprobs.release();
    if (logprobs.length) {
      out.logprobs = logprobs;
      this.storedLogprobs.push(...logprobs);
    }
    // The prompt's scored tokens are of the prompt as the model saw it (redacted), as the result's are.
    if (chunk.promptLogprobs) out.promptLogprobs = chunk.promptLogprobs;
    if (chunk.toolCalls) out.toolCalls = chunk.toolCalls.map((f) => this.fragment(f));
    return out;
  }

  /** The held-back remainder as a last chunk (when there is one) and the stored result. */
  finish(result: GenerationResult): { tail?: GeneratedChunk; result: GenerationResult } {
    const tailScan = this.text.flush();
    const tailText = tailScan.stored;
    this.storedText += tailText;
    this.logprobs.advance(tailScan.consumed, tailScan.edits);
    const tailLogprobs = this.logprobs.release(true);
    this.storedLogprobs.push(...tailLogprobs);
    const tailCalls: ToolCallFragment[] = [];
    for (const [index, scanner] of this.calls) {
      const rest = scanner.flush().stored;
      if (rest) {
        tailCalls.push({ index, arguments: rest });
        this.storedArgs.set(index, (this.storedArgs.get(index) ?? "") + rest);
      }
    }
    // Chunks normally add up to the result's text; if a backend reported only a result, scan that instead.
    const streamed = this.rawText === result.text;
    const whole = streamed ? undefined : this.redaction.scanOutputEdits(result.text);
    const stored: GenerationResult = { ...result, text: whole ? whole.stored : this.storedText };
    if (result.logprobs) {
      if (streamed && this.sawLogprobs) stored.logprobs = this.storedLogprobs;
      else {
        const tracker = new LogprobTracker("drop");
        tracker.add(result.logprobs);
        const scan = whole ?? this.redaction.scanOutputEdits(result.text, false);
        tracker.advance(scan.consumed, scan.edits);
        stored.logprobs = tracker.release(true);
      }
    }
    if (result.toolCalls) {
      stored.toolCalls = result.toolCalls.map((call, i) => ({
        ...call,
        arguments: this.calls.has(i) ? (this.storedArgs.get(i) ?? "") : this.redaction.scanOutput(call.arguments).stored,
      }));
    }
    const tail: GeneratedChunk | undefined =
      tailText || tailCalls.length || tailLogprobs.length
        ? { text: tailText, tokens: 0, ...(tailLogprobs.length ? { logprobs: tailLogprobs } : {}), ...(tailCalls.length ? { toolCalls: tailCalls } : {}) }
        : undefined;
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

/**
 * The caller's view of one generation's stored chunks, in order: placeholders of the caller's own values
 * restored (when `restore` is on), the tokens' offsets moved to match.
 */
export class RestoredGeneration {
  private readonly logprobs = new LogprobTracker("move");

  constructor(private readonly redaction: PiiRedaction) {}

  chunk(chunk: GeneratedChunk): GeneratedChunk {
    const out = restoreChunk(this.redaction, chunk);
    if (!chunk.logprobs) return out;
    const { edits } = this.redaction.restoreEdits(chunk.text);
    this.logprobs.add(chunk.logprobs);
    this.logprobs.advance(chunk.text.length, edits);
    out.logprobs = this.logprobs.release(true);
    return out;
  }
}

/** The caller's view of a stored chunk: placeholders of the caller's own values restored (when `restore` is on). Offsets: see {@link RestoredGeneration}. */
export function restoreChunk(redaction: PiiRedaction, chunk: GeneratedChunk): GeneratedChunk {
  const out: GeneratedChunk = { ...chunk, text: redaction.restore(chunk.text) };
  if (chunk.toolCalls) out.toolCalls = chunk.toolCalls.map((f) => ({ ...f, arguments: redaction.restore(f.arguments) }));
  return out;
}

/** The caller's view of a stored result. */
export function restoreResult(redaction: PiiRedaction, result: GenerationResult): GenerationResult {
  const { text, edits } = redaction.restoreEdits(result.text);
  const out: GenerationResult = { ...result, text };
  if (result.logprobs && edits.length) {
    const tracker = new LogprobTracker("move");
    tracker.add(result.logprobs);
    tracker.advance(result.text.length, edits);
    out.logprobs = tracker.release(true);
  }
  if (result.toolCalls) out.toolCalls = result.toolCalls.map((call) => ({ ...call, arguments: redaction.restore(call.arguments) }));
  return out;
}
