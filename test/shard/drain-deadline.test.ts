/**
 * A drain that runs out (issue #14, item 4), on a real gateway process with a
 * real shard on the tiny model: SIGTERM while long streams run on each API and
 * more requests wait in the queue. Readiness answers 503 (not a refused
 * connection) until the listener closes; new requests get 503 + Retry-After;
 * at `drainTimeoutMs` every stream ends with its API's error event and
 * terminator, every queued request gets 503 (Anthropic: 529 overloaded_error)
 * + Retry-After in its API's envelope; then the process exits.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { tinyModelPath } from "../helpers/gateway.js";

const SLOTS = 3;
const DRAIN_MS = 2000;
/** Long answers at temperature 0 (greedy, so the same on every machine; none of these ends before 2000 tokens): tens of seconds. */
const LONG = 2000;

interface OpenStream {
  /** Every SSE event of the stream, once it ended: `{ event, data }` (event absent for data-only frames). */
  events: Promise<Array<{ event: string | undefined; data: string }>>;
}

function parseSse(text: string): Array<{ event: string | undefined; data: string }> {
  return text
    .split("\n\n")
    .filter((frame) => frame.trim() !== "")
    .map((frame) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      return { event, data: data.join("\n") };
    });
}

/** Posts a streamed request and resolves once its first bytes came (its slot is decoding). */
async function openStream(url: string, body: Record<string, unknown>): Promise<OpenStream> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "unused", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ ...body, stream: true }),
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value, { stream: true });
  const events = (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    return parseSse(text);
  })();
  return { events };
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What an official client's failed call carried: status, Retry-After and the error body. */
interface Refusal {
  status: number | undefined;
  retryAfter: string | null;
  body: unknown;
}

function refusalOf(err: unknown): Refusal {
  if (err instanceof OpenAI.APIError || err instanceof Anthropic.APIError) {
    return { status: err.status, retryAfter: err.headers?.get("retry-after") ?? null, body: err.error };
  }
  throw err;
}

const refused = (call: Promise<unknown>): Promise<Refusal> =>
  call.then(
    () => {
      throw new Error("expected a refusal");
    },
    (err: unknown) => refusalOf(err),
  );

describe("SIGTERM with long streams running and requests queued, drainTimeoutMs 2000", () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    const file = await tinyModelPath();
    gw = await startGatewayProcess({
      config: {
        server: { drainTimeoutMs: DRAIN_MS },
        cache: { enabled: false },
        models: [{ name: "tiny", aliases: ["default"], file, shards: 1, slots: SLOTS, contextSize: 4096, threads: 1, fallback: "none" }],
      },
      // The machine may be shared with other suites: loading the shard can take a while.
      readyTimeoutMs: 150_000,
    });
  }, 180_000);
  afterAll(async () => {
    await gw?.stop();
  });

  it("ends every stream with its error event and terminator, answers queued and new requests 503 + Retry-After, and /readyz 503 until it exits", async () => {
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    const user = (content: string) => [{ role: "user" as const, content }];

    // Every slot decodes a long answer, one per API.
    const [chat, responses, messages] = await Promise.all([
      openStream(`${gw.url}/v1/chat/completions`, { model: "tiny", messages: user("chat stream"), max_tokens: LONG, temperature: 0 }),
      openStream(`${gw.url}/v1/responses`, { model: "tiny", input: "responses stream", max_output_tokens: LONG, temperature: 0 }),
      openStream(`${gw.url}/v1/messages`, { model: "tiny", messages: user("messages stream"), max_tokens: LONG, temperature: 0 }),
    ]);
    // Three more wait in the queue (no slot is free), one per API.
    const queued = {
      chat: refused(openai.chat.completions.create({ model: "tiny", messages: user("queued chat"), max_tokens: 8 })),
      responses: refused(openai.responses.create({ model: "tiny", input: "queued response", max_output_tokens: 16, stream: true })),
      messages: refused(anthropic.messages.create({ model: "tiny", messages: user("queued message"), max_tokens: 8 })),
    };
    await waitFor(
      "3 requests queued behind 3 running",
      async () => {
        const status = (await (await fetch(`${gw.url}/v1/status`)).json()) as { models: Array<{ waiting: number; running: number }> };
        return status.models[0]!.waiting === 3 && status.models[0]!.running === SLOTS;
      },
      20_000,
    );

    process.kill(gw.pid, "SIGTERM");
    // Readiness, polled until the listener closes: 503 answered once the signal is handled, never 200 after.
    const readiness: Array<number | "refused"> = [];
    const polling = (async () => {
      for (let i = 0; i < 400; i++) {
        const r = await fetch(`${gw.url}/readyz`).then((res) => res.status, () => "refused" as const);
        readiness.push(r);
        if (r === "refused") return;
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    await waitFor("/readyz 503", async () => readiness.includes(503), 5_000);

    // New requests while draining: 503 + Retry-After, each in its API's envelope.
    const late = await refused(openai.chat.completions.create({ model: "tiny", messages: user("late"), max_tokens: 8 }));
    expect(late.status).toBe(503);
    expect(Number(late.retryAfter)).toBeGreaterThan(0);
    expect(late.body).toMatchObject({ type: "server_error", code: "server_shutting_down" });
    const lateMessage = await refused(anthropic.messages.create({ model: "tiny", messages: user("late"), max_tokens: 8 }));
    expect(lateMessage.status).toBe(529);
    expect(Number(lateMessage.retryAfter)).toBeGreaterThan(0);
    expect(lateMessage.body).toMatchObject({ type: "error", error: { type: "overloaded_error" } });

    // The streams ran on until the deadline, then each ended with its error event and terminator.
    const chatEvents = await chat.events;
    expect(chatEvents.at(-1)).toEqual({ event: undefined, data: "[DONE]" });
    const chatError = JSON.parse(chatEvents.at(-2)!.data) as unknown;
    expect(chatError).toMatchObject({ error: { type: "server_error", code: "server_shutting_down" } });
    expect(chatEvents.filter((e) => e.data.includes('"delta"')).length).toBeGreaterThan(1);

    const responsesEvents = await responses.events;
    const lastResponse = responsesEvents.at(-1)!;
    expect(lastResponse.event).toBe("response.failed");
    expect(JSON.parse(lastResponse.data)).toMatchObject({ type: "response.failed", response: { status: "failed", error: { code: "server_error" } } });
    expect(responsesEvents.some((e) => e.event === "response.completed")).toBe(false);

    const messagesEvents = await messages.events;
    const lastMessage = messagesEvents.at(-1)!;
    expect(lastMessage.event).toBe("error");
    expect(JSON.parse(lastMessage.data)).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
    expect(messagesEvents.some((e) => e.event === "message_stop")).toBe(false);

    // Queued requests never started: 503 (529 on /v1/messages) + Retry-After in their API's envelope.
    const q = { chat: await queued.chat, responses: await queued.responses, messages: await queued.messages };
    for (const r of [q.chat, q.responses]) {
      expect(r.status).toBe(503);
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
      expect(r.body).toMatchObject({ type: "server_error", code: "server_shutting_down" });
    }
    expect(q.messages.status).toBe(529);
    expect(Number(q.messages.retryAfter)).toBeGreaterThan(0);
    expect(q.messages.body).toMatchObject({ type: "error", error: { type: "overloaded_error" } });

    // The process exits on its own; readiness answered 503 until the listener closed, never 200 again.
    const exit = await Promise.race([gw.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 20_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    await polling;
    const afterSignal = readiness.slice(readiness.indexOf(503));
    expect(afterSignal.every((r) => r === 503 || r === "refused")).toBe(true);
    expect(afterSignal.filter((r) => r === 503).length).toBeGreaterThan(1);
  }, 90_000);
});
