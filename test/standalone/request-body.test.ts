/**
 * The request body on the hot path, over real sockets in front of a mock
 * upstream (no shard process): read from the Node request, refused with the
 * caller API's envelope when it is too deep (a 5,000-deep body is a 400
 * naming the parameter, never a stack-overflow 500), not valid UTF-8 (a 400,
 * never replaced with U+FFFD), or over the limit with or without a declared
 * length (413); the access log samples successful requests and always logs
 * errors; the overhead header reaches JSON, SSE and /healthz answers; a
 * client that disconnects mid-stream frees its upstream slot, and one that
 * leaves an embeddings request cancels the upstream call.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream, type MockUpstream } from "../../bench/mock-upstream.js";
import { loadConfig } from "../../src/config/index.js";
import { startGateway, type Gateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { tooDeep } from "../../src/server/http/body.js";

const LIMIT = 64 * 1024;
let upstream: MockUpstream;
/** 2,000 tokens at 200/s: a stream that runs 10 s unless aborted. */
let slowUpstream: MockUpstream;
/** An upstream whose embeddings never answer; resolves `embeddingGone` when the gateway closes such a request. */
let hangingUpstream: http.Server;
let embeddingArrived!: () => void;
const embeddingStarted = new Promise<void>((resolve) => (embeddingArrived = resolve));
let embeddingClosed!: () => void;
const embeddingGone = new Promise<void>((resolve) => (embeddingClosed = resolve));
let gateway: Gateway;
let dataDir: string;
const logLines: string[] = [];
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  upstream = await startMockUpstream({ ttftMs: 5, tokensPerSecond: 200, tokens: 12 });
  slowUpstream = await startMockUpstream({ ttftMs: 5, tokensPerSecond: 200, tokens: 2000 });
  hangingUpstream = http.createServer((req, res) => {
    if (req.method === "GET") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ object: "list", data: [{ id: "e", object: "model", created: 0, owned_by: "test" }] }));
      return;
    }
    req.resume();
    embeddingArrived();
    res.once("close", () => embeddingClosed());
  });
  await new Promise<void>((resolve) => hangingUpstream.listen(0, "127.0.0.1", resolve));
  const hangingUrl = `http://127.0.0.1:${(hangingUpstream.address() as AddressInfo).port}`;
  dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-body-"));
  const config = loadConfig({
    env: {},
    raw: {
      server: { port: 0, host: "127.0.0.1", bodyLimitBytes: LIMIT },
      dataDir,
      // No successful request is logged; every error is.
      telemetry: { accessLogSampleRate: 0 },
      models: [
        { name: "m", upstream: `${upstream.url}/v1`, upstreamModel: "mock" },
        { name: "slow", upstream: `${slowUpstream.url}/v1`, upstreamModel: "mock" },
        { name: "emb", upstream: `${hangingUrl}/v1`, upstreamModel: "e" },
      ],
    },
  });
  gateway = await startGateway({ config, logger: createLogger({ level: "info", destination: { write: (line: string) => void logLines.push(line) } }) });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gateway.url, apiKey: "unused", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  await slowUpstream?.close();
  hangingUpstream?.closeAllConnections();
  await new Promise((resolve) => hangingUpstream?.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
});

/** `{"a":{"a":…1…}}`, `depth` objects deep. */
function deepObject(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

/** The same as JSON text, built without recursion. */
const deepText = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

/** A raw request over a socket: bytes as given, chunked when `chunked` (no Content-Length). */
function rawPost(pathname: string, body: Buffer, { chunked = false } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const url = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: pathname,
        method: "POST",
        headers: { "content-type": "application/json", ...(chunked ? {} : { "content-length": body.length }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> });
          } catch {
            reject(new Error(`${res.statusCode} answered with a body that is not JSON: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on("error", reject);
    if (chunked) {
      // Several writes with no declared length: Node sends them chunked.
      for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.subarray(i, i + 16 * 1024));
      req.end();
    } else req.end(body);
  });
}

const chatBody = (extra: Record<string, unknown> = {}) => ({ model: "m", messages: [{ role: "user", content: "hello" }], max_tokens: 4, ...extra });

describe("JSON nesting depth", () => {
  // The official clients cannot send 5,000 levels (their own recursion overflows first): raw bodies.
  it("a 5,000-deep metadata value is a 400 naming the parameter", async () => {
    const body = `{"model":"m","max_tokens":4,"messages":[{"role":"user","content":"hi"}],"metadata":${deepText(5000)}}`;
    const res = await rawPost("/v1/chat/completions", Buffer.from(body));
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: "invalid_request_error", param: "metadata.a.a.a", code: "json_too_deep" });
  });

  it("a body just past the bound is refused the same way, through the OpenAI client", async () => {
    const err = await openai.chat.completions
      .create({ ...chatBody(), metadata: deepObject(200) as Record<string, string> } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.status).toBe(400);
    expect(e.type).toBe("invalid_request_error");
    expect(e.code).toBe("json_too_deep");
    expect(e.param).toBe("metadata.a.a.a");
  });

  it("a deep content array names messages[0].content[0] (the first four levels)", async () => {
    const content = `${"[".repeat(5000)}${"]".repeat(5000)}`;
    const body = `{"model":"m","max_tokens":4,"messages":[{"role":"user","content":${content}}]}`;
    const res = await rawPost("/v1/chat/completions", Buffer.from(body));
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: "invalid_request_error", param: "messages[0].content[0]", code: "json_too_deep" });
  });

  it("uses Anthropic's envelope on /v1/messages", async () => {
    const body = `{"model":"m","max_tokens":4,"messages":[{"role":"user","content":"hi"}],"metadata":{"user_id":${deepText(5000)}}}`;
    const res = await rawPost("/v1/messages", Buffer.from(body));
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(JSON.stringify(res.json)).toContain("metadata.user_id");
  });

  it("uses Anthropic's envelope on /v1/messages (Anthropic client, just past the bound)", async () => {
    const err = await anthropic.messages
      .create({ model: "m", max_tokens: 4, messages: [{ role: "user", content: "hi" }], metadata: { user_id: deepObject(200) as string } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const e = err as InstanceType<typeof Anthropic.BadRequestError>;
    expect(e.status).toBe(400);
    expect(e.error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(JSON.stringify(e.error)).toContain("metadata.user_id");
  });

  it("nesting within the bound still passes (a 100-deep metadata value reaches validation)", async () => {
    const res = await rawPost("/v1/chat/completions", Buffer.from(JSON.stringify(chatBody({ metadata: { k: JSON.stringify(deepObject(100)) } }))));
    expect(res.status).toBe(200);
    const deepButBounded = await rawPost("/v1/chat/completions", Buffer.from(JSON.stringify(chatBody({ metadata: deepObject(100) }))));
    // Deep enough to parse, refused by the schema (metadata values are strings), not by the depth bound.
    expect(deepButBounded.status).toBe(400);
    expect((deepButBounded.json.error as { code: string }).code).not.toBe("json_too_deep");
  });

  it("tooDeep ignores brackets inside strings and reports the path", () => {
    expect(tooDeep(JSON.stringify({ s: "[[[[[[[[[[[[" }), 3)).toBeUndefined();
    expect(tooDeep('{"a":[[1]]}', 2)).toEqual({ param: "a[0]" });
    expect(tooDeep('{"a":[1,{"b":{"c":1}}]}', 3)).toEqual({ param: "a[1].b" });
    expect(tooDeep('{"a":"\\"[[[","b":{}}', 1)).toEqual({ param: "b" });
  });
});

describe("UTF-8", () => {
  it("invalid bytes in a JSON body are a 400, not replaced", async () => {
    const head = Buffer.from('{"model":"m","max_tokens":4,"messages":[{"role":"user","content":"caf');
    const tail = Buffer.from('"}]}');
    const res = await rawPost("/v1/chat/completions", Buffer.concat([head, Buffer.from([0xc3, 0x28]), tail]));
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: "invalid_request_error", code: "invalid_encoding" });
  });

  it("valid multi-byte text passes", async () => {
    const res = await rawPost("/v1/chat/completions", Buffer.from(JSON.stringify(chatBody({ messages: [{ role: "user", content: "café ☕ 𝄞" }] }))));
    expect(res.status).toBe(200);
  });
});

describe("body limit", () => {
  const big = Buffer.from(JSON.stringify(chatBody({ messages: [{ role: "user", content: "x".repeat(LIMIT) }] })));

  it("a declared Content-Length over the limit is a 413", async () => {
    const res = await rawPost("/v1/chat/completions", big);
    expect(res.status).toBe(413);
    expect(res.json.error).toMatchObject({ type: "invalid_request_error" });
  });

  it("a chunked body over the limit is a 413, counted as it is read", async () => {
    const res = await rawPost("/v1/chat/completions", big, { chunked: true });
    expect(res.status).toBe(413);
  });

  it("a chunked body under the limit is read whole", async () => {
    const res = await rawPost("/v1/chat/completions", Buffer.from(JSON.stringify(chatBody({ messages: [{ role: "user", content: "y".repeat(LIMIT / 2) }] }))), { chunked: true });
    expect(res.status).toBe(200);
  });
});

describe("hot path", () => {
  it("sets x-switchyard-overhead-ms on JSON, SSE and /healthz answers", async () => {
    const json = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chatBody()) });
    await json.text();
    expect(Number(json.headers.get("x-switchyard-overhead-ms"))).toBeGreaterThanOrEqual(0);
    const sse = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chatBody({ stream: true })) });
    await sse.text();
    expect(sse.headers.get("x-switchyard-overhead-ms")).toMatch(/^\d+\.\d\d$/);
    const health = await fetch(`${gateway.url}/healthz`);
    expect(await health.json()).toEqual({ status: "ok" });
    expect(health.headers.get("x-switchyard-overhead-ms")).toMatch(/^\d+\.\d\d$/);
  });

  it("streams every event, in order, through the official client (frames coalesced per tick)", async () => {
    const stream = await openai.chat.completions.create({ ...chatBody({ max_tokens: 12 }), stream: true, stream_options: { include_usage: true } } as OpenAI.ChatCompletionCreateParamsStreaming);
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe("The quick brown fox jumps over the lazy dog while seven wizards");
    expect(usage?.completion_tokens).toBe(12);
  });

  it("logs errors always and successful requests per the sample rate (0 here)", async () => {
    logLines.length = 0;
    await (await fetch(`${gateway.url}/healthz`)).text();
    await rawPost("/v1/chat/completions", Buffer.from("{not json"));
    const requests = logLines.map((l) => JSON.parse(l) as { msg: string; status?: number; path?: string }).filter((l) => l.msg === "request");
    expect(requests).toEqual([expect.objectContaining({ status: 400, path: "/v1/chat/completions" })]);
  });

  it("a client that leaves mid-stream frees its upstream slot", async () => {
    const url = new URL(gateway.url);
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path: "/v1/chat/completions", method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", () => undefined);
      req.setTimeout(10_000, () => reject(new Error("no first chunk")));
      req.end(JSON.stringify(chatBody({ model: "slow", stream: true, max_tokens: 4000 })));
    });
    const running = () => gateway.registry.snapshot().reduce((n, p) => n + p.running, 0);
    // Well before the 10 s the answer would take.
    for (let i = 0; i < 150 && running() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(running()).toBe(0);
  });

  it("a client that leaves an embeddings request cancels the upstream call", async () => {
    const url = new URL(gateway.url);
    const req = http.request({ host: url.hostname, port: url.port, path: "/v1/embeddings", method: "POST", headers: { "content-type": "application/json" } });
    req.on("error", () => undefined);
    req.end(JSON.stringify({ model: "emb", input: "hello" }));
    await embeddingStarted;
    req.destroy();
    // The upstream sees its request closed: the gateway aborted the call rather than waiting on it.
    const closed = await Promise.race([embeddingGone.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
    expect(closed).toBe(true);
  });
});
