/**
 * JSON schemas a request carries (tool parameters, `response_format`, and
 * through translation Responses' `text.format` and Messages' `input_schema`),
 * one policy for all (README, "Structured output"): any valid JSON schema is
 * accepted; the engine's grammar enforces what a grammar can, and the gateway
 * validates the finished output against the whole schema and reports what it
 * breaks. A schema ajv cannot compile is a 400 naming the field; so is one no
 * value can satisfy (the engine finds those while building the grammar).
 */
import { invalidRequest } from "../../errors.js";
import { InvalidSchemaError, schemaValidator } from "../../structured-output/index.js";

type Schema = Record<string, unknown>;

/**
 * Checks one tool's `parameters` (an object schema). `param` names the field in errors.
 *
 * @example
 * ```ts
 * toolParametersSchema({ type: "object", properties: { n: { type: "integer", minimum: 1 } } }, "tools[0].function.parameters"); // the schema, unchanged
 * toolParametersSchema({ type: "string" }, "tools[0].function.parameters"); // throws 400: … must have type 'object'
 * ```
 */
export function toolParametersSchema(parameters: Schema | undefined, param: string): Schema {
  if (parameters === undefined) return { type: "object", properties: {} };
  if (parameters.type !== "object") {
    throw invalidRequest(`${param}: the parameters schema must have type 'object'.`, { param, code: "invalid_tool_schema" });
  }
  return acceptedSchema(parameters, param, "invalid_tool_schema");
}

/**
 * A schema as given, once ajv compiled it (the compiled validator is cached for the output check).
 *
 * @example
 * ```ts
 * acceptedSchema({ type: "object", properties: { a: { type: "strin" } } }, "response_format.json_schema.schema");
 * // throws 400: response_format.json_schema.schema is not a valid JSON schema: schema is invalid: data/properties/a/type must be equal to one of the allowed values …
 * ```
 */
export function acceptedSchema(schema: Schema, param: string, code = "invalid_json_schema"): Schema {
  try {
    schemaValidator(schema);
  } catch (err) {
    if (err instanceof InvalidSchemaError) throw invalidRequest(`${param} is not a valid JSON schema: ${err.message}`, { param, code });
    throw err;
  }
  return schema;
}
