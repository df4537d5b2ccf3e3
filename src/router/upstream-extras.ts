/**
 * Tools and logprobs across an OpenAI-compatible upstream: our request in
 * OpenAI's fields, and the upstream's streamed `delta.tool_calls` and
 * `logprobs` (chat or legacy completions shape) back in our types.
 */
import type { GeneratedToolCall, PromptTokenLogprob, TokenAlternative, TokenLogprob, ToolCallFragment, ToolsRequest } from "../types.js";

export interface UpstreamToolCallDelta {
  index?: number;
  function?: { name?: string; arguments?: string };
}

interface UpstreamChatLogprob {
  token: string;
  logprob: number;
  bytes?: number[] | null;
  top_logprobs?: Array<{ token: string; logprob: number; bytes?: number[] | null }>;
}

export interface UpstreamLogprobs {
  /** Chat shape. */
  content?: UpstreamChatLogprob[] | null;
  /** Completions shape. */
  tokens?: string[];
  token_logprobs?: Array<number | null>;
  top_logprobs?: Array<Record<string, number> | null>;
}

/**
 * Our tools request in OpenAI's request fields.
 *
 * @example
 * ```ts
 * upstreamTools({ tools: [{ name: "f", parameters: { type: "object" } }], choice: { name: "f" }, parallel: false });
 * // { tools: [{ type: "function", function: { name: "f", parameters: {...} } }], tool_choice: { type: "function", function: { name: "f" } }, parallel_tool_calls: false }
 * ```
 */
export function upstreamTools(tools: ToolsRequest): Record<string, unknown> {
  return {
    tools: tools.tools.map((t) => ({
      type: "function",
      function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.parameters },
    })),
    tool_choice: typeof tools.choice === "object" ? { type: "function", function: { name: tools.choice.name } } : tools.choice,
    parallel_tool_calls: tools.parallel,
  };
}

/**
 * Upstream `delta.tool_calls` → our fragments, accumulating the calls in `calls`.
 *
 * @example
 * ```ts
 * const calls = new Map();
 * toolCallFragments([{ index: 0, function: { name: "f", arguments: "" } }], calls); // [{ index: 0, name: "f", arguments: "" }]
 * toolCallFragments([{ index: 0, function: { arguments: "{}" } }], calls);         // [{ index: 0, arguments: "{}" }]
 * ```
 */
export function toolCallFragments(deltas: readonly UpstreamToolCallDelta[], calls: Map<number, GeneratedToolCall>): ToolCallFragment[] {
  const out: ToolCallFragment[] = [];
  for (const d of deltas) {
    const index = d.index ?? 0;
    const args = d.function?.arguments ?? "";
    let call = calls.get(index);
    if (!call) {
      call = { name: d.function?.name ?? "", arguments: "" };
      calls.set(index, call);
      out.push({ index, name: call.name, arguments: "" });
    }
    call.arguments += args;
    if (args) out.push({ index, arguments: args });
  }
  return out;
}

/**
 * Upstream logprobs (chat or completions shape) → our entries; `offset` is where this chunk's text starts.
 *
 * @example
 * ```ts
 * logprobEntries({ tokens: ["Hi"], token_logprobs: [-0.1], top_logprobs: [{ Hi: -0.1 }] }, 0);
 * // [{ token: "Hi", logprob: -0.1, bytes: [72, 105], offset: 0, top: [{ token: "Hi", logprob: -0.1, bytes: [72, 105] }] }]
 * ```
 */
/**
 * An echoed legacy completion split back into the prompt's scored tokens and the completion: the first
 * `promptTokens` entries when known (a token-id prompt), else those starting inside the prompt's text.
 * Returns the completion's text and entries with offsets into it.
 */
export function splitEcho(
  text: string,
  lp: UpstreamLogprobs | null | undefined,
  prompt: { text: string } | { tokens: number },
): { promptLogprobs: PromptTokenLogprob[]; text: string; logprobs: TokenLogprob[] } {
  const all = logprobEntries(lp, 0);
  const count = "tokens" in prompt ? Math.min(prompt.tokens, all.length) : all.filter((e) => e.offset < prompt.text.length).length;
  const promptLogprobs: PromptTokenLogprob[] = all.slice(0, count).map((e, i) => ({ ...e, logprob: lp?.token_logprobs?.[i] ?? null }));
  const promptLength = "tokens" in prompt ? (all[count]?.offset ?? text.length) : prompt.text.length;
  return { promptLogprobs, text: text.slice(promptLength), logprobs: all.slice(count).map((e) => ({ ...e, offset: e.offset - promptLength })) };
}

export function logprobEntries(lp: UpstreamLogprobs | null | undefined, offset: number): TokenLogprob[] {
  if (!lp) return [];
  const bytes = (token: string, given?: number[] | null) => given ?? Array.from(Buffer.from(token, "utf8"));
  if (lp.content) {
    let at = offset;
    return lp.content.map((e) => {
      const entry: TokenLogprob = {
        token: e.token,
        logprob: e.logprob,
        bytes: bytes(e.token, e.bytes),
        offset: at,
        top: (e.top_logprobs ?? []).map((t): TokenAlternative => ({ token: t.token, logprob: t.logprob, bytes: bytes(t.token, t.bytes) })),
      };
      at += e.token.length;
      return entry;
    });
  }
  let at = offset;
  return (lp.tokens ?? []).map((token, i) => {
    const top = Object.entries(lp.top_logprobs?.[i] ?? {})
      .sort((a, b) => b[1] - a[1])
      .map(([t, logprob]): TokenAlternative => ({ token: t, logprob, bytes: bytes(t) }));
    const entry: TokenLogprob = { token, logprob: lp.token_logprobs?.[i] ?? 0, bytes: bytes(token), offset: at, top };
    at += token.length;
    return entry;
  });
}
