/**
 * Renders one generation as a Responses API `response` object and, when
 * streamed, as OpenAI's event sequence: `response.created`,
 * `response.in_progress`, a `file_search_call` item when the request grounded
 * the answer with the `file_search` tool (`output_item.added` →
 * `file_search_call.in_progress` → `.searching` → `.completed` →
 * `output_item.done`; the search ran before the model), per output item `output_item.added` →
 * (`content_part.added` → `output_text.delta`… → `output_text.done` →
 * `output_text.annotation.added`… → `content_part.done` | `function_call_arguments.delta`… →
 * `function_call_arguments.done`) → `output_item.done`, then
 * `response.completed` / `response.incomplete` / `response.failed`; every
 * event carries an increasing `sequence_number`. The non-streamed body is the
 * same renderer's final object, so both agree item for item.
 */
import { violationsBlock } from "../generation/schema-stage.js";
import type { GatewayError } from "../../errors.js";
import type { GeneratedChunk, GenerationResult, TokenLogprob } from "../../types.js";
import { newToolCallId } from "../openai/tool-calls.js";
import type { CreateResponseRequest } from "./schemas.js";
import {
  newItemId,
  type ConversationItem,
  type FileCitation,
  type FileSearchCallItem,
  type FileSearchResult,
  type FunctionCallItem,
  type OutputMessageItem,
  type OutputTextPart,
} from "./items.js";

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

/** One streamed event: its `type` is also the SSE event name. */
export interface ResponseEvent {
  type: string;
  sequence_number: number;
  [key: string]: unknown;
}

export interface ResponseRenderContext {
  id: string;
  /** Unix seconds. */
  createdAt: number;
  /** The model name the client asked for. */
  model: string;
  request: CreateResponseRequest;
  /** `include` asked for output-text log probabilities. */
  logprobs: boolean;
  /** The `file_search` tool's run: what it searched for and found (result i is source [i+1] of the prompt). */
  fileSearch?: { queries: string[]; results: FileSearchResult[]; includeResults: boolean } | undefined;
}

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** The `response` object (OpenAI's `Response` schema). */
export type ResponseObject = Record<string, unknown> & { id: string; status: ResponseStatus; output: ConversationItem[] };

function usageOf(result: GenerationResult): ResponseUsage {
  const { promptTokens, completionTokens } = result.usage;
  return {
    input_tokens: promptTokens,
    input_tokens_details: { cached_tokens: result.timings.cachedPromptTokens, cache_write_tokens: 0 },
    output_tokens: completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: promptTokens + completionTokens,
  };
}

/** Output-text `logprobs` entries (OpenAI's `LogProb`). */
function logprobEntries(entries: readonly TokenLogprob[]) {
  return entries.map((e) => ({
    token: e.token,
    logprob: e.logprob,
    bytes: e.bytes,
    top_logprobs: e.top.map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes })),
  }));
}

/**
 * The answer's `file_citation` annotations: one at each `[n]` marker the model wrote (at the
 * marker's offset), then one at the end of the text for each found file it did not cite inline.
 *
 * @example
 * ```ts
 * fileCitations("Within 14 days [1].", [{ file_id: "file-a", filename: "refunds.md", … }]);
 * // [{ type: "file_citation", file_id: "file-a", filename: "refunds.md", index: 15 }]
 * ```
 */
export function fileCitations(text: string, results: readonly FileSearchResult[]): FileCitation[] {
  const out: FileCitation[] = [];
  const cite = (r: FileSearchResult, index: number) => out.push({ type: "file_citation", file_id: r.file_id, filename: r.filename, index });
  for (const m of text.matchAll(/\[(\d{1,3})\]/g)) {
    const r = results[Number(m[1]) - 1];
    if (r) cite(r, m.index);
  }
  const cited = new Set(out.map((a) => a.file_id));
  for (const r of results) {
    if (cited.has(r.file_id)) continue;
    cited.add(r.file_id);
    cite(r, text.length);
  }
  return out;
}

/** The request's tools as the response echoes them (OpenAI's `FunctionTool`). */
function echoTools(req: CreateResponseRequest): unknown[] {
  return (req.tools ?? []).map((t) => ("name" in t ? { type: "function", name: t.name, description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? true } : t));
}

/**
 * @example
 * ```ts
 * const r = new ResponseRenderer(ctx);
 * sse(r.start());
 * for (const chunk of chunks) sse(r.chunk(chunk));
 * const { events, response } = r.finish(result);
 * ```
 */
export class ResponseRenderer {
  private seq = 0;
  private message: { item: OutputMessageItem; text: string; logprobs: TokenLogprob[]; index: number } | undefined;
  private readonly calls = new Map<number, { item: FunctionCallItem; index: number }>();
  private readonly order: Array<{ kind: "message" } | { kind: "call"; index: number } | { kind: "search" }> = [];
  private readonly closed = new Set<number>();
  private readonly search: FileSearchCallItem | undefined;

  constructor(private readonly ctx: ResponseRenderContext) {
    const fs = ctx.fileSearch;
    if (fs) {
      this.search = { id: newItemId("fs"), type: "file_search_call", status: "completed", queries: fs.queries, results: fs.includeResults ? fs.results : null };
      this.order.push({ kind: "search" });
    }
  }

  private event(type: string, body: Record<string, unknown>): ResponseEvent {
    return { type, sequence_number: this.seq++, ...body };
  }

  /** The response object in a given state. */
  response(status: ResponseStatus, extra: { output?: ConversationItem[]; usage?: ResponseUsage; error?: { code: string; message: string } } = {}): ResponseObject {
    const req = this.ctx.request;
    return {
      id: this.ctx.id,
      object: "response",
      created_at: this.ctx.createdAt,
      status,
      background: false,
      completed_at: status === "completed" ? Math.floor(Date.now() / 1000) : null,
      error: extra.error ?? null,
      incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
      instructions: req.instructions ?? null,
      max_output_tokens: req.max_output_tokens ?? null,
      max_tool_calls: req.max_tool_calls ?? null,
      model: this.ctx.model,
      output: extra.output ?? [],
      parallel_tool_calls: req.parallel_tool_calls ?? true,
      previous_response_id: req.previous_response_id ?? null,
      prompt_cache_key: req.prompt_cache_key ?? null,
      reasoning: { effort: null, summary: null },
      safety_identifier: req.safety_identifier ?? null,
      service_tier: "default",
      temperature: req.temperature ?? 1,
      text: { format: req.text?.format ?? { type: "text" }, verbosity: req.text?.verbosity ?? "medium" },
      tool_choice: req.tool_choice ?? "auto",
      tools: echoTools(req),
      top_logprobs: req.top_logprobs ?? 0,
      top_p: req.top_p ?? 1,
      truncation: req.truncation ?? "disabled",
      // The spec types both as optional, not nullable: absent until known / unless given.
      ...(extra.usage ? { usage: extra.usage } : {}),
      ...(req.user ? { user: req.user } : {}),
      metadata: req.metadata ?? {},
    };
  }

  /** `response.created` and `response.in_progress`, then the file search's events. */
  start(): ResponseEvent[] {
    const response = this.response("in_progress");
    const events = [this.event("response.created", { response }), this.event("response.in_progress", { response })];
    if (this.search) {
      const ids = { output_index: 0, item_id: this.search.id };
      events.push(this.event("response.output_item.added", { output_index: 0, item: { ...this.search, status: "in_progress", queries: [], results: null } }));
      events.push(this.event("response.file_search_call.in_progress", ids));
      events.push(this.event("response.file_search_call.searching", ids));
      events.push(this.event("response.file_search_call.completed", ids));
      events.push(this.event("response.output_item.done", { output_index: 0, item: structuredClone(this.search) }));
    }
    return events;
  }

  private outputIndex(): number {
    return this.order.length;
  }

  private openMessage(events: ResponseEvent[]): NonNullable<ResponseRenderer["message"]> {
    if (this.message) return this.message;
    const item: OutputMessageItem = { id: newItemId("msg"), type: "message", role: "assistant", status: "in_progress", content: [] };
    this.message = { item, text: "", logprobs: [], index: this.outputIndex() };
    this.order.push({ kind: "message" });
    events.push(this.event("response.output_item.added", { output_index: this.message.index, item: structuredClone(item) }));
    events.push(
      this.event("response.content_part.added", {
        item_id: item.id,
        output_index: this.message.index,
        content_index: 0,
        part: { type: "output_text", text: "", annotations: [], logprobs: [] },
      }),
    );
    return this.message;
  }

  private openCall(index: number, name: string, events: ResponseEvent[]): { item: FunctionCallItem; index: number } {
    const known = this.calls.get(index);
    if (known) return known;
    this.closeMessage(events, "completed");
    const item: FunctionCallItem = { id: newItemId("fc"), type: "function_call", call_id: newToolCallId(), name, arguments: "", status: "in_progress" };
    const call = { item, index: this.outputIndex() };
    this.calls.set(index, call);
    this.order.push({ kind: "call", index });
    events.push(this.event("response.output_item.added", { output_index: call.index, item: structuredClone(item) }));
    return call;
  }

  private textDelta(text: string, logprobs: readonly TokenLogprob[], events: ResponseEvent[]): void {
    const m = this.openMessage(events);
    m.text += text;
    m.logprobs.push(...logprobs);
    events.push(
      this.event("response.output_text.delta", {
        item_id: m.item.id,
        output_index: m.index,
        content_index: 0,
        delta: text,
        logprobs: this.ctx.logprobs ? logprobEntries(logprobs).map(({ token, logprob, top_logprobs }) => ({ token, logprob, top_logprobs: top_logprobs.map((t) => ({ token: t.token, logprob: t.logprob })) })) : [],
      }),
    );
  }

  private textPart(m: NonNullable<ResponseRenderer["message"]>): OutputTextPart {
    const annotations = this.ctx.fileSearch ? fileCitations(m.text, this.ctx.fileSearch.results) : [];
    return { type: "output_text", text: m.text, annotations, logprobs: this.ctx.logprobs ? logprobEntries(m.logprobs) : [] };
  }

  private closeMessage(events: ResponseEvent[], status: "completed" | "incomplete"): void {
    const m = this.message;
    if (!m || this.closed.has(m.index)) return;
    this.closed.add(m.index);
    const part = this.textPart(m);
    m.item.status = status;
    m.item.content = [part];
    part.annotations.forEach((annotation, i) => {
      events.push(this.event("response.output_text.annotation.added", { item_id: m.item.id, output_index: m.index, content_index: 0, annotation_index: i, annotation }));
    });
    events.push(this.event("response.output_text.done", { item_id: m.item.id, output_index: m.index, content_index: 0, text: m.text, logprobs: [] }));
    events.push(this.event("response.content_part.done", { item_id: m.item.id, output_index: m.index, content_index: 0, part }));
    events.push(this.event("response.output_item.done", { output_index: m.index, item: structuredClone(m.item) }));
  }

  private closeCall(call: { item: FunctionCallItem; index: number }, args: string, status: "completed" | "incomplete", events: ResponseEvent[]): void {
    if (this.closed.has(call.index)) return;
    this.closed.add(call.index);
    call.item.arguments = args;
    call.item.status = status;
    events.push(this.event("response.function_call_arguments.done", { item_id: call.item.id, output_index: call.index, name: call.item.name, arguments: args }));
    events.push(this.event("response.output_item.done", { output_index: call.index, item: structuredClone(call.item) }));
  }

  /** Events for one generated chunk (none when it carries nothing). */
  chunk(chunk: GeneratedChunk): ResponseEvent[] {
    const events: ResponseEvent[] = [];
    if (chunk.text) this.textDelta(chunk.text, chunk.logprobs ?? [], events);
    for (const f of chunk.toolCalls ?? []) {
      const call = this.openCall(f.index, f.name ?? "", events);
      if (f.arguments) {
        call.item.arguments += f.arguments;
        events.push(this.event("response.function_call_arguments.delta", { item_id: call.item.id, output_index: call.index, delta: f.arguments }));
      }
    }
    return events;
  }

  /**
   * Closes every item with the final result (items the stream never opened are opened
   * first, so a stream and a body always list the same output) and ends the response.
   */
  finish(result: GenerationResult): { events: ResponseEvent[]; response: ResponseObject } {
    const events: ResponseEvent[] = [];
    const status = result.finishReason === "length" ? "incomplete" : "completed";
    const calls = result.toolCalls ?? [];
    if (result.text && !this.message) this.textDelta(result.text, result.logprobs ?? [], events);
    if (!result.text && calls.length === 0 && !this.message) this.openMessage(events);
    if (this.message && result.logprobs && this.message.logprobs.length === 0) this.message.logprobs.push(...result.logprobs);
    this.closeMessage(events, status);
    calls.forEach((c, i) => {
      const call = this.openCall(i, c.name, events);
      if (!this.closed.has(call.index) && call.item.arguments === "" && c.arguments) {
        events.push(this.event("response.function_call_arguments.delta", { item_id: call.item.id, output_index: call.index, delta: c.arguments }));
      }
      this.closeCall(call, c.arguments, status, events);
    });
    const output = this.order.map((o) => (o.kind === "message" ? this.message!.item : o.kind === "search" ? this.search! : this.calls.get(o.index)!.item));
    const violations = violationsBlock([result]);
    // Schema violations (README, "Structured output") in the `switchyard` extension block.
    const response = { ...this.response(status, { output: structuredClone(output), usage: usageOf(result) }), ...(violations.schema_violations ? { switchyard: violations } : {}) };
    events.push(this.event(status === "completed" ? "response.completed" : "response.incomplete", { response }));
    return { events, response };
  }

  /** A failure after the stream started: `response.failed` carrying the error. */
  fail(err: GatewayError): ResponseEvent[] {
    const code = err.status === 429 ? "rate_limit_exceeded" : "server_error";
    return [this.event("response.failed", { response: this.response("failed", { error: { code, message: err.message } }) })];
  }
}
