/**
 * The shard pool on the real path: real shard processes on the tiny model,
 * real sockets, the official client.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import OpenAI from "openai";
import { readSse, startTestGateway, tinyModelPath, type TestGateway } from "../helpers/gateway.js";
import type { LocalBackend } from "../../src/router/index.js";

const user = (content: string) => [{ role: "user" as const, content }];

async function streamText(t: TestGateway, content: string, maxTokens: number, signal?: AbortSignal): Promise<{ text: string; events: string[] }> {
  const res = await fetch(`${t.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", messages: user(content), max_tokens: maxTokens, temperature: 0, stream: true }),
    ...(signal ? { signal } : {}),
  });
  const events = await readSse(res);
  const text = events
    .filter((e) => e !== "[DONE]")
    .map((e) => (JSON.parse(e) as { choices?: Array<{ delta: { content?: string } }> }).choices?.[0]?.delta.content ?? "")
    .join("");
  return { text, events };
}

/** Starts a long streamed generation; resolves once its first bytes arrived (its slot is decoding). */
function startLong(t: TestGateway, content: string, signal: AbortSignal): Promise<void> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", messages: user(content), max_tokens: 900, temperature: 0, stream: true }),
    signal,
  }).then(async (res) => {
    await res.body!.getReader().read();
  });
}

/** Busy slots of the first shard once they drain (or after 2 s). */
async function slotsBusyAfterDrain(t: TestGateway): Promise<number> {
  const pool = t.gateway.registry.models[0]!.pool;
  const deadline = Date.now() + 2000;
  while (pool.snapshot().shards[0]!.slotsBusy > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return pool.snapshot().shards[0]!.slotsBusy;
}

describe("one shard, 4 slots", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ cache: { enabled: false } }, { slots: 4, contextSize: 1024 });
  });
  afterAll(async () => t?.close());

  it("concurrent streams all complete and equal their sequential outputs at temperature 0", async () => {
    const prompts = ["alpha one", "beta two", "gamma three", "delta four"];
    const sequential: string[] = [];
    for (const p of prompts) sequential.push((await streamText(t, p, 24)).text);
    const concurrent = await Promise.all(prompts.map((p) => streamText(t, p, 24)));
    expect(concurrent.map((c) => c.text)).toEqual(sequential);
    for (const c of concurrent) expect(c.events.at(-1)).toBe("[DONE]");
  });

  it("client abort frees the slot: the next request is admitted at once", async () => {
    const controllers = Array.from({ length: 4 }, () => new AbortController());
    // Fill every slot with long generations, then abort them all after the first bytes.
    const long = controllers.map((c) => startLong(t, "long story", c.signal).then(() => c.abort()));
    await Promise.all(long.map((p) => p.catch(() => undefined)));
    expect(await slotsBusyAfterDrain(t)).toBe(0);
    const next = await t.client.chat.completions.create({ model: "tiny", messages: user("next"), max_tokens: 2, temperature: 0 });
    expect((next as unknown as { switchyard: { queue_ms: number } }).switchyard.queue_ms).toBeLessThan(50);
  });

  it("a follow-up turn reuses the slot's KV cache (prefix affinity)", async () => {
    const history: Array<{ role: "user" | "assistant"; content: string }> = [{ role: "user", content: "Tell me about the sea and ships" }];
    let cached = 0;
    for (let turn = 0; turn < 3; turn++) {
      const res = await t.client.chat.completions.create({ model: "tiny", messages: history, max_tokens: 8, temperature: 0 });
      cached = res.usage!.prompt_tokens_details!.cached_tokens!;
      history.push({ role: "assistant", content: res.choices[0]!.message.content! }, { role: "user", content: `and then ${turn}?` });
    }
    // Turn 3 finds turns 1–2 in the slot it goes back to.
    expect(cached).toBeGreaterThan(20);
  });

  it("per-request timeout → 504, slot freed", async () => {
    const err = await t.client.chat.completions
      .create({ model: "tiny", messages: user("slow"), max_tokens: 900, temperature: 0, timeout: 30 } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    expect(await slotsBusyAfterDrain(t)).toBe(0);
  });
});

describe("context check before queueing", () => {
  // A fresh gateway: every slot starts empty, so the four long requests all decode at once.
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ cache: { enabled: false } }, { slots: 4, contextSize: 1024 });
  });
  afterAll(async () => t?.close());

  it("a prompt longer than the context is refused before queueing, even with every slot busy", async () => {
    const pool = t.gateway.registry.models[0]!.pool;
    const controllers = Array.from({ length: 4 }, () => new AbortController());
    await Promise.all(controllers.map((c) => startLong(t, "keep busy", c.signal)));
    expect(pool.snapshot().shards[0]!.slotsBusy).toBe(4);
    const err = await t.client.chat.completions.create({ model: "tiny", messages: user("word ".repeat(3000)), max_tokens: 4 }).catch((e: unknown) => e);
    // Answered while the slots are still busy: it never waited for one.
    expect(pool.snapshot().shards[0]!.slotsBusy).toBe(4);
    expect(pool.snapshot().waiting).toBe(0);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("context_length_exceeded");
    for (const c of controllers) c.abort();
  });

});

describe("a reused slot does not wait for the other slots", () => {
  // node-llama-cpp holds the context lock while any sequence has a queued decode, and erasing a slot's
  // stale KV cache needs that lock. The engine therefore moves a new conversation to an empty spare
  // sequence when others are decoding; without that, this request waited for the three long ones.
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ cache: { enabled: false } }, { slots: 4, contextSize: 1024 });
  });
  afterAll(async () => t?.close());

  it("a new conversation on a reused slot gets its first token while three others decode", async () => {
    await t.client.chat.completions.create({ model: "tiny", messages: user("warm up slot"), max_tokens: 4, temperature: 0 });
    const longOnes = ["a one", "b two", "c three"].map((q) => streamText(t, q, 900));
    await new Promise((r) => setTimeout(r, 300));
    const res = await t.client.chat.completions.create({ model: "tiny", messages: user("late arrival"), max_tokens: 4, temperature: 0 });
    const ttft = (res as unknown as { switchyard: { ttft_ms: number } }).switchyard.ttft_ms;
    await Promise.all(longOnes);
    expect(ttft).toBeLessThan(500);
  });
});

describe("two shards, kill -9 in the middle of streams", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ cache: { enabled: false }, retry: { restartBackoffMs: 200 } }, { shards: 2, slots: 2, contextSize: 2048 });
  });
  afterAll(async () => t?.close());

  it("victims get an error event, the other shard's clients finish, new requests succeed, the shard comes back", async () => {
    const pool = t.gateway.registry.models[0]!.pool;
    const [victim] = pool.backends as LocalBackend[];
    const start = (i: number) =>
      fetch(`${t.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "tiny", messages: user(`story ${i}`), max_tokens: 1500, temperature: 0, stream: true }),
      });
    const responses = await Promise.all([0, 1, 2, 3].map(start));
    const shards = responses.map((r) => r.headers.get("x-switchyard-shard"));
    expect(new Set(shards)).toEqual(new Set(["tiny#0", "tiny#1"]));
    process.kill(victim!.pid!, "SIGKILL");
    const events = await Promise.all(responses.map(readSse));
    events.forEach((ev, i) => {
      expect(ev.at(-1)).toBe("[DONE]");
      const last = JSON.parse(ev.at(-2)!) as { error?: { type: string }; choices?: Array<{ finish_reason: string | null }> };
      if (shards[i] === "tiny#0") {
        expect(last.error?.type).toBe("server_error");
        expect(ev.some((e) => e.includes('"finish_reason":"stop"'))).toBe(false);
      } else {
        expect(last.choices?.[0]?.finish_reason).toBe("length");
      }
    });
    // New requests keep succeeding while the victim restarts.
    const ok = await t.client.chat.completions.create({ model: "tiny", messages: user("still there?"), max_tokens: 3 });
    expect(ok.choices[0]!.finish_reason).toBe("length");
    const deadline = Date.now() + 30_000;
    while (victim!.state !== "ready" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(victim!.state).toBe("ready");
    expect(victim!.restarts).toBe(1);
    expect(pool.snapshot().shards[0]!.restarts).toBe(1);
  });
});

describe("remote shard", () => {
  let upstream: TestGateway;
  let front: TestGateway;
  beforeAll(async () => {
    upstream = await startTestGateway({ cache: { enabled: false } });
    front = await startTestGateway({ cache: { enabled: false } }, { name: "remote-tiny", aliases: [], file: undefined, upstream: `${upstream.url}/v1`, upstreamModel: "tiny", slots: 4 });
  });
  afterAll(async () => {
    await front?.close();
    await upstream?.close();
  });

  it("serves through an OpenAI-compatible upstream, streamed and not, identically to the upstream", async () => {
    const direct = await upstream.client.chat.completions.create({ model: "tiny", messages: user("via upstream"), max_tokens: 6, temperature: 0 });
    const viaFront = await front.client.chat.completions.create({ model: "remote-tiny", messages: user("via upstream"), max_tokens: 6, temperature: 0 });
    expect(viaFront.choices[0]!.message.content).toBe(direct.choices[0]!.message.content);
    expect(viaFront.usage!.completion_tokens).toBe(6);
    const stream = await front.client.chat.completions.create({ model: "remote-tiny", messages: user("via upstream"), max_tokens: 6, temperature: 0, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe(direct.choices[0]!.message.content);
    const raw = await fetch(`${front.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "remote-tiny", messages: user("x"), max_tokens: 1 }) });
    expect(raw.headers.get("x-switchyard-shard")).toMatch(/^remote-tiny@127\.0\.0\.1:\d+$/);
  });
});

describe("graceful shutdown on SIGTERM", () => {
  it("finishes the in-flight stream, then exits 0", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const model = await tinyModelPath();
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "serve"], {
      env: { ...process.env, PORT: String(port), SWITCHYARD_MODEL: model, SWITCHYARD_SLOTS: "1", SWITCHYARD_LOG_LEVEL: "warn", SWITCHYARD_DATA_DIR: `${process.cwd()}/data/test-sigterm` },
      stdio: ["ignore", "ignore", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error("server did not become ready");
      await new Promise((r) => setTimeout(r, 100));
    }
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "default", messages: user("drain me"), max_tokens: 300, temperature: 0, stream: true }),
    });
    child.kill("SIGTERM");
    const events = await readSse(res);
    expect(events.at(-1)).toBe("[DONE]");
    expect(events.some((e) => e.includes('"finish_reason":"length"'))).toBe(true);
    expect(await exited).toBe(0);
  });
});
