/**
 * Request bodies for the Node runner. `buildBody` is k6's own module
 * (loadtest/k6/lib/body.js, plain type-checked JS), so k6 and the runner
 * cannot drift apart; `traitsOf` is what only the runner needs.
 */
export { buildBody } from "../k6/lib/body.js";

/** What the runner needs to know about a body to check its response. */
export interface BodyTraits {
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
}

export function traitsOf(body: Record<string, unknown>): BodyTraits {
  const stream = body.stream === true;
  const opts = body.stream_options;
  const includeUsage = stream && typeof opts === "object" && opts !== null && (opts as { include_usage?: unknown }).include_usage === true;
  const maxTokens = typeof body.max_tokens === "number" ? body.max_tokens : typeof body.max_completion_tokens === "number" ? body.max_completion_tokens : undefined;
  return { stream, includeUsage, maxTokens };
}
