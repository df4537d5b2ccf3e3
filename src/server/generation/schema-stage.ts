/**
 * The structured-output check after generation (README, "Structured output"):
 * the grammar carries what it can of a request's JSON schemas
 * (`response_format`, `text.format`, tool parameters, `input_schema`); this
 * validates the finished output against the whole schema with ajv and
 * attaches what it breaks to the result as `schemaViolations`, which each
 * wire API reports in its `switchyard` extension block (and, unstreamed, the
 * `x-switchyard-schema-violations` header). Runs outside the cache, so a
 * replayed answer is checked the same way.
 */
import { schemaValidator, violationsOf } from "../../structured-output/index.js";
import type { GenerationInput, GenerationResult, SamplingParams, SchemaViolation } from "../../types.js";
import type { Producer } from "./respond.js";

/** The response header with the number of violations (non-streamed answers). */
export const SCHEMA_VIOLATIONS_HEADER = "x-switchyard-schema-violations";

/**
 * The producer whose results carry their schema violations; `produce` itself when the request has no schema.
 *
 * @example
 * ```ts
 * const produce = validatedProducer(plan.input, plan.params, poolProducer(c, pool));
 * (await produce(() => undefined, signal)).schemaViolations; // [{ target: "response_format", path: "/n", keyword: "maximum", … }]
 * ```
 */
export function validatedProducer(input: GenerationInput, params: SamplingParams, produce: Producer): Producer {
  const grammar = params.grammar;
  const tools = input.kind === "chat" ? input.tools : undefined;
  if (!grammar && !tools) return produce;
  return async (onChunk, signal) => {
    const result = await produce(onChunk, signal);
    const violations: SchemaViolation[] = [];
    if (grammar && !result.toolCalls?.length) {
      const validate = schemaValidator(grammar.type === "json_schema" ? grammar.schema : { type: "object" });
      violations.push(...violationsOf(validate, result.text, "response_format"));
    }
    result.toolCalls?.forEach((call, i) => {
      const tool = tools?.tools.find((t) => t.name === call.name);
      if (tool) violations.push(...violationsOf(schemaValidator(tool.parameters), call.arguments || "{}", `tool_calls[${i}].arguments`));
    });
    return violations.length ? { ...result, schemaViolations: violations } : result;
  };
}

/**
 * The `schema_violations` entry of a `switchyard` block, or nothing when there are none.
 *
 * @example
 * ```ts
 * ({ ...timings, ...violationsBlock(results) }); // { …, schema_violations: [{ choice: 0, target: "response_format", path: "/n", keyword: "maximum", message: "must be <= 3" }] }
 * ```
 */
export function violationsBlock(results: readonly Pick<GenerationResult, "schemaViolations">[]): { schema_violations?: Array<SchemaViolation & { choice: number }> } {
  const all = results.flatMap((r, choice) => (r.schemaViolations ?? []).map((v) => ({ choice, ...v })));
  return all.length ? { schema_violations: all } : {};
}
