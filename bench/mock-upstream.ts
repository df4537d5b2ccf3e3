/**
 * A mock OpenAI-compatible upstream with a fixed, configurable speed: the
 * first token after `ttftMs`, then `tokensPerSecond`. Deterministic text,
 * exact usage. It stands in for a model server when measuring what the gateway
 * itself costs (bench/overhead.ts), and in tests.
 *
 *   POST /v1/chat/completions   stream and not, stream_options.include_usage
 *   POST /v1/completions        stream and not
 *   GET  /v1/models
 *
 * Output is `tokens` tokens (fewer when `max_tokens` is lower, then
 * finish_reason "length"), token k being {@link mockToken}(k). Prompt tokens are
 * the whitespace-separated words of the prompt: a stand-in tokenizer, but a
 * consistent one.
 */
import { serve, type ServerType } from "@hono/node-server";
import { Hono, type Context } from "hono";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface MockUpstreamOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Time from request to first token. */
  ttftMs: number;
  /** Decode speed after the first token; 0 or Infinity = all at once. */
  tokensPerSecond: number;
  /** Output length when `max_tokens` allows it. */
  tokens: number;
  /** Names listed by GET /v1/models (any name is accepted in requests). Default ["mock"]. */
  models?: string[];
}

export interface MockUpstream {
  /** `http://127.0.0.1:<port>`, without `/v1`. */
  url: string;
  /** Generation requests received so far (chat and completions). */
  generations(): number;
  close(): Promise<void>;
}

const WORDS = ["The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "while", "seven", "wizards", "quietly", "judge", "boxing", "matches"];

/**
 * Token `k` of every mock completion.
 * @example mockToken(0) // "The"; mockToken(1) // " quick"
 */
export function mockToken(k: number): string {
  return `${k === 0 ? "" : " "}${WORDS[k % WORDS.length]}`;
}

/**
 * The full text of an `n`-token mock completion.
 * @example mockText(3) // "The quick brown"
 */
export function mockText(n: number): string {
  return Array.from({ length: n }, (_, k) => mockToken(k)).join("");
}

type Kind = "chat" | "completion";

interface Parsed {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  promptTokens: number;
  maxTokens: number | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

function contentWords(content: unknown): number {
  if (typeof content === "string") return words(content);
  if (Array.isArray(content)) return content.reduce<number>((n, p) => n + (isObject(p) && typeof p.text === "string" ? words(p.text) : 0), 0);
  return 0;
}

function invalid(c: Context, message: string, param: string | null): Response {
  return c.json({ error: { message, type: "invalid_request_error", param, code: null } }, 400);
}

function parse(kind: Kind, body: unknown): Parsed | { message: string; param: string | null } {
  if (!isObject(body)) return { message: "The body must be a JSON object.", param: null };
  if (typeof body.model !== "string" || !body.model) return { message: "model is required.", param: "model" };
  let promptTokens: number;
  if (kind === "chat") {
    if (!Array.isArray(body.messages) || body.messages.length === 0) return { message: "messages must be a non-empty array.", param: "messages" };
    promptTokens = body.messages.reduce<number>((n, m) => n + (isObject(m) ? contentWords(m.content) : 0), 0);
  } else {
    const prompt = body.prompt;
    if (typeof prompt === "string") promptTokens = words(prompt);
    else if (Array.isArray(prompt) && prompt.every((p) => typeof p === "string")) promptTokens = prompt.reduce<number>((n, p) => n + words(p), 0);
    else return { message: "prompt must be a string or an array of strings.", param: "prompt" };
  }
  const max = body.max_completion_tokens ?? body.max_tokens;
  const opts = body.stream_options;
  return {
    model: body.model,
    stream: body.stream === true,
    includeUsage: isObject(opts) && opts.include_usage === true,
    promptTokens: Math.max(1, promptTokens),
    maxTokens: typeof max === "number" && max > 0 ? Math.floor(max) : undefined,
  };
}

function generationHandler(kind: Kind, opts: MockUpstreamOptions, counter: { n: number }) {
  const interval = opts.tokensPerSecond > 0 && Number.isFinite(opts.tokensPerSecond) ? 1000 / opts.tokensPerSecond : 0;
  return async (c: Context): Promise<Response> => {
    const arrived = performance.now();
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return invalid(c, "The body is not valid JSON.", null);
    }
    const req = parse(kind, body);
    if ("message" in req) return invalid(c, req.message, req.param);
    const n = Math.min(opts.tokens, req.maxTokens ?? opts.tokens);
    const finish = n < opts.tokens ? "length" : "stop";
    const usage = { prompt_tokens: req.promptTokens, completion_tokens: n, total_tokens: req.promptTokens + n };
    const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-mock${++counter.n}`;
    const created = Math.floor(Date.now() / 1000);
    const object = kind === "chat" ? "chat.completion" : "text_completion";
    /** When token k is due, in performance.now() time. */
    const due = (k: number) => arrived + opts.ttftMs + k * interval;

    if (!req.stream) {
      const wait = due(Math.max(0, n - 1)) - performance.now();
      if (wait > 0) await sleep(wait);
      const text = mockText(n);
      const choice = kind === "chat" ? { index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs: null, finish_reason: finish } : { index: 0, text, logprobs: null, finish_reason: finish };
      return c.json({ id, object, created, model: req.model, choices: [choice], usage });
    }

    const chunkObject = kind === "chat" ? "chat.completion.chunk" : "text_completion";
    const usageNull = req.includeUsage ? { usage: null } : {};
    const chunk = (choice: Record<string, unknown>) => ({ id, object: chunkObject, created, model: req.model, choices: [choice], ...usageNull });
    const piece = (text: string, finishReason: string | null) =>
      kind === "chat" ? chunk({ index: 0, delta: text ? { content: text } : {}, logprobs: null, finish_reason: finishReason }) : chunk({ index: 0, text, logprobs: null, finish_reason: finishReason });
    const encoder = new TextEncoder();
    const abort = new AbortController();
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (data: unknown) => controller.enqueue(encoder.encode(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`));
        try {
          if (kind === "chat") send(chunk({ index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null }));
          let k = 0;
          while (k < n) {
            const wait = due(k) - performance.now();
            if (wait > 0) await sleep(wait, undefined, { signal: abort.signal });
            // Send every token now due in one write: timers are coarser than fast decode rates.
            let text = "";
            while (k < n && due(k) <= performance.now() + 0.5) text += mockToken(k++);
            send(piece(text, null));
          }
          send(piece("", finish));
          if (req.includeUsage) send({ id, object: chunkObject, created, model: req.model, choices: [], usage });
          send("[DONE]");
          controller.close();
        } catch {
          // The client went away (cancel aborted the sleep): nothing left to send.
        }
      },
      cancel() {
        abort.abort();
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" } });
  };
}

/**
 * @example
 * ```ts
 * const mock = await startMockUpstream({ ttftMs: 20, tokensPerSecond: 200, tokens: 16 });
 * const client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: "unused" });
 * await mock.close();
 * ```
 */
export async function startMockUpstream(opts: MockUpstreamOptions): Promise<MockUpstream> {
  const counter = { n: 0 };
  const models = opts.models ?? ["mock"];
  const app = new Hono();
  app.get("/v1/models", (c) => c.json({ object: "list", data: models.map((id) => ({ id, object: "model", created: 0, owned_by: "mock" })) }));
  app.post("/v1/chat/completions", generationHandler("chat", opts, counter));
  app.post("/v1/completions", generationHandler("completion", opts, counter));
  app.notFound((c) => c.json({ error: { message: `No route ${c.req.method} ${c.req.path}.`, type: "invalid_request_error", param: null, code: "not_found" } }, 404));

  const host = opts.host ?? "127.0.0.1";
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: opts.port ?? 0, hostname: host }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    generations: () => counter.n,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets would hold close() open until they time out.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
