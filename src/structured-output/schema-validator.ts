/**
 * The other half of the structured-output policy: every JSON schema a request
 * carries is compiled with ajv when the request arrives (a schema that is not
 * valid JSON schema is a 400), and the finished output is validated against
 * the whole schema. What the grammar could not carry and the model got wrong
 * comes back as {@link SchemaViolation}s, reported to the client, never
 * refused after the fact.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { SchemaViolation } from "../types.js";


/** A schema ajv cannot compile. */
export class InvalidSchemaError extends Error {
  override readonly name = "InvalidSchemaError";
}

// ajv-formats is CommonJS with a default export; under NodeNext its namespace is what TypeScript sees.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const options = { strict: false, allErrors: true, validateFormats: true } as const;
const engines = {
  draft7: addFormats(new Ajv(options)),
  draft2019: addFormats(new Ajv2019(options)),
  draft2020: addFormats(new Ajv2020(options)),
};
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 256;

/**
 * The validator of a schema (compiled once per distinct schema; the draft follows `$schema`, 2020-12 when absent).
 *
 * @example
 * ```ts
 * const validate = schemaValidator({ type: "integer", maximum: 3 });
 * violationsOf(validate, "7", "response_format"); // [{ target: "response_format", path: "", keyword: "maximum", message: "must be <= 3" }]
 * ```
 * @throws InvalidSchemaError naming what ajv could not compile.
 */
export function schemaValidator(schema: unknown): ValidateFunction {
  const key = JSON.stringify(schema);
  const hit = compiled.get(key);
  if (hit) return hit;
  const engine = engineFor(schema);
  let validate: ValidateFunction;
  try {
    // `$id`s would collide between requests in ajv's registry: validate a copy without the root one.
    const { $id: _id, ...rest } = schema as Record<string, unknown>;
    validate = engine.compile(typeof schema === "boolean" ? schema : rest);
  } catch (err) {
    throw new InvalidSchemaError(err instanceof Error ? err.message : String(err));
  }
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(key, validate);
  return validate;
}

function engineFor(schema: unknown): Ajv {
  const draft = typeof schema === "object" && schema !== null ? (schema as { $schema?: unknown }).$schema : undefined;
  if (typeof draft === "string") {
    if (/draft-0[4-7]/.test(draft)) return engines.draft7;
    if (draft.includes("2019-09")) return engines.draft2019;
  }
  return engines.draft2020;
}

/**
 * The violations of `text` (JSON) against a compiled schema; empty when it matches.
 *
 * @example
 * ```ts
 * violationsOf(schemaValidator({ type: "object" }), "{\"a\":", "tool_calls[0].arguments");
 * // [{ target: "tool_calls[0].arguments", path: "", keyword: "json", message: "not valid JSON: …" }]
 * ```
 */
export function violationsOf(validate: ValidateFunction, text: string, target: string): SchemaViolation[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return [{ target, path: "", keyword: "json", message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` }];
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => ({ target, path: e.instancePath, keyword: e.keyword, message: e.message ?? e.keyword }));
}
