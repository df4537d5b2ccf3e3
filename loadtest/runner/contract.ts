/**
 * The response contract, as named checks. The names are the k6 scripts' check
 * names (loadtest/k6/lib/contract.js), so a failure reads the same in both.
 */
import type { Expectations } from "../scenarios/types.js";
import type { SwitchyardBlock } from "./types.js";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** What the runner saw of one response. */
export interface ResponseFacts {
  status: number;
  retryAfter: string | undefined;
  /** Non-success bodies: whether it was `{"error":{"message":...}}`. */
  errorEnvelope: boolean;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
  /** Streams: the last payload was `[DONE]`. */
  endedWithDone: boolean;
  /** Streams: every payload but `[DONE]` parsed as a JSON object. */
  chunksAreJson: boolean;
  /** Streams: an `{"error":...}` event arrived. */
  errorEvent: boolean;
  /** Non-streams: `object` of the body. */
  objectKind: string | undefined;
  text: string;
  usage: Usage | undefined;
  switchyard: SwitchyardBlock | undefined;
}

/**
 * Names of the failed checks; empty = the response honoured the contract.
 * @example failedChecks({ status: 503, retryAfter: undefined, ... }, expect) // ["503 carries Retry-After"]
 */
export function failedChecks(f: ResponseFacts, expect: Expectations): string[] {
  const checks: Record<string, boolean> = {};
  const ok = expect.okStatuses.includes(f.status);
  checks["status is expected (success or proper overload)"] = ok || expect.toleratedStatuses.includes(f.status);
  if (expect.retryAfterOn.includes(f.status)) checks[`${f.status} carries Retry-After`] = Boolean(f.retryAfter);
  if (!ok) {
    if (f.status !== 0) checks["error body is the OpenAI envelope"] = f.errorEnvelope;
  } else {
    if (f.stream) {
      checks["stream ends with [DONE]"] = f.endedWithDone;
      checks["stream chunks are JSON"] = f.chunksAreJson;
      checks["stream has no error event"] = !f.errorEvent;
      if (f.includeUsage) checks["usage chunk carries the switchyard block"] = f.usage !== undefined && f.switchyard !== undefined;
    } else {
      checks["body is a completion"] = f.objectKind === "chat.completion" || f.objectKind === "text_completion";
      checks["body carries usage and the switchyard block"] = f.usage !== undefined && f.switchyard !== undefined;
    }
    checks["output is not empty"] = f.text.length > 0;
    if (f.usage) {
      checks["usage adds up"] = f.usage.total_tokens === f.usage.prompt_tokens + f.usage.completion_tokens;
      if (f.maxTokens !== undefined) checks["completion_tokens <= max_tokens"] = f.usage.completion_tokens <= f.maxTokens;
    }
  }
  return Object.entries(checks)
    .filter(([, passed]) => !passed)
    .map(([name]) => name);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The `switchyard` block of a body or chunk, when well-formed. @example switchyardOf(JSON.parse(lastChunk))?.ttft_ms */
export function switchyardOf(v: unknown): SwitchyardBlock | undefined {
  if (!isObject(v) || !isObject(v.switchyard)) return undefined;
  const b = v.switchyard;
  return typeof b.ttft_ms === "number" && typeof b.queue_ms === "number" && typeof b.decode_ms === "number" ? (b as unknown as SwitchyardBlock) : undefined;
}

/** The `usage` of a body or chunk, when well-formed. @example usageOf(body)?.completion_tokens */
export function usageOf(v: unknown): Usage | undefined {
  if (!isObject(v) || !isObject(v.usage)) return undefined;
  const u = v.usage;
  return typeof u.prompt_tokens === "number" && typeof u.completion_tokens === "number" && typeof u.total_tokens === "number" ? (u as unknown as Usage) : undefined;
}

/** Output text of a chat/completions body or chunk. @example textOf({ choices: [{ delta: { content: "Hi" } }] }) // "Hi" */
export function textOf(v: unknown): string {
  if (!isObject(v) || !Array.isArray(v.choices)) return "";
  const c: unknown = v.choices[0];
  if (!isObject(c)) return "";
  if (typeof c.text === "string") return c.text;
  if (isObject(c.message) && typeof c.message.content === "string") return c.message.content;
  if (isObject(c.delta) && typeof c.delta.content === "string") return c.delta.content;
  return "";
}

/** `{"error":{"message","code"}}` → its message and code. @example errorOf(await res.json())?.code // "server_is_overloaded" */
export function errorOf(v: unknown): { message: string; code?: string } | undefined {
  if (!isObject(v) || !isObject(v.error) || typeof v.error.message !== "string") return undefined;
  return { message: v.error.message, ...(typeof v.error.code === "string" ? { code: v.error.code } : {}) };
}

export { isObject };
