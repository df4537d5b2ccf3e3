/**
 * A capturing OpenAI-compatible upstream for the guardrail tests: records
 * exactly what reaches the "shard" and answers with a scripted text that
 * echoes the last user message and adds a value of its own
 * (`Echo: <last user message>. Reach eve@corp.example soon.`), streamed in
 * 3-character chunks so values split across chunks. `startCaptureGateway`
 * puts a real gateway in front of it.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../../src/config/index.js";
import { startGateway, type Gateway } from "../../src/server/index.js";
import type { Logger } from "../../src/telemetry/logger.js";

export interface Capture {
  url: string;
  /** Every chat request body received, in order. */
  bodies: string[];
  server: Server;
}

/** The value the scripted answer adds of its own (the model's, not the caller's). */
export const MODEL_EMAIL = "eve@corp.example";

/** The scripted answer's streamed pieces (3 characters each), which are also its "tokens". */
export function scriptedTokens(text: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += 3) pieces.push(text.slice(i, i + 3));
  return pieces;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of req) body += String(chunk);
  return body;
}

export async function startCapture(): Promise<Capture> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: [{ id: "cap", object: "model", created: 1, owned_by: "test" }] }));
        return;
      }
      bodies.push(raw);
      const body = JSON.parse(raw) as { messages: Array<{ role: string; content: string }>; stream?: boolean; logprobs?: boolean };
      const last = body.messages.filter((m) => m.role === "user").at(-1)?.content ?? "";
      const text = `Echo: ${last}. Reach ${MODEL_EMAIL} soon.`;
      const base = { id: "x", object: "chat.completion", created: 1, model: "cap" };
      const usage = { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 };
      const pieces = scriptedTokens(text);
      // With `logprobs`, each 3-character piece is one "token" (log probability -0.5, no alternatives).
      const logprobs = (tokens: string[]) =>
        body.logprobs ? { logprobs: { content: tokens.map((token) => ({ token, logprob: -0.5, bytes: [...Buffer.from(token)], top_logprobs: [] })) } } : {};
      if (!body.stream) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ...base, choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop", ...logprobs(pieces) }], usage }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const piece of pieces) {
        res.write(`data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: piece }, finish_reason: null, ...logprobs([piece]) }] })}\n\n`);
      }
      res.write(`data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage })}\n\n`);
      res.end("data: [DONE]\n\n");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, bodies, server };
}

export interface CaptureGateway {
  capture: Capture;
  gateway: Gateway;
  /** Closes the gateway, then the upstream. */
  close(): Promise<void>;
}

/** A real gateway serving the capturing upstream as model `cap`; `raw` is merged over that config. */
export async function startCaptureGateway(raw: Record<string, unknown>, logger: Logger, model: Record<string, unknown> = {}): Promise<CaptureGateway> {
  const capture = await startCapture();
  try {
    const config = loadConfig({
      env: {},
      raw: { server: { port: 0, host: "127.0.0.1" }, models: [{ name: "cap", upstream: capture.url, ...model }], ...raw },
    });
    const gateway = await startGateway({ config, logger });
    return {
      capture,
      gateway,
      close: async () => {
        await gateway.close();
        await new Promise((resolve) => capture.server.close(resolve));
      },
    };
  } catch (err) {
    await new Promise((resolve) => capture.server.close(resolve));
    throw err;
  }
}
