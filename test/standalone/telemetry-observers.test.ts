/**
 * Telemetry hooks into the pool, the response cache and retrieval through
 * their observer seams (options they call), never by replacing their methods:
 * a generation span, the first-token event and the TTFT metric are recorded
 * through `PoolObserver`, a retry is reported by the pool itself, and no file
 * of `src/telemetry` assigns to another object's members.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tracing } from "@opentelemetry/sdk-node";
import { loadConfig } from "../../src/config/index.js";
import { ModelPool } from "../../src/router/index.js";
import { LruCacheStore, ResponseCache } from "../../src/cache/index.js";
import { cacheLookupObserver, createMetrics, poolObserver, shutdownTracing, startTracing, EVENT_GEN_AI_FIRST_TOKEN } from "../../src/telemetry/index.js";
import { ScriptedBackend, type Script } from "../helpers/scripted-backend.js";

const exporter = new tracing.InMemorySpanExporter();
const defaults = loadConfig({ env: {}, raw: { models: [{ name: "m", file: "x" }] } });
const input = { kind: "chat" as const, messages: [{ role: "user" as const, content: "hi" }] };
const params = { maxTokens: 8, temperature: 0, topP: 1, topK: 0, stop: [], presencePenalty: 0, frequencyPenalty: 0 };

beforeAll(async () => {
  await startTracing({ env: {}, spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
});
afterAll(async () => shutdownTracing());

function observedPool(scripts: Array<(call: number) => Script>) {
  const metrics = createMetrics({ defaultMetrics: false });
  const backends = scripts.map((script, i) => new ScriptedBackend(`m#${i}`, 2, script));
  const pool = new ModelPool({
    model: "m",
    backends,
    queue: defaults.queue,
    breaker: defaults.breaker,
    retry: { ...defaults.retry, budgetRatio: 1 },
    requestTimeoutMs: 10_000,
    observer: poolObserver({ metrics }),
  });
  return { pool, metrics };
}

function histogramCount(text: string, name: string): number {
  return Number(new RegExp(`^${name}_count\\{[^}]*\\} (\\d+)`, "m").exec(text)?.[1] ?? 0);
}

describe("the pool's observer seam", () => {
  it("records the generation span, its first-token event and the TTFT metric", async () => {
    exporter.reset();
    const { pool, metrics } = observedPool([() => ({ kind: "ok", tokens: 3 })]);
    await pool.start();
    await pool.generate(input, params, { requestId: "req-1", responseId: "chatcmpl-req1" });
    // The pool's method is its own: nothing was put in its place.
    expect(Object.hasOwn(pool, "generate")).toBe(false);

    const span = exporter.getFinishedSpans().find((s) => s.name === "chat m");
    expect(span).toBeDefined();
    expect(span!.attributes).toMatchObject({ "gen_ai.response.id": "chatcmpl-req1", "switchyard.request_id": "req-1", "switchyard.shard": "m#0", "gen_ai.usage.output_tokens": 3 });
    expect(span!.events.map((e) => e.name)).toContain(EVENT_GEN_AI_FIRST_TOKEN);
    expect(exporter.getFinishedSpans().some((s) => s.name === "queue.wait")).toBe(true);
    const text = await metrics.metricsText();
    expect(histogramCount(text, "switchyard_time_to_first_token_seconds")).toBe(1);
    await pool.dispose();
  });

  it("hears about a retry from the pool, not by inference", async () => {
    exporter.reset();
    const { pool } = observedPool([() => ({ kind: "fail-before-first-token", code: "crashed" }), () => ({ kind: "ok", tokens: 2 })]);
    await pool.start();
    // Both shards idle: the first pick is m#0 (least recently used), which fails before its first token.
    const result = await pool.generate(input, params, { requestId: "req-2" });
    expect(result.shard).toBe("m#1");
    const span = exporter.getFinishedSpans().find((s) => s.name === "chat m")!;
    const retries = span.events.filter((e) => e.name === "retry");
    expect(retries.length).toBe(1);
    expect(retries[0]!.attributes).toMatchObject({ "switchyard.shard": "m#0" });
    await pool.dispose();
  });

  it("ends the span as an error when the request fails for good", async () => {
    exporter.reset();
    const { pool } = observedPool([() => ({ kind: "fail-before-first-token", code: "engine_error" })]);
    await pool.start();
    await expect(pool.generate(input, params, { requestId: "req-3" })).rejects.toMatchObject({ status: 500 });
    const span = exporter.getFinishedSpans().find((s) => s.name === "chat m")!;
    expect(span.status.code).toBe(2); // SpanStatusCode.ERROR
    await pool.dispose();
  });
});

describe("the cache's observer seam", () => {
  it("makes one cache.lookup span per lookup, with its result", async () => {
    exporter.reset();
    const cache = new ResponseCache({ store: new LruCacheStore({ maxBytes: 1 << 20, ttlMs: 60_000 }), onLookup: cacheLookupObserver() });
    await cache.lookup("k", { lookup: true, store: true });
    await cache.lookup("k", { lookup: false, store: false });
    const results = exporter.getFinishedSpans().filter((s) => s.name === "cache.lookup").map((s) => s.attributes["switchyard.cache.result"]);
    expect(results).toEqual(["miss", "bypass"]);
  });
});

describe("src/telemetry", () => {
  it("assigns to no other module's members (no method patching)", () => {
    const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../src/telemetry");
    const offences: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const source = ts.createSourceFile(file, readFileSync(path.join(dir, file), "utf8"), ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node): void => {
        // `x.y = …` or `x["y"] = …` where x is not `this`: writing into an object this file does not own.
        if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
          const left = node.left;
          if ((ts.isPropertyAccessExpression(left) || ts.isElementAccessExpression(left)) && left.expression.kind !== ts.SyntaxKind.ThisKeyword) {
            offences.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${node.getText().slice(0, 80)}`);
          }
        }
        if (ts.isCallExpression(node) && /^(Object\.(assign|defineProperty|defineProperties|setPrototypeOf)|Reflect\.(set|defineProperty))$/.test(node.expression.getText())) {
          offences.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${node.getText().slice(0, 80)}`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(offences).toEqual([]);
  });
});
