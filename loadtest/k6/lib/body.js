// @ts-check
/**
 * The request body for iteration `i` of a scenario. The one implementation:
 * the Node runner imports it too (loadtest/runner/body.ts re-exports it), so
 * k6 and the runner send identical traffic. Plain ESM that k6 can load,
 * type-checked with JSDoc (tsc -p loadtest/tsconfig.json, and the root
 * tsconfig through the runner's import).
 */

/** @typedef {import("../../scenarios/types.js").RequestSpec} RequestSpec */

/**
 * @param {RequestSpec} spec
 * @param {number} i iteration number across the whole test
 * @param {string | undefined} model overrides `body.model`
 * @returns {Record<string, unknown>}
 * @example buildBody(scenario.request, 0, undefined) // { model: "default", messages: [...], ... }
 */
export function buildBody(spec, i, model) {
  const variants = spec.variants ?? [];
  const variant = variants.length ? variants[i % variants.length] : {};
  /** @type {Record<string, unknown>} */
  const base = { model: "default", ...spec.body, ...variant };
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
