/**
 * Security over real sockets: API keys (401, 403), per-key rate limits (429 with
 * OpenAI's headers, Retry-After honoured, isolation between keys, concurrent
 * streams), CORS, and no key ever reaching the logs. The full gateway runs on
 * real tiny-model shards; the stream-concurrency check uses a small app with
 * the same middleware and a stream the test controls, so it is deterministic.
 */
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { Hono } from "hono";
import { serve, type ServerType } from "@hono/node-server";
import { loadConfig } from "../../src/config/index.js";
import { startGateway, type Gateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { auth, hashApiKeys, OPEN_PRINCIPAL } from "../../src/server/http/middleware/auth.js";
import { rateLimit } from "../../src/server/http/middleware/rate-limit.js";
import { RateLimiter, formatResetDuration, estimateRequestTokens } from "../../src/server/http/rate-limiter.js";
import { cors } from "../../src/server/http/middleware/cors.js";
import { errorBody, toGatewayError } from "../../src/errors.js";
import type { AppEnv } from "../../src/server/http/env.js";
import { tinyModelPath } from "../helpers/gateway.js";

const KEYS = {
  alpha: "sk-alpha-4f6b2c9e1d7a3058",
  beta: "sk-beta-90c1e2d3f4a5b6c7",
  rpm: "sk-rpm-7e8f9a0b1c2d3e4f",
  tpm: "sk-tpm-a1b2c3d4e5f60718",
  streams: "sk-streams-0f1e2d3c4b5a6978",
} as const;
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const RPM = 120;
/** The per-minute limits' window, shortened so that waiting out a full window stays quick (config `limits.rateWindowMs`). */
const RATE_WINDOW_MS = 10_000;

const logLines: string[] = [];
let gateway: Gateway;
let dataDir: string;
const clientFor = (apiKey: string, maxRetries = 0) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries });
const user = (content: string) => [{ role: "user" as const, content }];

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-security-"));
  const config = loadConfig({
    env: {},
    raw: {
      server: { port: 0, host: "127.0.0.1", corsOrigins: ["https://console.example"] },
      dataDir,
      cache: { enabled: false },
      limits: { rateWindowMs: RATE_WINDOW_MS },
      // Every request in the access log (the default samples successful ones): the most a deployment would ever log.
      telemetry: { accessLogSampleRate: 1 },
      models: [{ name: "tiny", aliases: ["default"], file: await tinyModelPath(), shards: 1, slots: 2, contextSize: 512, threads: 1, fallback: "none" }],
      auth: {
        keys: [
          { key: KEYS.alpha, tenant: "alpha" },
          // Stored as a hash: the config file need not hold the secret.
          { key: `sha256:${sha256(KEYS.beta)}`, tenant: "beta", models: ["some-other-model"] },
          { key: KEYS.rpm, tenant: "rpm", requestsPerMinute: RPM },
          { key: KEYS.tpm, tenant: "tpm", tokensPerMinute: 600 },
          { key: KEYS.streams, tenant: "streams", concurrentStreams: 1 },
        ],
      },
    },
  });
  // Debug level: the most a deployment would ever log.
  const logger = createLogger({ level: "debug", destination: { write: (line: string) => void logLines.push(line) } });
  gateway = await startGateway({ config, logger });
});
afterAll(async () => {
  await gateway?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("authentication", () => {
  it("401 with WWW-Authenticate: Bearer without a key, with a wrong key, with a malformed header", async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: "Bearer sk-wrong-0000000000" }, { authorization: `Basic ${KEYS.alpha}` }, { "x-api-key": "nope-nope-nope" }];
    for (const headers of attempts) {
      const res = await fetch(`${gateway.url}/v1/models`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
      const body = (await res.json()) as ReturnType<typeof errorBody>;
      expect(body.error).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
      expect(JSON.stringify(body)).not.toContain("sk-wrong");
    }
    await expect(clientFor("sk-wrong-0000000000").models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("accepts the key as Bearer or x-api-key; health and readiness stay open", async () => {
    expect((await clientFor(KEYS.alpha).models.list()).data.length).toBeGreaterThan(0);
    expect((await fetch(`${gateway.url}/v1/models`, { headers: { "x-api-key": KEYS.alpha } })).status).toBe(200);
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
  });

  it("accepts a key configured as sha256:<hex>, and 403s a model that key may not use", async () => {
    const beta = clientFor(KEYS.beta);
    // Authenticated (the listing may hide models this key cannot use).
    expect((await beta.models.list().withResponse()).response.status).toBe(200);
    const err = await beta.chat.completions.create({ model: "tiny", messages: user("hi"), max_tokens: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((err as InstanceType<typeof OpenAI.PermissionDeniedError>).code).toBe("model_not_allowed");
    // Same key, alias of the same model: still refused.
    await expect(beta.chat.completions.create({ model: "default", messages: user("hi"), max_tokens: 2 })).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    const ok = await clientFor(KEYS.alpha).chat.completions.create({ model: "tiny", messages: user("hi"), max_tokens: 2 });
    expect(ok.choices[0]!.message.content).toBeTypeOf("string");
  });
});

describe("rate limits", () => {
  /** Sends cheap requests until the first 429; returns it and how many passed. */
  async function exhaust(key: string): Promise<{ limited: Response; passed: number; lastOk: Response }> {
    let lastOk: Response | undefined;
    for (let i = 0; i < RPM * 3; i++) {
      const res = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
      if (res.status === 429) return { limited: res, passed: i, lastOk: lastOk! };
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      lastOk = res;
    }
    throw new Error("never limited");
  }

  it("429 rate_limit_exceeded with Retry-After and OpenAI's x-ratelimit headers; waiting the advertised time is enough", async () => {
    const first = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${KEYS.rpm}` } });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-requests")).toBe(String(RPM));
    expect(Number(first.headers.get("x-ratelimit-remaining-requests"))).toBe(RPM - 1);
    expect(first.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(\.\d+)?(ms|s)$/);
    // Unlimited dimensions are not advertised.
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBeNull();

    const { limited, passed, lastOk } = await exhaust(KEYS.rpm);
    expect(passed).toBeGreaterThanOrEqual(RPM - 2);
    expect(Number(lastOk.headers.get("x-ratelimit-remaining-requests"))).toBeLessThanOrEqual(1);
    const body = (await limited.json()) as ReturnType<typeof errorBody>;
    expect(body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    const retryAfterMs = Number(limited.headers.get("retry-after-ms"));
    expect(retryAfterMs).toBeGreaterThan(0);
    // A sliding window: the wait is until the window's oldest admission leaves it.
    expect(retryAfterMs).toBeLessThanOrEqual(RATE_WINDOW_MS);
    expect(Number(limited.headers.get("retry-after"))).toBe(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    for (const h of ["limit", "remaining", "reset"]) expect(limited.headers.get(`x-ratelimit-${h}-requests`)).toBeTruthy();
    expect(limited.headers.get("x-ratelimit-remaining-requests")).toBe("0");

    // The SDK maps it to RateLimitError.
    await expect(clientFor(KEYS.rpm).models.list()).rejects.toBeInstanceOf(OpenAI.RateLimitError);

    // Honour the advertised wait: then the request passes.
    const again = await exhaust(KEYS.rpm);
    await new Promise((r) => setTimeout(r, Number(again.limited.headers.get("retry-after-ms"))));
    const after = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${KEYS.rpm}` } });
    expect(after.status).toBe(200);

    // And the SDK's own retry (which reads retry-after-ms) gets through on its own.
    await exhaust(KEYS.rpm);
    const started = performance.now();
    const list = await clientFor(KEYS.rpm, 2).models.list();
    expect(list.data.length).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(RATE_WINDOW_MS + 5_000);
  });

  it("one key flooding does not slow or limit another", async () => {
    await exhaust(KEYS.rpm);
    const flood = Promise.all(
      Array.from({ length: 200 }, () => fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${KEYS.rpm}` } }).then((r) => r.status)),
    );
    const alpha = clientFor(KEYS.alpha);
    const results = await Promise.all(Array.from({ length: 20 }, () => alpha.models.list().withResponse()));
    for (const { response } of results) {
      expect(response.status).toBe(200);
      // An unlimited key carries no limit headers at all.
      expect(response.headers.get("x-ratelimit-limit-requests")).toBeNull();
    }
    const chat = await alpha.chat.completions.create({ model: "tiny", messages: user("still here?"), max_tokens: 3 });
    expect(chat.usage!.completion_tokens).toBe(3);
    const statuses = await flood;
    // The flood (well under one window) gets at most the key's limit through; the rest are 429s.
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(RPM);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(200 - RPM);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
  });

  it("tokens per minute: reserved from the request at admission, 429 with token headers when spent", async () => {
    const input = "word ".repeat(200); // ~1000 chars ≈ 250 tokens reserved
    const embed = () =>
      fetch(`${gateway.url}/v1/embeddings`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEYS.tpm}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "tiny", input }),
      });
    const a = await embed();
    expect(a.status).toBe(200);
    expect(a.headers.get("x-ratelimit-limit-tokens")).toBe("600");
    const remainingA = Number(a.headers.get("x-ratelimit-remaining-tokens"));
    expect(remainingA).toBeLessThan(600 - 200);
    const b = await embed();
    expect(b.status).toBe(200);
    expect(Number(b.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThan(remainingA);
    const c = await embed();
    expect(c.status).toBe(429);
    expect(Number(c.headers.get("retry-after-ms"))).toBeGreaterThan(0);
    expect(c.headers.get("x-ratelimit-reset-tokens")).toBeTruthy();
    expect(((await c.json()) as ReturnType<typeof errorBody>).error.message).toMatch(/tokens per minute/);
    // A request refused by validation gets its reservation back.
    const before = Number(c.headers.get("x-ratelimit-remaining-tokens"));
    const bad = await fetch(`${gateway.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEYS.tpm}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", input: "" }),
    });
    expect(bad.status).toBe(400);
    expect(Number(bad.headers.get("x-ratelimit-remaining-tokens"))).toBeGreaterThanOrEqual(before);
  });

  it("concurrent streams are limited per key on the real gateway", async () => {
    // One stream at a time for this key: a stream that finished frees the slot.
    const streams = clientFor(KEYS.streams);
    for (let i = 0; i < 2; i++) {
      const s = await streams.chat.completions.create({ model: "tiny", messages: user("count"), max_tokens: 3, stream: true });
      let n = 0;
      for await (const _ of s) n++;
      expect(n).toBeGreaterThan(0);
    }
    // Non-streamed requests do not take a stream slot.
    await Promise.all([0, 1].map(() => streams.chat.completions.create({ model: "tiny", messages: user("x"), max_tokens: 2 })));
  });
});

describe("rate limit middleware, deterministic", () => {
  let server: ServerType;
  let url: string;
  const releases: Array<() => void> = [];
  const keys = [
    { key: "sk-stream-one-000000", tenant: "one", concurrentStreams: 1, admin: false },
    { key: "sk-stream-two-000000", tenant: "two", concurrentStreams: 2, admin: false },
  ];

  beforeAll(async () => {
    const app = new Hono<AppEnv>();
    app.use(async (c, next) => {
      c.set("principal", OPEN_PRINCIPAL);
      await next();
    });
    app.use("/v1/*", auth({ keys }));
    app.use("/v1/*", rateLimit({ keys, estimatePaths: ["/v1/stream"] }));
    // A stream that stays open until the test releases it.
    app.post("/v1/stream", async (c) => {
      const body = await c.req.json<{ stream?: boolean }>();
      if (!body.stream) return c.json({ ok: true });
      const encoder = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode("data: open\n\n"));
          releases.push(() => {
            try {
              controller.enqueue(encoder.encode("data: [DONE]\n\n"));
              controller.close();
            } catch {
              // The client already cancelled this stream.
            }
          });
        },
      });
      return c.body(stream, 200, { "content-type": "text/event-stream" });
    });
    app.onError((err, c) => {
      const gw = toGatewayError(err);
      return c.json(errorBody(gw), gw.status as 400, gw.headers);
    });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const r of releases.splice(0)) r();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const open = (key: string, stream = true) =>
    fetch(`${url}/v1/stream`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ stream }) });

  it("refuses a second concurrent stream with 429, frees the slot when the stream ends, and never limits another key", async () => {
    const first = await open(keys[0]!.key);
    expect(first.status).toBe(200);
    const reader = first.body!.getReader();
    await reader.read(); // the stream is open

    const second = await open(keys[0]!.key);
    expect(second.status).toBe(429);
    expect(((await second.json()) as ReturnType<typeof errorBody>).error.code).toBe("rate_limit_exceeded");
    expect(second.headers.get("retry-after")).toBeTruthy();
    // Non-streamed requests of the same key are not streams.
    expect((await open(keys[0]!.key, false)).status).toBe(200);
    // Another key has its own slots.
    const other = await open(keys[1]!.key);
    expect(other.status).toBe(200);
    void other.body!.cancel();

    releases.shift()!();
    while (!(await reader.read()).done);
    const third = await open(keys[0]!.key);
    expect(third.status).toBe(200);
    // A client that walks away mid-stream frees its slot too.
    await third.body!.cancel();
    await new Promise((r) => setTimeout(r, 50));
    const fourth = await open(keys[0]!.key);
    expect(fourth.status).toBe(200);
    void fourth.body!.cancel();
  });
});

describe("rate limiter units", () => {
  it("settles reservations against real usage, refunds failures, formats resets like OpenAI", () => {
    let now = 0;
    const limiter = new RateLimiter({ keys: [{ keyId: "k", tokensPerMinute: 1000 }], now: () => now });
    const a = limiter.admit("k", { tokens: 400 });
    expect(limiter.headers("k")["x-ratelimit-remaining-tokens"]).toBe("600");
    a.tokens!.settle(100);
    expect(limiter.headers("k")["x-ratelimit-remaining-tokens"]).toBe("900");
    a.tokens!.settle(0); // idempotent
    expect(limiter.headers("k")["x-ratelimit-remaining-tokens"]).toBe("900");
    // More than the key's tokens/min could never fit: refused, not clamped.
    expect(() => limiter.admit("k", { tokens: 5000 })).toThrow(/Request too large for tokens per minute/);
    const b = limiter.admit("k", { tokens: 900 });
    expect(b.tokens!.reserved).toBe(900);
    expect(() => limiter.admit("k", { tokens: 10 })).toThrow(/tokens per minute/);
    b.tokens!.refund();
    expect(() => limiter.admit("k", { tokens: 10 })).not.toThrow();
    now += 60_000;
    expect(limiter.headers("k")["x-ratelimit-remaining-tokens"]).toBe("1000");
    expect(limiter.admit("nobody").tokens).toBeUndefined();
    expect(formatResetDuration(20)).toBe("20ms");
    expect(formatResetDuration(1500)).toBe("1.5s");
    expect(formatResetDuration(360_000)).toBe("6m0s");
    expect(estimateRequestTokens(JSON.stringify({ messages: [], max_tokens: 7, stream: true }))).toMatchObject({ stream: true });
    expect(estimateRequestTokens("not json").stream).toBe(false);
  });

  it("keeps only hashes and short key ids", () => {
    const [rec] = hashApiKeys([{ key: KEYS.alpha, tenant: "alpha", admin: false }]);
    expect(rec!.keyId).toBe(sha256(KEYS.alpha).slice(0, 12));
    expect(JSON.stringify(rec)).not.toContain(KEYS.alpha);
    expect(() => hashApiKeys([{ key: "sha256:xyz", tenant: "t", admin: false }])).toThrow(/64 hex/);
    // The same key twice (here once plain, once hashed) is ambiguous.
    expect(() =>
      hashApiKeys([
        { key: KEYS.alpha, tenant: "a", admin: false },
        { key: `sha256:${sha256(KEYS.alpha)}`, tenant: "b", admin: false },
      ]),
    ).toThrow(/twice/);
  });
});

describe("cors", () => {
  it("answers preflights for configured origins only, before auth", async () => {
    const pre = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: { origin: "https://console.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
    });
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://console.example");
    const res = await fetch(`${gateway.url}/v1/models`, { headers: { origin: "https://console.example", authorization: `Bearer ${KEYS.alpha}` } });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://console.example");
    expect(res.headers.get("access-control-expose-headers")).toContain("x-ratelimit-remaining-requests");
    const evil = await fetch(`${gateway.url}/v1/models`, { headers: { origin: "https://evil.example", authorization: `Bearer ${KEYS.alpha}` } });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("is off without configured origins", async () => {
    const app = new Hono();
    app.use(cors({ origins: [] }));
    app.get("/", (c) => c.text("ok"));
    const res = await app.request("/", { headers: { origin: "https://console.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("logs", () => {
  it("never contain an API key (valid, wrong or hashed), only tenants and key ids", async () => {
    await fetch(`${gateway.url}/v1/models`, { headers: { authorization: "Bearer sk-leaky-guess-123456" } });
    await fetch(`${gateway.url}/v1/models`, { headers: { "x-api-key": KEYS.alpha } });
    await clientFor(KEYS.alpha).chat.completions.create({ model: "tiny", messages: user("log me not"), max_tokens: 2 });
    const text = logLines.join("");
    expect(text).toContain('"msg":"request"');
    expect(text).toContain('"tenant":"alpha"');
    expect(text).toContain('"tenant":"anonymous"'); // the refused request is not logged as a tenant's
    for (const k of [...Object.values(KEYS), "sk-leaky-guess-123456", sha256(KEYS.beta)]) expect(text).not.toContain(k);
    expect(text).not.toContain("log me not");
  });
});
