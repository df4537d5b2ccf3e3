/**
 * Streams a grammar-forced tool call as OpenAI-style fragments while it is
 * generated. The text is `{"name": "...", "arguments": {...}}` or an array of
 * such objects (the grammar guarantees valid JSON with `name` first); the
 * scanner follows JSON structure character by character, announces a call once
 * its name is complete, then forwards the raw text of `arguments` as it grows.
 */
import type { GeneratedToolCall, ToolCallFragment } from "../types.js";

interface CallState {
  index: number;
  name: string | undefined;
  /** Argument text not yet sent because the name was not known yet. */
  held: string;
  arguments: string;
}

/**
 * @example
 * ```ts
 * const calls = new ForcedCallStream();
 * calls.push('{"name": "get_weather", "argu');   // [{ index: 0, name: "get_weather", arguments: "" }]
 * calls.push('ments": {"city": "Paris"}}');       // [{ index: 0, arguments: '{"city": "Paris"}' }]
 * calls.calls;                                    // [{ name: "get_weather", arguments: '{"city": "Paris"}' }]
 * ```
 */
export class ForcedCallStream {
  private depth = 0;
  /** 1 when the answer is one call object, 2 when it is an array of calls; 0 until known. */
  private callDepth = 0;
  private inString = false;
  private escaped = false;
  /** At call level: the key being read or just read, and whether a value is expected. */
  private key: string | undefined;
  private keyText = "";
  private readingKey = false;
  private readingName = false;
  private nameText = "";
  private inArguments = false;
  private current: CallState | undefined;
  private readonly all: CallState[] = [];

  /** The calls seen so far (complete ones and, after a cut-off, the partial last one). */
  get calls(): GeneratedToolCall[] {
    return this.all.filter((c) => c.name !== undefined).map((c) => ({ name: c.name!, arguments: c.arguments }));
  }

  /** Feeds generated text; returns the fragments it completes. */
  push(text: string): ToolCallFragment[] {
    const out: ToolCallFragment[] = [];
    let args = "";
    const flushArgs = () => {
      if (!args || !this.current) return;
      this.addArguments(this.current, args, out);
      args = "";
    };
    for (const ch of text) {
      if (this.inArguments) {
        args += ch;
        this.trackArguments(ch);
        if (!this.inArguments) {
          // The closing brace of `arguments` was part of it; the call object continues.
          flushArgs();
        }
        continue;
      }
      this.scan(ch, out, flushArgs);
    }
    flushArgs();
    return out;
  }

  private addArguments(call: CallState, text: string, out: ToolCallFragment[]): void {
    call.arguments += text;
    if (call.name === undefined) call.held += text;
    else out.push({ index: call.index, arguments: text });
  }

  /** Structure inside `arguments`: only depth and strings matter, every character is forwarded. */
  private trackArguments(ch: string): void {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (ch === "\\") this.escaped = true;
      else if (ch === '"') this.inString = false;
      return;
    }
    if (ch === '"') this.inString = true;
    else if (ch === "{" || ch === "[") this.depth++;
    else if (ch === "}" || ch === "]") {
      this.depth--;
      if (this.depth === this.callDepth) this.inArguments = false;
    }
  }

  private scan(ch: string, out: ToolCallFragment[], flushArgs: () => void): void {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (ch === "\\") this.escaped = true;
      else if (ch === '"') {
        this.inString = false;
        this.endString(out);
        return;
      }
      if (this.readingKey) this.keyText += ch;
      if (this.readingName) this.nameText += ch;
      return;
    }
    switch (ch) {
      case '"':
        this.inString = true;
        if (this.depth === this.callDepth && this.key === undefined) {
          this.readingKey = true;
          this.keyText = "";
        } else if (this.depth === this.callDepth && this.key === "name") {
          this.readingName = true;
          this.nameText = "";
        }
        return;
      case "{":
      case "[":
        if (this.callDepth === 0) this.callDepth = ch === "[" ? 2 : 1;
        if (ch === "{" && this.depth === this.callDepth - 1) this.startCall();
        else if (this.depth === this.callDepth && this.key === "arguments") {
          this.depth++;
          this.inArguments = true;
          // The opening brace is the first character of the arguments.
          if (this.current) this.addArguments(this.current, ch, out);
          return;
        }
        this.depth++;
        return;
      case "}":
      case "]":
        this.depth--;
        flushArgs();
        return;
      case ",":
        if (this.depth === this.callDepth) this.key = undefined;
        return;
      default:
        // ':' and whitespace need no action; scalar `arguments` values are not produced by our schemas.
        return;
    }
  }

  private startCall(): void {
    this.current = { index: this.all.length, name: undefined, held: "", arguments: "" };
    this.all.push(this.current);
    this.key = undefined;
  }

  private endString(out: ToolCallFragment[]): void {
    if (this.readingKey) {
      this.readingKey = false;
      this.key = decodeJsonString(this.keyText);
      return;
    }
    if (this.readingName && this.current) {
      this.readingName = false;
      this.current.name = decodeJsonString(this.nameText);
      out.push({ index: this.current.index, name: this.current.name, arguments: "" });
      if (this.current.held) {
        out.push({ index: this.current.index, arguments: this.current.held });
        this.current.held = "";
      }
    }
  }
}

function decodeJsonString(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}
