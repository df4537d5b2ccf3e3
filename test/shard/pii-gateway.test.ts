/**
 * PII guardrails end to end: a real gateway in front of (1) a capturing
 * OpenAI-compatible upstream that records exactly what reaches the shard and
 * answers with a scripted text (echoing the prompt and adding a value of its
 * own, streamed in 3-character chunks so values split across chunks), and
 * (2) real shard processes on the tiny model.
 */
import { Writable } from "node:stream";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { MODEL_EMAIL, scriptedTokens, startCaptureGateway, type Capture, type CaptureGateway } from "../helpers/capture-upstream.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

const KEYS = {
  redact: "key-redact-aaaa",
  block: "key-block-bbbbb",
  plain: "key-plain-ccccc",
};

describe("PII guardrails through the gateway (capturing upstream)", () => {
  let up: CaptureGateway;
  let capture: Capture;
  let gateway: Gateway;
  const logLines: string[] = [];
  const client = (key: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    up = await startCaptureGateway(
      {
        telemetry: { logLevel: "debug", metricsKey: "pii-metrics-key-0001" },
        auth: {
          keys: [
            { key: KEYS.redact, tenant: "acme", guardrails: { pii: { mode: "redact", restore: true } } },
            { key: KEYS.block, tenant: "acme", guardrails: { pii: { mode: "block" } } },
            { key: KEYS.plain, tenant: "acme" },
          ],
        },
      },
      createLogger({ level: "debug", destination }),
      { slots: 4 },
    );
    ({ capture, gateway } = up);
  });
  afterAll(async () => up?.close());

  const ask = (content: string) => [{ role: "user" as const, content }];

  it("the upstream never sees the caller's values; the caller gets them back; the model's own values stay redacted", async () => {
    const before = capture.bodies.length;
    const res = await client(KEYS.redact).chat.completions.create({ model: "cap", temperature: 0, messages: ask("I am ann@example.com, card 4111 1111 1111 1111") });
    const sent = capture.bodies.slice(before).join("\n");
    expect(sent).not.toContain("ann@example.com");
    expect(sent).not.toContain("4111");
    expect(sent).toContain("I am <EMAIL_1>, card <CREDIT_CARD_1>");
    expect(res.choices[0]!.message.content).toBe("Echo: I am ann@example.com, card 4111 1111 1111 1111. Reach <EMAIL_2> soon.");
  });

  it("streams restore and redact values split across chunks, holding back only small windows", async () => {
    const before = capture.bodies.length;
    const stream = await client(KEYS.redact).chat.completions.create({ model: "cap", temperature: 0.7, stream: true, messages: ask("call +44 20 7946 0958 or mail bo@example.org") });
    let text = "";
    let pieces = 0;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content ?? "";
      if (delta) pieces++;
      text += delta;
    }
    expect(capture.bodies.slice(before).join("\n")).not.toMatch(/7946|bo@example/);
    expect(text).toBe("Echo: call +44 20 7946 0958 or mail bo@example.org. Reach <EMAIL_2> soon.");
    expect(text).not.toContain("eve@");
    expect(pieces).toBeGreaterThan(3); // still a stream, not one buffered answer
  });

  it("a cached answer is stored redacted: another caller with another address hits it and gets their own back", async () => {
    const first = await client(KEYS.redact).chat.completions.create({ model: "cap", temperature: 0, messages: ask("Where is my parcel? I am zed@example.net") });
    expect(first.choices[0]!.message.content).toContain("zed@example.net");
    const before = capture.bodies.length;
    const raw = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEYS.redact}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "cap", temperature: 0, messages: ask("Where is my parcel? I am amy@example.net") }),
    });
    expect(raw.headers.get("x-switchyard-cache")).toBe("hit");
    expect(capture.bodies.length).toBe(before);
    const body = (await raw.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]!.message.content).toBe("Echo: Where is my parcel? I am amy@example.net. Reach <EMAIL_2> soon.");
    expect(body.choices[0]!.message.content).not.toContain("zed@");
  });

  it("block mode answers 400 naming the type, and nothing reaches the upstream", async () => {
    const before = capture.bodies.length;
    const err = await client(KEYS.block)
      .chat.completions.create({ model: "cap", messages: ask("my SSN is 123-45-6789") })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.status).toBe(400);
    expect(e.code).toBe("pii_detected");
    expect(e.message).toContain("ssn");
    expect(e.message).not.toContain("6789");
    expect(capture.bodies.length).toBe(before);
    // A request without personal data passes in block mode.
    await expect(client(KEYS.block).chat.completions.create({ model: "cap", messages: ask("hello there") })).resolves.toBeDefined();
  });

  it("logprobs pass with the guard on, streamed and not, without the tokens of a value the guard replaced", async () => {
    const upstreamText = `Echo: I am <EMAIL_1>. Reach ${MODEL_EMAIL} soon.`;
    const from = upstreamText.indexOf(MODEL_EMAIL);
    const to = from + MODEL_EMAIL.length;
    // Pieces overlapping the model's own address are left out; the caller's placeholder pieces stay (they spell no value).
    const kept = scriptedTokens(upstreamText).filter((_, i) => i * 3 + 3 <= from || i * 3 >= to);
    const request = { model: "cap", temperature: 0.5, logprobs: true, top_logprobs: 0, messages: ask("I am ann@example.com") };
    const res = await client(KEYS.redact).chat.completions.create(request);
    expect(res.choices[0]!.message.content).toBe("Echo: I am ann@example.com. Reach <EMAIL_2> soon.");
    expect(res.choices[0]!.logprobs!.content!.map((e) => e.token)).toEqual(kept);
    const stream = await client(KEYS.redact).chat.completions.create({ ...request, stream: true });
    const streamed: string[] = [];
    for await (const chunk of stream) streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []).map((e) => e.token));
    expect(streamed).toEqual(kept);
    expect(streamed.join("")).not.toMatch(/eve|corp|@/);
  });

  it("a token-id prompt to a model that cannot read ids back as text is a 400 with the guard on, and nothing goes upstream", async () => {
    const before = capture.bodies.length;
    const err = await client(KEYS.redact).completions.create({ model: "cap", prompt: [1, 2, 3], max_tokens: 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toContain("send the prompt as text");
    expect(capture.bodies.length).toBe(before);
  });

  it("keys without a policy pass values through", async () => {
    const before = capture.bodies.length;
    await client(KEYS.plain).chat.completions.create({ model: "cap", messages: ask("I am ann@example.com") });
    expect(capture.bodies.slice(before).join("")).toContain("ann@example.com");
  });

  it("metrics count redactions by type, and no log line or metric holds a caller's value", async () => {
    const metrics = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: "Bearer pii-metrics-key-0001" } })).text();
    expect(metrics).toMatch(/switchyard_pii_redactions_total\{type="email",direction="input"\} [1-9]/);
    expect(metrics).toMatch(/switchyard_pii_redactions_total\{type="email",direction="output"\} [1-9]/);
    expect(metrics).toMatch(/switchyard_pii_blocked_total\{type="ssn"\} 1/);
    const logs = logLines.join("");
    expect(logs.length).toBeGreaterThan(0);
    for (const value of ["ann@example.com", "4111 1111", "7946 0958", "zed@example.net", "123-45-6789", "eve@corp.example"]) {
      expect(metrics).not.toContain(value);
      expect(logs).not.toContain(value);
    }
  });
});

describe("PII guardrails fail closed", () => {
  let up: CaptureGateway;
  beforeAll(async () => {
    // A 1 ms detection budget that a long prompt full of numbers cannot meet: the injected fault.
    up = await startCaptureGateway({ telemetry: { logLevel: "silent" }, guardrails: { pii: { mode: "redact", timeoutMs: 1 } } }, createLogger({ level: "silent" }));
  });
  afterAll(async () => up?.close());

  it("a detection that runs out of its budget answers 503 and sends nothing upstream", async () => {
    const prompt = Array.from({ length: 4000 }, (_, i) => `call (415) 555-${String(1000 + (i % 9000))} or ann${i}@example.com`).join("; ");
    const res = await fetch(`${up.gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "cap", messages: [{ role: "user", content: prompt }] }),
    });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("guardrail_unavailable");
    expect(body.error.message).not.toContain("ann0@");
    expect(up.capture.bodies.length).toBe(0);
  });
});

describe("PII guardrails on real shard processes", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ cache: { enabled: false }, guardrails: { pii: { mode: "redact", entities: ["email", "phone"] } } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("answers streamed and not, with the redacted prompt counted by the shard", async () => {
    const plain = await t.client.chat.completions.create({ model: "tiny", max_tokens: 8, temperature: 0, messages: [{ role: "user", content: "hello" }] });
    const redacted = await t.client.chat.completions.create({ model: "tiny", max_tokens: 8, temperature: 0, messages: [{ role: "user", content: "ann@example.com" }] });
    // The shard tokenised "<EMAIL_1>", not the address: same prompt length as the placeholder text itself.
    const placeholder = await t.client.chat.completions.create({ model: "tiny", max_tokens: 8, temperature: 0, messages: [{ role: "user", content: "<EMAIL_1>" }] });
    expect(redacted.usage!.prompt_tokens).toBe(placeholder.usage!.prompt_tokens);
    expect(redacted.choices[0]!.message.content).toBe(placeholder.choices[0]!.message.content);
    expect(plain.usage!.prompt_tokens).toBeGreaterThan(0);
    const stream = await t.client.chat.completions.create({ model: "tiny", max_tokens: 8, temperature: 0, stream: true, messages: [{ role: "user", content: "ann@example.com" }] });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe(redacted.choices[0]!.message.content);
  });

  it("chat logprobs are given with the guard on, streamed and not", async () => {
    const request = { model: "tiny", max_tokens: 12, temperature: 0, logprobs: true, top_logprobs: 2, messages: [{ role: "user" as const, content: "I am ann@example.com" }] };
    const res = await t.client.chat.completions.create(request);
    const content = res.choices[0]!.message.content ?? "";
    const entries = res.choices[0]!.logprobs?.content ?? [];
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      expect(e.top_logprobs.length).toBe(2);
      expect(e.bytes).toEqual([...Buffer.from(e.token, "utf8")]);
    }
    // The random model's answer holds no value to replace: its tokens spell it.
    if (!content.includes("<")) expect(entries.map((e) => e.token).join("")).toBe(content);
    const stream = await t.client.chat.completions.create({ ...request, stream: true });
    let text = "";
    const streamed: string[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      for (const e of chunk.choices[0]?.logprobs?.content ?? []) streamed.push(e.token);
    }
    expect(text).toBe(content);
    expect(streamed).toEqual(entries.map((e) => e.token));
  });

  it("completions logprobs are given with the guard on, streamed and not, their offsets into the text", async () => {
    const request = { model: "tiny", max_tokens: 12, temperature: 0, logprobs: 3, prompt: "Write to me at ann@example.com about" };
    const res = await t.client.completions.create(request);
    const choice = res.choices[0]!;
    const lp = choice.logprobs!;
    expect(lp.tokens!.length).toBeGreaterThan(0);
    lp.tokens!.forEach((token, i) => expect(choice.text.slice(lp.text_offset![i], lp.text_offset![i]! + token.length)).toBe(token));
    expect(lp.top_logprobs!.every((top) => Object.keys(top).length >= 1)).toBe(true);
    const stream = await t.client.completions.create({ ...request, stream: true });
    let text = "";
    const tokens: string[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? "";
      tokens.push(...(chunk.choices[0]?.logprobs?.tokens ?? []));
    }
    expect(text).toBe(choice.text);
    expect(tokens).toEqual(lp.tokens);
  });
});

describe("PII guardrails on token-id prompts (real shard processes)", () => {
  let redact: TestGateway;
  let block: TestGateway;
  beforeAll(async () => {
    redact = await startTestGateway({ cache: { enabled: false }, guardrails: { pii: { mode: "redact", entities: ["email"] } } });
    block = await startTestGateway({ cache: { enabled: false }, guardrails: { pii: { mode: "block", entities: ["email"] } } });
  });
  afterAll(async () => {
    await redact?.close();
    await block?.close();
  });

  const idsOf = async (prompt: string): Promise<number[]> => {
    const res = await fetch(`${redact.url}/v1/tokenize`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "tiny", prompt, add_special_tokens: false }) });
    return ((await res.json()) as { tokens: number[] }).tokens;
  };
  /** What the shard evaluated: the prompt's scored tokens (`echo` + `logprobs`, no generation). */
  const evaluated = async (prompt: number[] | number[][]) => {
    const res = await redact.client.completions.create({ model: "tiny", prompt, max_tokens: 0, echo: true, logprobs: 0 });
    return { text: res.choices[0]!.logprobs!.tokens!.join(""), promptTokens: res.usage!.prompt_tokens };
  };

  it("redact: a token-id prompt carrying an address reaches the model with a placeholder instead (number[] and number[][])", async () => {
    const ids = await idsOf("Write to ann@example.com today");
    for (const prompt of [ids, [ids]]) {
      const seen = await evaluated(prompt);
      expect(seen.text).not.toContain("ann@");
      expect(seen.text).toContain("<EMAIL_1>");
    }
    // A token-id prompt without personal data passes as sent (its ids, nothing added).
    const plain = await idsOf("Write to me today");
    const seen = await evaluated(plain);
    expect(seen.promptTokens).toBe(plain.length);
    expect(seen.text).toContain("Write to me today");
  });

  it("block: a token-id prompt carrying an address is refused with pii_detected; one without passes", async () => {
    const ids = await idsOf("Write to ann@example.com today");
    const err = await block.client.completions.create({ model: "tiny", prompt: ids, max_tokens: 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("pii_detected");
    expect((err as Error).message).not.toContain("ann@");
    const ok = await block.client.completions.create({ model: "tiny", prompt: await idsOf("Write to me today"), max_tokens: 4 });
    expect(ok.choices[0]!.text).toBeDefined();
    const bad = await block.client.completions.create({ model: "tiny", prompt: [1e9], max_tokens: 4 }).catch((e: unknown) => e);
    expect((bad as { status?: number }).status).toBe(400);
  });
});
