/**
 * Observability over the real gateway: `/metrics` after a small run (every
 * family present, plausible values, valid exposition text), the span tree of a
 * request with GenAI attributes captured by an in-memory exporter, and no
 * prompt text or key in spans or logs.
 */
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { tracing } from "@opentelemetry/sdk-node";
import { loadConfig } from "../../src/config/index.js";
import { startGateway, type Gateway } from "../../src/server/index.js";
import {
  createLogger,
  createMetrics,
  serveMetrics,
  shutdownTracing,
  startGeneration,
  startTracing,
  traceRetrieval,
  withSpan,
  EVENT_GEN_AI_FIRST_TOKEN,
} from "../../src/telemetry/index.js";
import type { PoolSnapshot } from "../../src/router/index.js";
import { readSse, tinyModelPath } from "../helpers/gateway.js";

const KEY = "sk-telemetry-5c4b3a2918f7e6d5";
const SECRET_PROMPT = "my passport number is X1234567 and my cat is Whiskerfloof";
const exporter = new tracing.InMemorySpanExporter();
const logLines: string[] = [];
let gateway: Gateway;
let dataDir: string;
let client: OpenAI;

beforeAll(async () => {
  await startTracing({ env: {}, spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
  dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-telemetry-"));
  const config = loadConfig({
    env: {},
    raw: {
      server: { port: 0, host: "127.0.0.1" },
      dataDir,
      models: [{ name: "tiny", aliases: ["default"], file: await tinyModelPath(), shards: 1, slots: 2, contextSize: 512, threads: 1, fallback: "none" }],
      auth: { keys: [{ key: KEY, tenant: "acme" }] },
      // Every request in the access log (the default samples successful ones).
      telemetry: { metricsKey: "metrics-key-123456", accessLogSampleRate: 1 },
    },
  });
  const logger = createLogger({ level: "debug", destination: { write: (line: string) => void logLines.push(line) } });
  gateway = await startGateway({ config, logger });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY, maxRetries: 0 });

  // The small run.
  const messages = [{ role: "user" as const, content: SECRET_PROMPT }];
  await client.chat.completions.create({ model: "tiny", messages, max_tokens: 4, temperature: 0 });
  await client.chat.completions.create({ model: "tiny", messages, max_tokens: 4, temperature: 0 }); // cache hit
  await client.chat.completions.create({ model: "default", messages: [{ role: "user", content: "other" }], max_tokens: 3, temperature: 0.7 });
  const stream = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "stream please" }], max_tokens: 5, stream: true }),
  });
  await readSse(stream);
  await client.completions.create({ model: "tiny", prompt: "Once upon", max_tokens: 2 });
  await client.embeddings.create({ model: "tiny", input: ["embed me"] });
  await fetch(`${gateway.url}/v1/nope/123`, { headers: { authorization: `Bearer ${KEY}` } });
  await fetch(`${gateway.url}/v1/models`);
  // The SSE span ends when its body ends; let the last processor callbacks run.
  await new Promise((r) => setTimeout(r, 50));
});
afterAll(async () => {
  await gateway?.close();
  await shutdownTracing();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict-enough parser of the Prometheus text format 0.0.4: throws on any malformed line. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const nameRe = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const sampleRe = new RegExp(`^(${nameRe})(?:\\{(.*)\\})? (-?(?:[0-9.]+(?:e[+-]?\\d+)?|NaN|\\+Inf|-Inf))(?: \\d+)?$`);
  const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# HELP ")) continue;
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      if (!name || !type || !["counter", "gauge", "histogram", "summary", "untyped"].includes(type)) throw new Error(`bad TYPE line: ${line}`);
      types.set(name, type);
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = sampleRe.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(labelRe)) labels[l[1]!] = l[2]!;
    const family = m[1]!.replace(/_(bucket|sum|count|total|created)$/, "");
    if (!types.has(m[1]!) && !types.has(family) && !types.has(m[1]!.replace(/_(bucket|sum|count)$/, ""))) throw new Error(`sample before its TYPE: ${line}`);
    samples.push({ name: m[1]!, labels, value: Number(m[3]!.replace("+Inf", "Infinity")) });
  }
  return { types, samples };
}

describe("/metrics", () => {
  let text: string;
  let parsed: ReturnType<typeof parseExposition>;
  const value = (name: string, labels: Record<string, string> = {}) =>
    parsed.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);

  beforeAll(async () => {
    const denied = await fetch(`${gateway.url}/metrics`);
    expect(denied.status).toBe(401);
    const res = await fetch(`${gateway.url}/metrics`, { headers: { authorization: "Bearer metrics-key-123456" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await res.text();
    parsed = parseExposition(text);
  });

  it("declares every family with its type", () => {
    const expected: Record<string, string> = {
      switchyard_time_to_first_token_seconds: "histogram",
      switchyard_time_per_output_token_seconds: "histogram",
      switchyard_request_duration_seconds: "histogram",
      switchyard_prompt_tokens_total: "counter",
      switchyard_completion_tokens_total: "counter",
      switchyard_requests_running: "gauge",
      switchyard_requests_waiting: "gauge",
      switchyard_queue_wait_seconds: "histogram",
      switchyard_shard_slots_busy: "gauge",
      switchyard_shard_slots_total: "gauge",
      switchyard_shard_breaker_state: "gauge",
      switchyard_shard_ready: "gauge",
      switchyard_shard_restarts_total: "counter",
      switchyard_cache_lookups_total: "counter",
      switchyard_cache_entries: "gauge",
      switchyard_cache_bytes: "gauge",
      switchyard_cache_evictions_total: "counter",
      switchyard_retrieval_duration_seconds: "histogram",
      switchyard_http_requests_total: "counter",
      switchyard_http_request_duration_seconds: "histogram",
      process_cpu_seconds_total: "counter",
    };
    for (const [name, type] of Object.entries(expected)) expect(parsed.types.get(name), name).toBe(type);
  });

  it("has plausible values after the run", () => {
    // Generations that reached the pool: 1 miss + 1 sampled + 1 stream + 1 completion (the hit did not).
    expect(value("switchyard_time_to_first_token_seconds_count", { model: "tiny" })).toBe(4);
    expect(value("switchyard_request_duration_seconds_count", { model: "tiny", operation: "chat" })).toBe(3);
    expect(value("switchyard_request_duration_seconds_count", { model: "tiny", operation: "text_completion" })).toBe(1);
    expect(value("switchyard_request_duration_seconds_count", { model: "tiny", operation: "embeddings" })).toBe(1);
    expect(value("switchyard_queue_wait_seconds_count", { model: "tiny" })).toBe(4);
    expect(value("switchyard_time_per_output_token_seconds_count", { model: "tiny" })).toBeGreaterThanOrEqual(3);
    expect(value("switchyard_completion_tokens_total", { model: "tiny" })).toBeLessThanOrEqual(4 + 3 + 5 + 2);
    expect(value("switchyard_completion_tokens_total", { model: "tiny" })).toBeGreaterThan(0);
    expect(value("switchyard_prompt_tokens_total", { model: "tiny" })).toBeGreaterThan(10);
    // TTFT sum is positive and below the run's wall time.
    const ttftSum = value("switchyard_time_to_first_token_seconds_sum", { model: "tiny" });
    expect(ttftSum).toBeGreaterThan(0);
    expect(ttftSum).toBeLessThan(60);
    // Histogram buckets are cumulative and end at the count.
    const buckets = parsed.samples.filter((s) => s.name === "switchyard_time_to_first_token_seconds_bucket" && s.labels.model === "tiny");
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    expect(buckets.at(-1)!.labels.le).toBe("+Inf");
    expect(buckets.at(-1)!.value).toBe(4);

    expect(value("switchyard_requests_running", { model: "tiny" })).toBe(0);
    expect(value("switchyard_requests_waiting", { model: "tiny" })).toBe(0);
    expect(value("switchyard_shard_slots_total", { model: "tiny", shard: "tiny#0" })).toBe(2);
    expect(value("switchyard_shard_slots_busy", { model: "tiny", shard: "tiny#0" })).toBe(0);
    expect(value("switchyard_shard_breaker_state", { model: "tiny", shard: "tiny#0" })).toBe(0);
    expect(value("switchyard_shard_ready", { model: "tiny", shard: "tiny#0" })).toBe(1);
    expect(value("switchyard_shard_restarts_total", { model: "tiny", shard: "tiny#0" })).toBe(0);

    expect(value("switchyard_cache_lookups_total", { result: "hit" })).toBe(1);
    expect(value("switchyard_cache_lookups_total", { result: "miss" })).toBeGreaterThanOrEqual(1);
    expect(value("switchyard_cache_entries")).toBeGreaterThanOrEqual(1);
    expect(value("switchyard_cache_bytes")).toBeGreaterThan(0);
    expect(value("switchyard_cache_evictions_total")).toBe(0);

    expect(value("switchyard_http_requests_total", { route: "/v1/chat/completions", status_class: "2xx" })).toBe(4);
    expect(value("switchyard_http_requests_total", { route: "/v1/embeddings", status_class: "2xx" })).toBe(1);
    expect(value("switchyard_http_requests_total", { route: "unmatched", status_class: "4xx" })).toBeGreaterThanOrEqual(1);
    expect(value("switchyard_http_requests_total", { route: "/v1/models", status_class: "4xx" })).toBe(1);
  });

  it("keeps labels bounded: no raw paths, request ids, tenants or keys", () => {
    const routes = new Set(parsed.samples.map((s) => s.labels.route).filter(Boolean));
    for (const r of routes) expect(r === "unmatched" || r!.startsWith("/")).toBe(true);
    expect(routes.has("/v1/nope/123")).toBe(false);
    const labelNames = new Set(parsed.samples.flatMap((s) => Object.keys(s.labels)));
    for (const forbidden of ["request_id", "tenant", "key", "path", "user"]) expect(labelNames.has(forbidden)).toBe(false);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain("acme");
  });

  it("can be served on its own port", async () => {
    const metrics = createMetrics({ pools: (): PoolSnapshot[] => [{ model: "m", waiting: 3, running: 1, shards: [] }], defaultMetrics: false });
    const server = await serveMetrics({ metrics, port: 0 });
    try {
      const res = await fetch(`${server.url}/metrics`);
      expect(res.status).toBe(200);
      const own = parseExposition(await res.text());
      expect(own.samples.find((s) => s.name === "switchyard_requests_waiting")?.value).toBe(3);
      expect((await fetch(`${server.url}/v1/models`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe("traces", () => {
  const spans = () => exporter.getFinishedSpans();
  const attrsText = () => JSON.stringify(spans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })));

  it("makes the span tree: HTTP server span → cache.lookup, chat <model> → queue.wait", () => {
    const gens = spans().filter((s) => s.name === "chat tiny");
    expect(gens.length).toBe(3);
    for (const gen of gens) {
      const server = spans().find((s) => s.spanContext().spanId === gen.parentSpanContext?.spanId);
      expect(server?.name).toBe("POST /v1/chat/completions");
      expect(server?.kind).toBe(SpanKind.SERVER);
      expect(server?.attributes["http.route"]).toBe("/v1/chat/completions");
      expect(server?.attributes["http.response.status_code"]).toBe(200);
      expect(gen.spanContext().traceId).toBe(server!.spanContext().traceId);
      const children = spans().filter((s) => s.parentSpanContext?.spanId === gen.spanContext().spanId);
      expect(children.map((s) => s.name)).toContain("queue.wait");
      const lookups = spans().filter((s) => s.name === "cache.lookup" && s.parentSpanContext?.spanId === server!.spanContext().spanId);
      expect(lookups.length).toBe(1);
      // Order: the lookup happened before the generation started.
      expect(lookups[0]!.startTime[0] * 1e9 + lookups[0]!.startTime[1]).toBeLessThanOrEqual(gen.startTime[0] * 1e9 + gen.startTime[1]);
    }
    // The cache hit: a server span with a lookup and no generation.
    const hit = spans().find((s) => s.name === "cache.lookup" && s.attributes["switchyard.cache.result"] === "hit");
    expect(hit).toBeDefined();
    expect(spans().some((s) => s.name === "text_completion tiny")).toBe(true);
    expect(spans().some((s) => s.name === "embeddings tiny")).toBe(true);
    expect(spans().some((s) => s.name === "GET unmatched")).toBe(true);
  });

  it("puts GenAI attributes and the first-token event on the generation span", () => {
    const gen = spans().find((s) => s.name === "chat tiny" && s.attributes["gen_ai.request.max_tokens"] === 4)!;
    expect(gen.kind).toBe(SpanKind.CLIENT);
    expect(gen.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "switchyard",
      "gen_ai.request.model": "tiny",
      "gen_ai.response.model": "tiny",
      "gen_ai.request.temperature": 0,
      "gen_ai.response.finish_reasons": ["length"],
      "gen_ai.usage.output_tokens": 4,
      "switchyard.shard": "tiny#0",
    });
    expect(gen.attributes["gen_ai.usage.input_tokens"]).toBeGreaterThan(5);
    expect(String(gen.attributes["gen_ai.response.id"])).toMatch(/^chatcmpl-/);
    expect(gen.events.map((e) => e.name)).toContain(EVENT_GEN_AI_FIRST_TOKEN);
    expect(gen.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it("records no prompt or completion text and no key", () => {
    const text = attrsText();
    expect(text).not.toContain("Whiskerfloof");
    expect(text).not.toContain("stream please");
    expect(text).not.toContain("gen_ai.input.messages");
    expect(text).not.toContain(KEY);
  });

  it("puts retrieval in the tree of a grounded chat, and measures it", async () => {
    const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
    const up = await fetch(`${gateway.url}/v1/collections/kb/documents`, {
      method: "POST",
      headers,
      body: JSON.stringify({ documents: [{ id: "refunds.md", text: "# Refunds\nRefunds are issued within 14 days of purchase." }] }),
    });
    expect(up.status).toBe(200);
    exporter.reset();
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "How long do refunds take?" }], max_tokens: 2, rag: { collection: "kb" } }),
    });
    expect(res.status).toBe(200);
    await res.text();
    const server = spans().find((s) => s.name === "POST /v1/chat/completions")!;
    const children = spans().filter((s) => s.parentSpanContext?.spanId === server.spanContext().spanId);
    const names = children.map((s) => s.name);
    expect(names).toContain("retrieval");
    expect(names).toContain("cache.lookup");
    const retrieval = children.find((s) => s.name === "retrieval")!;
    expect(retrieval.attributes["switchyard.retrieval.passages"]).toBeTypeOf("number");
    // The query text is content: not recorded.
    expect(JSON.stringify(spans().map((s) => s.attributes))).not.toContain("refunds take");
    const text = await gateway.metrics.metricsText();
    expect(Number(/^switchyard_retrieval_duration_seconds_count (\d+)/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
  });

  it("continues the trace into the shard with a W3C traceparent, and records content only when asked", async () => {
    exporter.reset();
    await withSpan("parent", {}, async () => {
      const gen = startGeneration(
        { model: "m", operation: "chat", requestId: "r1", input: { kind: "chat", messages: [{ role: "user", content: "secret words" }] } },
        { recordContent: true },
      );
      expect(gen.traceparent).toBe(`00-${gen.span.spanContext().traceId}-${gen.span.spanContext().spanId}-01`);
      gen.admitted({ shard: "m#0", queueMs: 3 });
      gen.firstChunk();
      gen.end({ text: "reply words", finishReason: "stop", usage: { promptTokens: 3, completionTokens: 2 }, shard: "m#0", timings: { queueMs: 3, ttftMs: 1, decodeMs: 1, cachedPromptTokens: 0 } });
      await traceRetrieval({}, async () => []);
    });
    const gen = spans().find((s) => s.name === "chat m")!;
    expect(String(gen.attributes["gen_ai.input.messages"])).toContain("secret words");
    expect(String(gen.attributes["gen_ai.output.messages"])).toContain("reply words");
    const parent = spans().find((s) => s.name === "parent")!;
    expect(spans().find((s) => s.name === "retrieval")?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
  });
});

describe("logs", () => {
  it("contain requests but no prompt text and no key", () => {
    const text = logLines.join("");
    expect(text).toContain('"msg":"request"');
    expect(text).not.toContain("Whiskerfloof");
    expect(text).not.toContain("stream please");
    expect(text).not.toContain(KEY);
  });
});
