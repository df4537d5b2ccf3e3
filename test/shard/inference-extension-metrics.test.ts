/**
 * A shard host (`switchyard serve` in its own process, real shard processes on the tiny model and its
 * LoRA) exports the gauges the Kubernetes Gateway API Inference Extension's model-server protocol names,
 * in vLLM's names, so an endpoint picker could route to it: `vllm:num_requests_waiting`,
 * `vllm:num_requests_running`, `vllm:kv_cache_usage_perc` (and the older `vllm:gpu_cache_usage_perc`)
 * per `model_name`, and `vllm:lora_requests_info`. Scraped while requests queue and run, the values move
 * with the real pool, and return to idle after.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTinyLora } from "../../src/engine/tiny-model/index.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { TINY_DIR, tinyModelPath } from "../helpers/gateway.js";

interface Series {
  labels: Record<string, string>;
  value: number;
}

/** The exposition text's samples and `# TYPE` lines (names may hold ':'). */
function parseExposition(text: string): { samples: Map<string, Series[]>; types: Map<string, string> } {
  const samples = new Map<string, Series[]>();
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE ([a-zA-Z_:][\w:]*) (\w+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    samples.set(m[1]!, [...(samples.get(m[1]!) ?? []), { labels, value: Number(m[3]) }]);
  }
  return { samples, types };
}

/**
 * A chat whose answer must be an 800-character string (the grammar holds the model to it; the tiny model writes
 * about a character a token), so it keeps its slot long enough to be seen running and its KV cells growing.
 */
function longAnswer(url: string, model: string, n: number, signal: AbortSignal): Promise<number> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    signal,
    body: JSON.stringify({
      model,
      messages: [{ role: "user", content: `write a long line, number ${n}` }],
      max_tokens: 900,
      response_format: {
        type: "json_schema",
        json_schema: { name: "line", strict: true, schema: { type: "object", properties: { s: { type: "string", minLength: 800, maxLength: 800 } }, required: ["s"], additionalProperties: false } },
      },
    }),
  }).then(
    async (res) => {
      await res.text();
      return res.status;
    },
    () => 0, // aborted at the end of the test
  );
}

describe("shard host /metrics in the Inference Extension's model-server protocol", () => {
  let host: GatewayProcess;
  beforeAll(async () => {
    const lora = await ensureTinyLora(TINY_DIR);
    host = await startGatewayProcess({
      config: {
        telemetry: { logLevel: "warn" },
        cache: { enabled: false },
        // Fresh KV figures: the shards report them with every heartbeat answer.
        health: { heartbeatIntervalMs: 100 },
        models: [
          {
            name: "tiny",
            file: await tinyModelPath(),
            shards: 1,
            slots: 1,
            contextSize: 1024,
            threads: 1,
            fallback: "none",
            adapters: [{ name: "tiny-lora", file: lora }],
            aliases: [{ name: "tiny-ft", adapters: ["tiny-lora"] }],
          },
        ],
      },
      readyTimeoutMs: 240_000,
    });
  }, 300_000);
  afterAll(async () => host?.stop());

  const scrape = async () => {
    const res = await fetch(`${host.url}/metrics`);
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  };
  const gauge = (s: Map<string, Series[]>, name: string, model = "tiny") => {
    const found = (s.get(name) ?? []).filter((x) => x.labels.model_name === model);
    expect(found, `${name}{model_name="${model}"}`).toHaveLength(1);
    return found[0]!.value;
  };

  it("idle: the gauges exist, typed gauge, one series per served model (the adapter alias counted with its base), at zero", async () => {
    const { samples, types } = await scrape();
    for (const name of ["vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "vllm:lora_requests_info"]) {
      expect(types.get(name), name).toBe("gauge");
    }
    for (const name of ["vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"]) {
      expect(samples.get(name)?.map((x) => x.labels.model_name)).toEqual(["tiny"]);
      expect(gauge(samples, name)).toBe(0);
    }
    const lora = samples.get("vllm:lora_requests_info")!;
    expect(lora).toHaveLength(1);
    expect(lora[0]!.labels).toEqual({ max_lora: "1", running_lora_adapters: "tiny-ft", waiting_lora_adapters: "" });
    // The value is the time of the update (seconds), so the picker can take the latest.
    expect(Math.abs(lora[0]!.value - Date.now() / 1000)).toBeLessThan(60);
  });

  it("while requests queue and run the values follow the pool, and fall back to zero after", { timeout: 180_000 }, async () => {
    const abort = new AbortController();
    // One slot each on tiny and tiny-ft: three on tiny (one runs, two wait) and one on tiny-ft (runs).
    const requests = [0, 1, 2].map((n) => longAnswer(host.url, "tiny", n, abort.signal));
    requests.push(longAnswer(host.url, "tiny-ft", 3, abort.signal));
    const seen = { waiting: new Set<number>(), running: new Set<number>(), kv: [] as number[] };
    let busySample: Map<string, Series[]> | undefined;
    try {
      const deadline = Date.now() + 120_000;
      let settled = false;
      void Promise.all(requests).then(() => (settled = true));
      while (!settled && Date.now() < deadline) {
        const { samples } = await scrape();
        const waiting = gauge(samples, "vllm:num_requests_waiting");
        const running = gauge(samples, "vllm:num_requests_running");
        const kv = gauge(samples, "vllm:kv_cache_usage_perc");
        seen.waiting.add(waiting);
        seen.running.add(running);
        seen.kv.push(kv);
        expect(gauge(samples, "vllm:gpu_cache_usage_perc")).toBe(kv);
        expect(kv).toBeGreaterThanOrEqual(0);
        expect(kv).toBeLessThanOrEqual(1);
        expect(running).toBeLessThanOrEqual(2); // two slots in all (tiny's and tiny-ft's)
        // KV figures arrive with the next heartbeat answer, so they may lag the queue gauges: checked apart below.
        if (waiting === 2 && running === 2) busySample ??= samples;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await Promise.all(requests)).every((s) => s === 200)).toBe(true);
    } finally {
      abort.abort();
    }
    // The moment both slots ran and two requests queued behind tiny's was seen, and KV cells were in use.
    expect(busySample, `waiting seen ${[...seen.waiting]}, running seen ${[...seen.running]}, kv max ${Math.max(...seen.kv)}`).toBeDefined();
    expect(seen.waiting.has(1)).toBe(true); // the queue drained one by one
    expect(Math.max(...seen.kv)).toBeGreaterThan(0);
    // KV usage moved: it grew within a request (prompt, then each generated token) and did not stay put.
    expect(new Set(seen.kv.filter((v) => v > 0)).size).toBeGreaterThan(1);

    // Idle again: the next heartbeat answers report no running generation.
    const deadline = Date.now() + 10_000;
    let idle = await scrape();
    while (gauge(idle.samples, "vllm:kv_cache_usage_perc") !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      idle = await scrape();
    }
    expect(gauge(idle.samples, "vllm:num_requests_waiting")).toBe(0);
    expect(gauge(idle.samples, "vllm:num_requests_running")).toBe(0);
    expect(gauge(idle.samples, "vllm:kv_cache_usage_perc")).toBe(0);
  });
});
