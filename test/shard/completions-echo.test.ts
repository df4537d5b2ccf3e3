/**
 * Scoring a text through the API, OpenAI's legacy way: `/v1/completions` with `echo` + `logprobs`
 * (+ `max_tokens: 0`) returns the prompt's tokens with their log probabilities on a real shard
 * process of the tiny model, through the official client, against OpenAI's published schema; a
 * second gateway whose model is the first one as a remote upstream passes it through; and
 * `switchyard eval perplexity --url` gives the local eval's number over a real socket.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { evaluateModels, remotePerplexity } from "../../src/eval/index.js";
import { evalCommand } from "../../src/eval-command.js";
import { startGateway, type Gateway } from "../../src/server/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { readSse, startTestGateway, tinyModelPath, type TestGateway } from "../helpers/gateway.js";
import { openAISpec } from "../helpers/openai-spec.js";

interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: Array<number | null>;
  top_logprobs: Array<Record<string, number> | null>;
  text_offset: number[];
}

const PROMPT = "Once upon a time there was a little cat who liked the sun.";
let local: TestGateway;
let relay: Gateway;
let relayDir: string;
let file: string;
let text: string;

beforeAll(async () => {
  openAISpec();
  file = await tinyModelPath();
  text = (await readFile(path.resolve("test/fixtures/eval/tinystories-style.txt"), "utf8")).slice(0, 700);
  local = await startTestGateway({ cache: { enabled: false } }, { contextSize: 512 });
  relayDir = await mkdtemp(path.join(os.tmpdir(), "switchyard-echo-relay-"));
  // A second gateway whose model is the first one, as a remote OpenAI-compatible upstream.
  relay = await startGateway({
    config: loadConfig({
      env: {},
      raw: {
        server: { port: 0, host: "127.0.0.1" },
        dataDir: relayDir,
        telemetry: { logLevel: "silent" },
        cache: { enabled: false },
        models: [{ name: "relayed", upstream: `${local.url}/v1`, upstreamModel: "tiny", fallback: "none" }],
      },
    }),
    logger: createLogger({ level: "silent" }),
  });
}, 180_000);
afterAll(async () => {
  await relay?.close();
  await local?.close();
  if (relayDir) await rm(relayDir, { recursive: true, force: true });
});

const post = (base: string, route: string, body: unknown) =>
  fetch(`${base}/v1/${route}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** Schema errors other than the two places OpenAI's published schema does not model: the echoed first token's null logprob and top_logprobs. */
function specErrors(body: unknown, ref = openAISpec().responseRef("POST", "/completions", 200, "application/json")): string[] {
  const check = openAISpec().check(ref, body);
  return check.errors.filter((e) => !/^\/choices\/\d+\/logprobs\/(token_logprobs|top_logprobs)\/0 /.test(e) && !/^\/choices\/\d+\/logprobs (must match|must be null)/.test(e));
}

describe("/v1/completions echo + logprobs", () => {
  it("max_tokens 0 scores the prompt: its tokens, the first with a null logprob, text offsets, top alternatives; spec-valid", async () => {
    const client = local.client;
    const res = await client.completions.create({ model: "tiny", prompt: PROMPT, echo: true, logprobs: 2, max_tokens: 0 });
    expect(specErrors(res)).toEqual([]);
    const choice = res.choices[0]!;
    expect(choice.text).toBe(PROMPT);
    expect(choice.finish_reason).toBe("length");
    expect(res.usage?.completion_tokens).toBe(0);
    const lp = choice.logprobs as unknown as CompletionLogprobs;
    expect(lp.tokens.join("")).toBe(PROMPT);
    expect(lp.token_logprobs[0]).toBeNull();
    expect(lp.top_logprobs[0]).toBeNull();
    expect(lp.token_logprobs.slice(1).every((l) => typeof l === "number" && l <= 0)).toBe(true);
    let at = 0;
    for (const [i, token] of lp.tokens.entries()) {
      expect(lp.text_offset[i]).toBe(at);
      at += token.length;
    }
    for (const top of lp.top_logprobs.slice(1)) {
      // The two alternatives plus the chosen token when it is not among them (OpenAI's "up to logprobs + 1").
      expect(Object.keys(top!).length).toBeGreaterThanOrEqual(2);
      expect(Object.keys(top!).length).toBeLessThanOrEqual(3);
    }
    // Every text token is scored: the model adds a BOS, echoed as the (empty, null) first token.
    expect(lp.tokens[0]).toBe("");
    expect(lp.tokens.length).toBe((res.usage?.prompt_tokens ?? 0) + 1);
  });

  it("with max_tokens > 0 the completion follows the echoed prompt, its offsets past the prompt's text", async () => {
    const res = await local.client.completions.create({ model: "tiny", prompt: PROMPT, echo: true, logprobs: 1, max_tokens: 5, temperature: 0 });
    expect(specErrors(res)).toEqual([]);
    const choice = res.choices[0]!;
    const plain = await local.client.completions.create({ model: "tiny", prompt: PROMPT, max_tokens: 5, temperature: 0 });
    expect(choice.text).toBe(PROMPT + plain.choices[0]!.text);
    const lp = choice.logprobs as unknown as CompletionLogprobs;
    expect(lp.tokens.length).toBe((res.usage?.prompt_tokens ?? 0) + 1 + (res.usage?.completion_tokens ?? 0));
    expect(lp.tokens.join("")).toBe(choice.text);
    expect(lp.text_offset.at(-1)! + lp.tokens.at(-1)!.length).toBe(choice.text.length);
    // echo without logprobs: the text only.
    const bare = await local.client.completions.create({ model: "tiny", prompt: PROMPT, echo: true, max_tokens: 5, temperature: 0 });
    expect(bare.choices[0]!.text).toBe(choice.text);
    expect(bare.choices[0]!.logprobs).toBeNull();
  });

  it("the echoed log probabilities are the local eval's: their sum is the NLL of a single-window perplexity", async () => {
    const [evaluation] = await evaluateModels([file], PROMPT, { contextSize: 512, stride: 500, threads: 1, gpu: false, decodeTokens: 1 });
    const res = await local.client.completions.create({ model: "tiny", prompt: PROMPT, echo: true, logprobs: 0, max_tokens: 0 });
    const scores = (res.choices[0]!.logprobs as unknown as CompletionLogprobs).token_logprobs.filter((l): l is number => l !== null);
    expect(scores.length).toBe(evaluation!.scored);
    const nll = -scores.reduce((a, b) => a + b, 0);
    // Same arithmetic (engine's scoreTokens) on the same GGUF; only llama.cpp's batch split may differ (shard: 2 slots).
    expect(Math.abs(nll - evaluation!.meanNll * evaluation!.scored) / nll).toBeLessThan(1e-4);
  });

  it("token-id prompts are evaluated as given; /v1/tokenize gives the ids (BOS first with add_special_tokens)", async () => {
    const tokenize = async (special: boolean) => ((await (await post(local.url, "tokenize", { model: "tiny", prompt: PROMPT, add_special_tokens: special })).json()) as { tokens: number[]; count: number; max_model_len: number });
    const plain = await tokenize(false);
    const special = await tokenize(true);
    expect(special.tokens.slice(1)).toEqual(plain.tokens);
    expect(plain.max_model_len).toBe(512);
    const byText = await local.client.completions.create({ model: "tiny", prompt: PROMPT, echo: true, logprobs: 0, max_tokens: 0 });
    const byIds = await local.client.completions.create({ model: "tiny", prompt: special.tokens, echo: true, logprobs: 0, max_tokens: 0 });
    expect(byIds.choices[0]!.text).toBe(PROMPT);
    expect((byIds.choices[0]!.logprobs as unknown as CompletionLogprobs).token_logprobs).toEqual((byText.choices[0]!.logprobs as unknown as CompletionLogprobs).token_logprobs);
  });

  it("bad input is a 400 in OpenAI's envelope naming the parameter", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ prompt: PROMPT, max_tokens: 0 }, "max_tokens"],
      [{ prompt: [1, 2, 99_999_999], echo: true, logprobs: 0, max_tokens: 0 }, "prompt"],
      [{ prompt: PROMPT, echo: true, logprobs: 9, max_tokens: 0 }, "logprobs"],
    ];
    for (const [body, param] of cases) {
      const res = await post(local.url, "completions", { model: "tiny", ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
    }
  });

  it("a remote OpenAI-compatible backend passes echo and tokenize through", async () => {
    const direct = await local.client.completions.create({ model: "tiny", prompt: PROMPT, echo: true, logprobs: 2, max_tokens: 3, temperature: 0 });
    const relayed = await new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: "x", maxRetries: 0 }).completions.create({ model: "relayed", prompt: PROMPT, echo: true, logprobs: 2, max_tokens: 3, temperature: 0 });
    expect(specErrors(relayed)).toEqual([]);
    expect(relayed.choices[0]!.text).toBe(direct.choices[0]!.text);
    const a = direct.choices[0]!.logprobs as unknown as CompletionLogprobs;
    const b = relayed.choices[0]!.logprobs as unknown as CompletionLogprobs;
    expect(b.tokens).toEqual(a.tokens);
    expect(b.token_logprobs).toEqual(a.token_logprobs);
    expect(b.text_offset).toEqual(a.text_offset);
    const ids = (await (await post(relay.url, "tokenize", { model: "relayed", prompt: PROMPT })).json()) as { tokens: number[] };
    expect(ids.tokens.length).toBe(a.tokens.length - 3);
  });
});

/** A streamed legacy completion's chunks joined back: its text, its logprobs' parallel arrays, its finish reason and usage. */
interface Joined {
  text: string;
  tokens: string[];
  token_logprobs: Array<number | null>;
  text_offset: number[];
  finish: string | null;
  usage?: { prompt_tokens: number; completion_tokens: number } | null | undefined;
  chunks: number;
}

function join(chunks: OpenAI.Completion[]): Joined {
  const out: Joined = { text: "", tokens: [], token_logprobs: [], text_offset: [], finish: null, chunks: chunks.length };
  for (const chunk of chunks) {
    if (chunk.usage) out.usage = chunk.usage;
    for (const choice of chunk.choices) {
      out.text += choice.text;
      const lp = choice.logprobs as unknown as CompletionLogprobs | null;
      if (lp) {
        out.tokens.push(...lp.tokens);
        out.token_logprobs.push(...lp.token_logprobs);
        out.text_offset.push(...lp.text_offset);
      }
      out.finish = choice.finish_reason ?? out.finish;
    }
  }
  return out;
}

async function streamed(client: OpenAI, body: Omit<OpenAI.CompletionCreateParamsStreaming, "stream">): Promise<{ joined: Joined; chunks: OpenAI.Completion[] }> {
  const chunks: OpenAI.Completion[] = [];
  for await (const chunk of await client.completions.create({ ...body, stream: true, stream_options: { include_usage: true } })) chunks.push(chunk);
  return { joined: join(chunks), chunks };
}

describe("/v1/completions echo, streamed", () => {
  it("the first chunk carries the prompt and its scored tokens, then the completion: joined, the non-stream echo (official client)", async () => {
    const body = { model: "tiny", prompt: PROMPT, echo: true, logprobs: 2, max_tokens: 6, temperature: 0 } as const;
    const whole = await local.client.completions.create(body);
    const { joined, chunks } = await streamed(local.client, body);
    // The prompt comes first, alone, with its tokens' log probabilities (the first one null).
    const first = chunks[0]!.choices[0]!;
    expect(first.text).toBe(PROMPT);
    const lp = first.logprobs as unknown as CompletionLogprobs;
    expect(lp.tokens.join("")).toBe(PROMPT);
    expect(lp.token_logprobs[0]).toBeNull();
    expect(first.finish_reason).toBeNull();
    const wlp = whole.choices[0]!.logprobs as unknown as CompletionLogprobs;
    expect(joined.text).toBe(whole.choices[0]!.text);
    expect(joined.tokens).toEqual(wlp.tokens);
    expect(joined.token_logprobs).toEqual(wlp.token_logprobs);
    expect(joined.text_offset).toEqual(wlp.text_offset);
    expect(joined.finish).toBe(whole.choices[0]!.finish_reason);
    expect(joined.usage).toMatchObject({ prompt_tokens: whole.usage!.prompt_tokens, completion_tokens: whole.usage!.completion_tokens });
  });

  it("every chunk conforms to the completion chunk schema; the stream ends with [DONE]", async () => {
    const res = await post(local.url, "completions", { model: "tiny", prompt: PROMPT, echo: true, logprobs: 1, max_tokens: 4, temperature: 0, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    const events = await readSse(res);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as unknown);
    for (const chunk of chunks) expect(specErrors(chunk, openAISpec().completionChunkRef())).toEqual([]);
    expect((chunks[0] as OpenAI.Completion).choices[0]!.text).toBe(PROMPT);
  });

  it("max_tokens 0 scores the prompt as the non-stream echo does: one prompt chunk, finish_reason length, no completion tokens", async () => {
    const body = { model: "tiny", prompt: PROMPT, echo: true, logprobs: 0, max_tokens: 0 } as const;
    const whole = await local.client.completions.create(body);
    const { joined } = await streamed(local.client, body);
    const wlp = whole.choices[0]!.logprobs as unknown as CompletionLogprobs;
    expect(joined.text).toBe(PROMPT);
    expect(joined.token_logprobs).toEqual(wlp.token_logprobs);
    expect(joined.text_offset).toEqual(wlp.text_offset);
    expect(joined.finish).toBe("length");
    expect(joined.usage).toMatchObject({ completion_tokens: 0, prompt_tokens: whole.usage!.prompt_tokens });
    // Without logprobs too: the prompt's text, then the end.
    const bare = await streamed(local.client, { model: "tiny", prompt: PROMPT, echo: true, max_tokens: 0 });
    expect(bare.joined.text).toBe(PROMPT);
    expect(bare.joined.finish).toBe("length");
    expect(bare.joined.tokens).toEqual([]);
  });

  it("echo without logprobs: the prompt's text first, then the completion the plain stream gives", async () => {
    const plain = await streamed(local.client, { model: "tiny", prompt: PROMPT, max_tokens: 5, temperature: 0 });
    const echoed = await streamed(local.client, { model: "tiny", prompt: PROMPT, echo: true, max_tokens: 5, temperature: 0 });
    expect(echoed.chunks[0]!.choices[0]!.text).toBe(PROMPT);
    expect(echoed.joined.text).toBe(PROMPT + plain.joined.text);
  });

  it("a token-id prompt echoes its tokens' text; n = 2 echoes the prompt once per choice", async () => {
    const ids = ((await (await post(local.url, "tokenize", { model: "tiny", prompt: PROMPT, add_special_tokens: true })).json()) as { tokens: number[] }).tokens;
    const byIds = await streamed(local.client, { model: "tiny", prompt: ids, echo: true, logprobs: 0, max_tokens: 2, temperature: 0 });
    expect(byIds.chunks[0]!.choices[0]!.text).toBe(PROMPT);
    const two = await streamed(local.client, { model: "tiny", prompt: PROMPT, echo: true, n: 2, max_tokens: 2, temperature: 0 });
    for (const index of [0, 1]) {
      const texts = two.chunks.flatMap((c) => c.choices.filter((ch) => ch.index === index).map((ch) => ch.text));
      expect(texts[0]).toBe(PROMPT);
      expect(texts.join("").startsWith(PROMPT)).toBe(true);
    }
  });

  it("through a relay to a remote OpenAI-compatible backend: the same stream", async () => {
    const body = { prompt: PROMPT, echo: true, logprobs: 2, max_tokens: 3, temperature: 0 } as const;
    const direct = await streamed(local.client, { model: "tiny", ...body });
    const relayed = await streamed(new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: "x", maxRetries: 0 }), { model: "relayed", ...body });
    expect(relayed.chunks[0]!.choices[0]!.text).toBe(PROMPT);
    expect(relayed.joined.text).toBe(direct.joined.text);
    expect(relayed.joined.tokens).toEqual(direct.joined.tokens);
    expect(relayed.joined.token_logprobs).toEqual(direct.joined.token_logprobs);
    expect(relayed.joined.text_offset).toEqual(direct.joined.text_offset);
  });
});

describe("switchyard eval perplexity --url", () => {
  it("gives the local eval's perplexity (sliding window with stride) through a real gateway, directly and through a relay", async () => {
    const options = { contextSize: 96, stride: 48 };
    const [evaluation] = await evaluateModels([file], text, { ...options, threads: 1, gpu: false, decodeTokens: 1 });
    const remote = await remotePerplexity(text, { url: `${local.url}/v1`, model: "tiny", ...options });
    expect(remote.tokens).toBe(evaluation!.tokens);
    expect(remote.scored).toBe(evaluation!.scored);
    expect(remote.evaluated).toBe(evaluation!.evaluated);
    // May not be bit-exact: the shard's context (2 slots × 512, its own batch size) splits llama.cpp's matmuls otherwise than the eval's
    // single 96-token context, which moves logits in the last float bits; 1e-4 relative is far below any quantization's effect.
    expect(Math.abs(remote.perplexity - evaluation!.perplexity) / evaluation!.perplexity).toBeLessThan(1e-4);
    const relayed = await remotePerplexity(text, { url: `${relay.url}/v1`, model: "relayed", ...options });
    expect(relayed.perplexity).toBeCloseTo(remote.perplexity, 9);

    // The CLI: results.json carries the same figure.
    const out = await mkdtemp(path.join(os.tmpdir(), "switchyard-eval-url-"));
    const textFile = path.join(out, "text.txt");
    await writeFile(textFile, text);
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const err = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      await evalCommand(["perplexity", "--url", `${local.url}/v1`, "--model", "tiny", "--text", textFile, "--context", "96", "--stride", "48", "--out", out]);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    const json = JSON.parse(await readFile(path.join(out, "results.json"), "utf8")) as { results: Array<{ perplexity: number }> };
    expect(json.results[0]!.perplexity).toBeCloseTo(remote.perplexity, 9);
    await rm(out, { recursive: true, force: true });
  });
});
