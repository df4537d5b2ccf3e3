/**
 * The request body for iteration `i`. Same rules as loadtest/k6/lib/body.js,
 * so the k6 scripts and the Node runner send identical traffic.
 */
import type { RequestSpec } from "../scenarios/types.js";

/**
 * @param model overrides `body.model` (MODEL env / --model)
 * @example buildBody(scenario.request, 0, undefined) // { model: "default", messages: [...], ... }
 */
export function buildBody(spec: RequestSpec, i: number, model: string | undefined): Record<string, unknown> {
  const variants = spec.variants ?? [];
  const variant = variants.length ? (variants[i % variants.length] ?? {}) : {};
  const base: Record<string, unknown> = { model: "default", ...spec.body, ...variant };
  if (model) base.model = model;
  // A null in a variant removes the field (e.g. stream_options on a non-streamed variant).
  for (const [k, v] of Object.entries(base)) if (v === null) delete base[k];
  const prompt = spec.prompts[i % spec.prompts.length] ?? "";
  const text = spec.uniquePrompts ? `${prompt} (#${i})` : prompt;
  if (spec.path === "/v1/completions") return { ...base, prompt: text };
  const messages = spec.system ? [{ role: "system", content: spec.system }] : [];
  messages.push({ role: "user", content: text });
  return { ...base, messages };
}

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
