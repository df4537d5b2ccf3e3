/**
 * Bad input on the real path (issue #14, items 10 and 13): a clear 400 in
 * OpenAI's envelope naming the param, never a 500, never shard CPU burnt on it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}

async function send(t: TestGateway, route: string, body: string | Record<string, unknown>): Promise<{ status: number; body: ErrorEnvelope }> {
  const res = await fetch(`${t.url}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as ErrorEnvelope };
}

describe("bad input", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ cache: { enabled: false } }, { slots: 2, contextSize: 512 });
  });
  afterAll(async () => t?.close());

  const hugeEnum = { type: "object", properties: { pick: { type: "string", enum: Array.from({ length: 20_000 }, (_, i) => `v${i}`) } }, required: ["pick"] };

  it("a 20,000-value enum in response_format is a 400 naming the param, not a grammar compile", async () => {
    const { status, body } = await send(t, "/v1/chat/completions", {
      model: "tiny",
      messages: [{ role: "user", content: "pick" }],
      max_tokens: 4,
      response_format: { type: "json_schema", json_schema: { name: "p", schema: hugeEnum } },
    });
    expect(status).toBe(400);
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.param).toBe("response_format");
    expect(body.error.message).toMatch(/too large/);
  });
});
