import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildLabelledSet, scoreDetections } from "../../bench/pii-labelled-set.js";
import {
  holdbackStart,
  luhnValid,
  PII_ENTITY_TYPES,
  PiiBlockedError,
  PiiDetectionError,
  PiiDetector,
  PiiGuard,
  type PiiEntityType,
  type PiiPolicy,
  GuardedGeneration,
  RestoredGeneration,
  redactGenerationInput,
  restoreChunk,
  restoreResult,
} from "../../src/guardrails/index.js";
import type { TokenLogprob } from "../../src/types.js";

const ALL: PiiPolicy = { mode: "redact", entities: PII_ENTITY_TYPES, restore: true };

function typesIn(text: string, entities: readonly PiiEntityType[] = PII_ENTITY_TYPES): string[] {
  return new PiiDetector({ entities }).detect(text).map((m) => `${m.type}:${m.value}`);
}

describe("detectors", () => {
  it("finds each type and validates with checksums", () => {
    expect(typesIn("mail ann.lee+x@mail.example.co.uk.")).toEqual(["email:ann.lee+x@mail.example.co.uk"]);
    expect(typesIn("call (415) 555-2671 or +44 20 7946 0958")).toEqual(["phone:(415) 555-2671", "phone:+44 20 7946 0958"]);
    expect(typesIn("card 4111 1111 1111 1111 and 4111 1111 1111 1112")).toEqual(["credit_card:4111 1111 1111 1111"]);
    expect(typesIn("IBAN DE89 3704 0044 0532 0130 00 vs DE88 3704 0044 0532 0130 00")).toEqual(["iban:DE89 3704 0044 0532 0130 00"]);
    expect(typesIn("ssn 123-45-6789, not 000-12-3456 or 666-12-3456")).toEqual(["ssn:123-45-6789"]);
    expect(typesIn("from 192.168.1.20 and 2001:db8::1, not 999.1.1.1 or 10:30")).toEqual(["ip:192.168.1.20", "ip:2001:db8::1"]);
  });

  it("leaves look-alikes alone: order numbers, dates, times, versions, prices", () => {
    expect(typesIn("Order 113542617735902 and 00004587345, at 10:30 on 2024-05-01, v1.2.3, $19.99, zip 94103-1234")).toEqual([]);
    expect(typesIn("order 4111111111111111")).toEqual([]); // Luhn-valid, but an order reference by context
    expect(typesIn("call 4155552671")).toEqual(["phone:4155552671"]); // a bare number is a phone only with a phone word
    expect(typesIn("ticket 4155552671")).toEqual([]);
  });

  it("Luhn", () => {
    expect(luhnValid("79927398713")).toBe(true);
    expect(luhnValid("79927398710")).toBe(false);
  });

  it("detects only the configured types", () => {
    expect(typesIn("ann@example.com 4111 1111 1111 1111", ["credit_card"])).toEqual(["credit_card:4111 1111 1111 1111"]);
  });

  it("meets the targets on a labelled set the tuning never saw (another seed)", () => {
    const set = buildLabelledSet({ size: 600, seed: 7 });
    const detector = new PiiDetector({ timeoutMs: 60_000 });
    const scores = scoreDetections(set, (t) => detector.detect(t), PII_ENTITY_TYPES);
    for (const type of ["email", "phone", "credit_card", "iban"]) {
      expect(scores[type]!.recall, type).toBeGreaterThanOrEqual(0.98);
      expect(scores[type]!.precision, type).toBeGreaterThanOrEqual(0.95);
    }
  });
});

describe("redaction and restore", () => {
  it("replaces values with typed, numbered placeholders; the same value keeps its placeholder", () => {
    const r = new PiiGuard({ policy: ALL }).begin();
    expect(r.redactInput("I am ann@example.com (ANN@example.com), call (415) 555-2671 or bob@example.org")).toBe(
      "I am <EMAIL_1> (<EMAIL_1>), call <PHONE_1> or <EMAIL_2>",
    );
    expect(r.redactInput("again: bob@example.org")).toBe("again: <EMAIL_2>");
    expect(Object.fromEntries(r.redactionCounts())).toEqual({ email: 4, phone: 1 });
  });

  it("restores the caller's values only; values the model produced stay redacted", () => {
    const r = new PiiGuard({ policy: ALL }).begin();
    r.redactInput("my card is 4111-1111-1111-1111");
    const out = r.scanOutput("Card <CREDIT_CARD_1> is linked to eve@evil.example, see <EMAIL_1>.");
    expect(out.stored).toBe("Card <CREDIT_CARD_1> is linked to <EMAIL_1>, see <EMAIL_1>.");
    expect(out.caller).toBe("Card 4111-1111-1111-1111 is linked to <EMAIL_1>, see <EMAIL_1>.");
  });

  it("restore: false keeps placeholders for the caller too", () => {
    const r = new PiiGuard({ policy: { ...ALL, restore: false } }).begin();
    r.redactInput("ann@example.com");
    expect(r.scanOutput("hi <EMAIL_1>").caller).toBe("hi <EMAIL_1>");
  });

  it("block mode names the types; off mode changes nothing", () => {
    const blocked = new PiiGuard({ policy: { ...ALL, mode: "block" } }).begin();
    expect(blocked.redactInput("no personal data here")).toBe("no personal data here");
    let err: unknown;
    try {
      blocked.redactInput("ann@example.com, SSN 123-45-6789");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PiiBlockedError);
    expect((err as PiiBlockedError).types).toEqual(["email", "ssn"]);
    expect((err as Error).message).not.toContain("ann@");
    const off = new PiiGuard({ policy: { ...ALL, mode: "off" } }).begin();
    expect(off.redactInput("ann@example.com")).toBe("ann@example.com");
  });

  it("fails closed: a throwing detector or an exhausted budget throws PiiDetectionError, and the observer hears it", () => {
    const failures: string[] = [];
    const faulty = new PiiGuard({
      policy: ALL,
      overrides: {
        phone: () => {
          throw new Error("boom");
        },
      },
      observer: { failed: (reason) => failures.push(reason) },
    }).begin();
    expect(() => faulty.redactInput("call me")).toThrow(PiiDetectionError);
    expect(() => faulty.scanOutput("call me")).toThrow(PiiDetectionError);
    const slow = new PiiGuard({ policy: ALL, timeoutMs: 0, observer: { failed: (reason) => failures.push(reason) } }).begin();
    expect(() => slow.redactInput("ann@example.com")).toThrow(/time budget/);
    expect(failures).toEqual(["error", "error", "timeout"]);
  });

  it("retrieved passages are redacted (never restored, never blocked on); storedForm counts nothing", () => {
    const events: unknown[][] = [];
    const r = new PiiGuard({ policy: { ...ALL, mode: "block" }, observer: { redacted: (...args) => events.push(args) } }).begin();
    expect(r.redactRetrieved("Write to desk@shop.example or desk@shop.example")).toBe("Write to <EMAIL_1> or <EMAIL_1>");
    expect(r.restore("see <EMAIL_1>")).toBe("see <EMAIL_1>");
    expect(events).toEqual([["email", "retrieved", 2]]);
    expect(r.storedForm("from desk@shop.example and eve@x.example")).toBe("from <EMAIL_1> and <EMAIL_2>");
    expect(events).toHaveLength(1);
    const redacting = new PiiGuard({ policy: ALL }).begin();
    redacting.redactInput("I am ann@example.com");
    expect(redacting.redactRetrieved("ann@example.com wrote to desk@shop.example")).toBe("<EMAIL_1> wrote to <EMAIL_2>");
    expect(redacting.restore("<EMAIL_1>, <EMAIL_2>")).toBe("ann@example.com, <EMAIL_2>");
  });

  it("reports counts by type and direction to the observer, never values", () => {
    const events: unknown[][] = [];
    const r = new PiiGuard({ policy: ALL, observer: { redacted: (...args) => events.push(args) } }).begin();
    r.redactInput("ann@example.com and bob@example.com");
    r.scanOutput("write to eve@example.com");
    expect(events).toEqual([
      ["email", "input", 2],
      ["email", "output", 1],
    ]);
  });
});

describe("stream scanning", () => {
  const sentences = buildLabelledSet({ size: 60, seed: 11 }).map((s) => s.text);

  function streamed(text: string, cuts: number[], policy: PiiPolicy = ALL): { stored: string; caller: string; whole: { stored: string; caller: string } } {
    const whole = new PiiGuard({ policy }).begin();
    whole.redactInput("my email is ann@example.com");
    const r = new PiiGuard({ policy }).begin();
    r.redactInput("my email is ann@example.com");
    const s = r.outputStream();
    let stored = "";
    let caller = "";
    let at = 0;
    for (const cut of [...cuts.filter((c) => c > 0 && c < text.length)].sort((a, b) => a - b).concat(text.length)) {
      const out = s.push(text.slice(at, cut));
      stored += out.stored;
      caller += out.caller;
      at = cut;
    }
    const end = s.flush();
    return { stored: stored + end.stored, caller: caller + end.caller, whole: whole.scanOutput(text) };
  }

  it("streams exactly the redaction of the whole text, wherever the chunks split values", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...sentences),
        fc.constantFrom("", " Reply to <EMAIL_1> now.", " <EMAIL_1>"),
        fc.array(fc.nat(200), { maxLength: 40 }),
        (sentence, suffix, cuts) => {
          const text = sentence + suffix;
          const got = streamed(text, cuts);
          expect(got.stored).toBe(got.whole.stored);
          expect(got.caller).toBe(got.whole.caller);
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });

  it("a value split across chunks never reaches the output in pieces", () => {
    const r = new PiiGuard({ policy: ALL }).begin();
    const s = r.outputStream();
    const parts = ["Your card 4111 11", "11 1111 1111 and mail ann@exa", "mple.com, thanks", "."];
    const out = parts.map((p) => s.push(p).stored).join("") + s.flush().stored;
    expect(out).toBe("Your card <CREDIT_CARD_1> and mail <EMAIL_1>, thanks.");
    for (const leak of ["4111", "ann@", "exa"]) expect(out).not.toContain(leak);
  });

  it("holds back only the tail that could still grow into a value", () => {
    const r = new PiiGuard({ policy: { mode: "redact", entities: ["credit_card"], restore: false } }).begin();
    const s = r.outputStream();
    expect(s.push("Thanks for waiting, your order 42").stored).toBe("Thanks for waiting, your order ");
    expect(s.held).toBe(2);
    expect(s.push(" is on its way.").stored).toBe("42 is on its way.");
    expect(s.held).toBe(0);
    // With email enabled the last word may become an address; with only numbers it may not.
    expect(holdbackStart("hello ann", ["email"])).toBe(6);
    expect(holdbackStart("hello ann", ["credit_card", "ssn"])).toBe(9);
    expect(holdbackStart("see <EMAIL_", [], true)).toBe(4);
  });

  it("restores placeholders the model splits across chunks", () => {
    const r = new PiiGuard({ policy: ALL }).begin();
    r.redactInput("ann@example.com");
    const s = r.outputStream();
    const out = ["Hi <EM", "AIL_", "1>, done"].map((p) => s.push(p).caller).join("") + s.flush().caller;
    expect(out).toBe("Hi ann@example.com, done");
  });
});

describe("generation stage", () => {
  const timings = { queueMs: 0, ttftMs: 0, decodeMs: 0, cachedPromptTokens: 0 };

  it("redacts message text, tool-call arguments and tool results; tool definitions pass", () => {
    const r = new PiiGuard({ policy: ALL }).begin();
    const input = redactGenerationInput(r, {
      kind: "chat",
      messages: [
        { role: "user", content: "email ann@example.com" },
        { role: "assistant", content: "", toolCalls: [{ id: "c1", type: "function", function: { name: "lookup", arguments: '{"email":"ann@example.com"}' } }] },
        { role: "tool", content: '{"phone":"+44 20 7946 0958"}', toolCallId: "c1" },
      ],
      tools: { tools: [{ name: "lookup", description: "mail ops@example.com", parameters: { type: "object" } }], choice: "auto", parallel: false },
    });
    expect(JSON.stringify(input)).not.toContain("ann@example.com");
    expect(JSON.stringify(input)).not.toContain("7946");
    expect(input.kind === "chat" && input.messages[1]!.toolCalls![0]!.function.arguments).toBe('{"email":"<EMAIL_1>"}');
    expect(JSON.stringify(input)).toContain("ops@example.com");
    expect(redactGenerationInput(r, { kind: "completion", prompt: "ssn 123-45-6789" })).toEqual({ kind: "completion", prompt: "ssn <SSN_1>" });
  });

  it("scans streamed text and tool-call arguments into stored chunks; restore gives the caller view", () => {
    const r = new PiiGuard({ policy: ALL }).begin();
    r.redactInput("I am ann@example.com");
    const g = new GuardedGeneration(r);
    const raw = ["Mail <EMAIL_1> or bob@ex", "ample.com"];
    const stored = raw.map((text) => g.chunk({ text, tokens: 1 }));
    const call = g.chunk({ text: "", tokens: 1, toolCalls: [{ index: 0, name: "send", arguments: '{"to":"eve@exam' }] });
    const call2 = g.chunk({ text: "", tokens: 1, toolCalls: [{ index: 0, arguments: 'ple.com"}' }] });
    const done = g.finish({
      text: raw.join(""),
      finishReason: "stop",
      usage: { promptTokens: 1, completionTokens: 4 },
      timings,
      shard: "m#0",
      toolCalls: [{ name: "send", arguments: '{"to":"eve@example.com"}' }],
    });
    const all = [...stored, call, call2, ...(done.tail ? [done.tail] : [])];
    // Numbered in the order values are found: the tool call's address completes before the text's is flushed.
    expect(all.map((c) => c.text).join("")).toBe("Mail <EMAIL_1> or <EMAIL_3>");
    expect(all.flatMap((c) => c.toolCalls ?? []).map((f) => f.arguments).join("")).toBe('{"to":"<EMAIL_2>"}');
    expect(done.result.text).toBe("Mail <EMAIL_1> or <EMAIL_3>");
    expect(done.result.toolCalls![0]!.arguments).toBe('{"to":"<EMAIL_2>"}');
    expect(restoreResult(r, done.result).text).toBe("Mail ann@example.com or <EMAIL_3>");
    expect(restoreChunk(r, stored[0]!).text).toBe("Mail ann@example.com or ");
  });

  it("keeps the tokens' log probabilities, drops those of replaced values, and moves offsets to the caller's text", () => {
    const r = new PiiGuard({ policy: ALL }).begin();
    r.redactInput("I am ann@example.com");
    const g = new GuardedGeneration(r);
    const tokens = ["Mail", " <EMAIL_1>", " or", " bob", "@ex", "ample", ".com", " now", "!"];
    let offset = 0;
    const entries: TokenLogprob[] = tokens.map((token) => {
      const e = { token, logprob: -1, bytes: [...Buffer.from(token)], offset, top: [{ token: "x", logprob: -2, bytes: [120] }] };
      offset += token.length;
      return e;
    });
    const raw = tokens.join("");
    const stored = entries.map((e) => g.chunk({ text: e.token, tokens: 1, logprobs: [e] }));
    const done = g.finish({ text: raw, finishReason: "stop", usage: { promptTokens: 1, completionTokens: 9 }, timings, shard: "m#0", logprobs: entries });
    const chunks = [...stored, ...(done.tail ? [done.tail] : [])];
    const storedText = "Mail <EMAIL_1> or <EMAIL_2> now!";
    expect(chunks.map((c) => c.text).join("")).toBe(storedText);
    const streamed = chunks.flatMap((c) => c.logprobs ?? []);
    expect(streamed.map((e) => e.token)).toEqual(["Mail", " <EMAIL_1>", " or", " now", "!"]);
    expect(done.result.logprobs).toEqual(streamed);
    for (const e of streamed) expect(storedText.slice(e.offset, e.offset + e.token.length)).toBe(e.token);
    // The caller's view: "<EMAIL_1>" restored, later offsets moved by the difference.
    const callerText = "Mail ann@example.com or <EMAIL_2> now!";
    const restored = new RestoredGeneration(r);
    const callerChunks = chunks.map((c) => restored.chunk(c));
    expect(callerChunks.map((c) => c.text).join("")).toBe(callerText);
    const result = restoreResult(r, done.result);
    expect(callerChunks.flatMap((c) => c.logprobs ?? [])).toEqual(result.logprobs);
    expect(result.logprobs!.map((e) => e.offset)).toEqual([0, 4, callerText.indexOf(" or"), callerText.indexOf(" now"), callerText.length - 1]);
    // Without streamed chunks the result alone is redacted the same way.
    const whole = new GuardedGeneration(r).finish({ text: raw, finishReason: "stop", usage: { promptTokens: 1, completionTokens: 9 }, timings, shard: "m#0", logprobs: entries });
    expect(whole.result.logprobs).toEqual(streamed);
  });
});
