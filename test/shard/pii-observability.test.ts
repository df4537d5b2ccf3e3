/**
 * Nothing raw anywhere the gateway keeps or emits: a real gateway with
 * redaction on, retrieval over a real LanceDB collection whose documents hold
 * personal data, content recording on in the spans, debug logs, and the
 * response cache in a real redis-server. After a run of grounded and plain
 * requests (streamed and not), the test reads back what was actually kept:
 * every request body the upstream received, every exported span (attributes
 * and events), every pino log line and every key in Redis (exact and
 * semantic cache entries) — and asserts that
 * no caller's, document's or model's raw email, phone, card or IBAN is in any
 * of them, while the placeholders are (so the inspection itself can fail).
 */
import { Writable } from "node:stream";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { tracing } from "@opentelemetry/sdk-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, shutdownTracing, startTracing } from "../../src/telemetry/index.js";
import { MODEL_EMAIL, startCaptureGateway, type CaptureGateway } from "../helpers/capture-upstream.js";
import { hasRedisServer, startRedisServer, type RedisServer } from "../helpers/redis-server.js";

process.env.LANCEDB_LOG ??= "error";

const KEY = "sk-pii-observe-000000000001";
/** The caller's values. */
const CALLER = { email: "ann.lee@example.com", phone: "+1 415 555 0132", card: "4111 1111 1111 1111", iban: "DE89 3704 0044 0532 0130 00" };
/** Values in the tenant's documents (retrieved into the prompt). */
const DOC = { email: "refunds-desk@acme-shop.example", phone: "+44 20 7946 0958" };
const RAW_VALUES = [...Object.values(CALLER), ...Object.values(DOC), MODEL_EMAIL, "4111111111111111", "DE89370400440532013000", "7946 0958", "555 0132"];

const exporter = new tracing.InMemorySpanExporter();

/** Every key and value in the Redis database, as text. */
async function dumpRedis(url: string): Promise<{ keys: string[]; text: string }> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const keys = await redis.keys("*");
    let text = "";
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === "string"
          ? await redis.get(key)
          : type === "hash"
            ? await redis.hgetall(key)
            : type === "list"
              ? await redis.lrange(key, 0, -1)
              : type === "zset"
                ? await redis.zrange(key, "0", "-1", "WITHSCORES")
                : type === "set"
                  ? await redis.smembers(key)
                  : `(${type})`;
      text += `${key} ${JSON.stringify(value)}\n`;
    }
    return { keys, text };
  } finally {
    redis.disconnect();
  }
}

function spanText(spans: readonly tracing.ReadableSpan[]): string {
  return spans.map((s) => JSON.stringify({ name: s.name, attributes: s.attributes, events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })) })).join("\n");
}

describe.skipIf(!hasRedisServer)("PII: nothing raw in the upstream's prompts, spans, logs or the Redis cache", () => {
  let redis: RedisServer;
  let up: CaptureGateway;
  let client: OpenAI;
  let dataDir: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    await startTracing({ env: {}, spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
    redis = await startRedisServer();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-pii-observe-"));
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    up = await startCaptureGateway(
      {
        dataDir,
        telemetry: { logLevel: "debug", recordContent: true },
        redis: { url: redis.url },
        rag: { offlineEmbedder: "hashing" },
        // The default 250 ms detection budget fails closed on a loaded test machine; this test is about what is kept.
        guardrails: { pii: { timeoutMs: 5000 } },
        auth: { keys: [{ key: KEY, tenant: "acme", guardrails: { pii: { mode: "redact", restore: true } }, cache: { semantic: { enabled: true } } }] },
        bots: [{ name: "support-bot", model: "cap", collection: "support", topK: 2, systemPrompt: "You are Acme support." }],
      },
      createLogger({ level: "debug", destination }),
    );
    client = new OpenAI({ baseURL: `${up.gateway.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const docs = [
      { id: "refunds", title: "Refund policy", text: `Refunds are issued within 14 days. Write to ${DOC.email} or call ${DOC.phone} for a refund.` },
      { id: "shipping", title: "Shipping times", text: "Standard shipping takes 3 to 5 business days; express arrives the next day." },
    ];
    const res = await fetch(`${up.gateway.url}/v1/collections/support/documents`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify(docs),
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await up?.close();
    await redis?.stop();
    await shutdownTracing();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("redacts the retrieval query and the retrieved passages before the upstream sees the prompt", async () => {
    const before = up.capture.bodies.length;
    const res = await client.chat.completions.create({
      model: "support-bot",
      temperature: 0,
      messages: [{ role: "user", content: `How do I get a refund? I am ${CALLER.email}, card ${CALLER.card}.` }],
    });
    const sent = up.capture.bodies.slice(before).join("\n");
    expect(sent).toContain("Refunds are issued within 14 days"); // the passage reached the prompt...
    expect(sent).toMatch(/Write to <EMAIL_\d+> or call <PHONE_\d+>/); // ...with its values replaced
    for (const value of RAW_VALUES) expect(sent).not.toContain(value);
    // The caller gets their own values back; the document's and the model's stay placeholders.
    const text = res.choices[0]!.message.content!;
    expect(text).toContain(CALLER.email);
    expect(text).not.toContain(DOC.email);
    expect(text).not.toContain(MODEL_EMAIL);
  });

  it("plain and streamed requests leave no raw value in spans, logs or Redis", async () => {
    await client.chat.completions.create({ model: "cap", temperature: 0, messages: [{ role: "user", content: `Pay from ${CALLER.iban}, phone ${CALLER.phone}` }] });
    // The same request again: a cache hit from Redis, restored for the caller.
    const again = await client.chat.completions.create({ model: "cap", temperature: 0, messages: [{ role: "user", content: `Pay from ${CALLER.iban}, phone ${CALLER.phone}` }] });
    expect(again.choices[0]!.message.content).toContain(CALLER.iban);
    const stream = await client.chat.completions.create({ model: "cap", temperature: 0, stream: true, messages: [{ role: "user", content: `Card ${CALLER.card} expired` }] });
    let streamed = "";
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? "";
    expect(streamed).toContain(CALLER.card);
    // The SSE span ends when its body ends; let the last processor callbacks run.
    await new Promise((r) => setTimeout(r, 100));

    const spans = exporter.getFinishedSpans();
    const traces = spanText(spans);
    const logs = logLines.join("");
    const stored = await dumpRedis(redis.url);
    const sent = up.capture.bodies.join("\n");

    // The inspection sees real content: recorded prompts and answers, cached entries, log lines.
    expect(traces).toContain("gen_ai.input.messages");
    expect(traces).toMatch(/<IBAN_1>/);
    expect(traces).toMatch(/Reach <EMAIL_\d+> soon/); // the model's own value, recorded in its stored form
    expect(spans.some((s) => s.name === "retrieval")).toBe(true);
    expect(stored.keys.some((k) => k.includes(":cache:e:"))).toBe(true);
    expect(stored.keys.some((k) => k.includes(":cache:sem:"))).toBe(true); // the semantic cache's questions and answers
    expect(stored.text).toContain("<IBAN_1>");
    expect(stored.text).toContain("<CREDIT_CARD_1>");
    expect(logs.length).toBeGreaterThan(0);

    for (const value of RAW_VALUES) {
      expect(traces, `span holds ${value}`).not.toContain(value);
      expect(logs, `log holds ${value}`).not.toContain(value);
      expect(stored.text, `Redis holds ${value}`).not.toContain(value);
      expect(sent, `upstream got ${value}`).not.toContain(value);
    }
  });
});
