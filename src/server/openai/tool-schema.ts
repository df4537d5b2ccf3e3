/**
 * Tool parameter schemas → what node-llama-cpp's JSON-schema grammar can
 * express. Its grammar builder accepts anything and silently loosens what it
 * does not know (`{"type": "frobnicate"}` becomes `null`, `pattern` and
 * `minimum` are ignored), which would break the promise that a call always
 * matches the declared schema. So the schema is checked here, keyword by
 * keyword, and refused with a 400 naming the field when it cannot be honoured.
 *
 * Normalizations that keep the meaning: `anyOf` → `oneOf` (generation picks one
 * branch either way), `definitions` → `$defs` (and refs to them), and
 * annotations (`title`, `default`, `$schema`, ...) are dropped.
 */
import { invalidRequest } from "../../errors.js";

const PRIMITIVES = new Set(["string", "number", "integer", "boolean", "null"]);
/** Keywords that describe but do not constrain; dropped. */
const ANNOTATIONS = new Set(["title", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly", "strict"]);
const STRING_FORMATS = new Set(["date-time", "time", "date"]);
/** Keywords that only apply to one type (and that node-llama-cpp ignores next to $ref/oneOf/const/enum). */
const TYPED_KEYWORDS = new Set(["properties", "additionalProperties", "minProperties", "maxProperties", "items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength", "format"]);
/** Deeper schemas are refused (node-llama-cpp's own limit is 512 scopes). */
const MAX_DEPTH = 64;

type Schema = Record<string, unknown>;

/**
 * Checks and normalizes one tool's `parameters`. `param` names the field in errors.
 *
 * @example
 * ```ts
 * toolParametersSchema({ type: "object", properties: { unit: { anyOf: [{ const: "c" }, { const: "f" }] } } }, "tools[0].function.parameters");
 * // { type: "object", properties: { unit: { oneOf: [{ const: "c" }, { const: "f" }] } } }
 * toolParametersSchema({ type: "object", properties: { n: { type: "integer", minimum: 1 } } }, "tools[0].function.parameters");
 * // throws 400: tools[0].function.parameters.properties.n: 'minimum' cannot be enforced ...
 * ```
 */
export function toolParametersSchema(parameters: Schema | undefined, param: string): Schema {
  if (parameters === undefined) return { type: "object", properties: {} };
  if (parameters.type !== "object") refuse(param, "", "the parameters schema must have type 'object'");
  const defs = collectDefs(parameters, param);
  return normalize(parameters, { param, path: "", depth: 0, defs });
}

interface Walk {
  param: string;
  path: string;
  depth: number;
  /** Definition names visible from here. */
  defs: ReadonlySet<string>;
}

function refuse(param: string, path: string, why: string): never {
  throw invalidRequest(`${param}${path}: ${why}. Tool parameters must be a JSON schema that the grammar can enforce.`, {
    param,
    code: "invalid_tool_schema",
  });
}

function collectDefs(node: Schema, param: string): Set<string> {
  const names = new Set<string>();
  for (const key of ["$defs", "definitions"]) {
    const defs = node[key];
    if (defs === undefined) continue;
    if (!isObject(defs)) refuse(param, `.${key}`, "must be an object of schemas");
    for (const name of Object.keys(defs)) names.add(name);
  }
  return names;
}

function normalize(node: unknown, w: Walk): Schema {
  if (w.depth > MAX_DEPTH) refuse(w.param, w.path, `nested deeper than ${MAX_DEPTH} levels`);
  if (!isObject(node)) refuse(w.param, w.path, "must be a schema object");
  const scope = new Set([...w.defs, ...collectDefs(node, w.param)]);
  const at = (suffix: string): Walk => ({ ...w, path: `${w.path}${suffix}`, depth: w.depth + 1, defs: scope });
  const out: Schema = {};
  const type = node.type;
  const types = Array.isArray(type) ? type : type === undefined ? [] : [type];
  for (const t of types) {
    if (typeof t !== "string" || (!PRIMITIVES.has(t) && t !== "object" && t !== "array")) refuse(w.param, `${w.path}.type`, `unsupported type ${JSON.stringify(t)}`);
  }
  if (Array.isArray(type) && types.some((t) => !PRIMITIVES.has(t as string))) {
    refuse(w.param, `${w.path}.type`, "a list of types may only name string, number, integer, boolean and null");
  }
  if (type !== undefined) out.type = type;

  for (const [key, value] of Object.entries(node)) {
    if (key === "type" || ANNOTATIONS.has(key)) continue;
    const path = `.${key}`;
    switch (key) {
      case "description":
        if (typeof value !== "string") refuse(w.param, `${w.path}${path}`, "must be a string");
        out.description = value;
        break;
      case "$defs":
      case "definitions":
        out.$defs = Object.fromEntries(Object.entries(value as Schema).map(([name, def]) => [name, normalize(def, at(`${path}.${name}`))]));
        break;
      case "$ref": {
        const ref = typeof value === "string" ? value.replace(/^#\/definitions\//, "#/$defs/") : "";
        const name = ref.startsWith("#/$defs/") ? ref.slice("#/$defs/".length) : undefined;
        if (name === undefined || !scope.has(name)) refuse(w.param, `${w.path}${path}`, `reference ${JSON.stringify(value)} does not point to a definition in $defs`);
        out.$ref = ref;
        break;
      }
      case "const":
        if (!isLiteral(value)) refuse(w.param, `${w.path}${path}`, "must be a string, number, boolean or null");
        out.const = value;
        break;
      case "enum":
        if (!Array.isArray(value) || value.length === 0 || !value.every(isLiteral)) refuse(w.param, `${w.path}${path}`, "must be a non-empty list of strings, numbers, booleans or nulls");
        out.enum = value;
        break;
      case "oneOf":
      case "anyOf":
        if (!Array.isArray(value) || value.length === 0) refuse(w.param, `${w.path}${path}`, "must be a non-empty list of schemas");
        if (out.oneOf) refuse(w.param, `${w.path}${path}`, "oneOf and anyOf cannot be combined");
        out.oneOf = value.map((s, i) => normalize(s, at(`${path}[${i}]`)));
        break;
      default:
        normalizeTyped(key, value, types as string[], out, w, at);
    }
  }
  // node-llama-cpp honours only the first of $ref, oneOf, const, enum, format and ignores the rest of the node.
  const typed = Object.keys(out).filter((k) => TYPED_KEYWORDS.has(k));
  const chooser = ["$ref", "oneOf", "const", "enum"].find((k) => out[k] !== undefined);
  if (chooser && typed.length > 0) refuse(w.param, w.path, `'${chooser}' cannot be combined with '${typed[0]}'`);
  if (out.format !== undefined && (out.minLength !== undefined || out.maxLength !== undefined)) {
    refuse(w.param, w.path, "'format' cannot be combined with minLength/maxLength");
  }
  return out;
}

/** Keywords that only make sense for one type. */
function normalizeTyped(key: string, value: unknown, types: string[], out: Schema, w: Walk, at: (suffix: string) => Walk): void {
  const path = `${w.path}.${key}`;
  const only = (t: string) => {
    // With a list of types, node-llama-cpp ignores type-specific keywords.
    if (types.length !== 1 || types[0] !== t) refuse(w.param, path, `'${key}' is only supported on a schema of type '${t}'`);
  };
  const count = () => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) refuse(w.param, path, "must be a non-negative integer");
    out[key] = value;
  };
  switch (key) {
    case "properties":
      only("object");
      if (!isObject(value)) refuse(w.param, path, "must be an object of schemas");
      out.properties = Object.fromEntries(Object.entries(value).map(([name, s]) => [name, normalize(s, at(`.properties.${name}`))]));
      return;
    case "required":
      only("object");
      // Every declared property is generated, so any `required` list is satisfied.
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) refuse(w.param, path, "must be a list of property names");
      out.required = value;
      return;
    case "additionalProperties":
      only("object");
      out.additionalProperties = typeof value === "boolean" ? value : normalize(value, at(".additionalProperties"));
      return;
    case "minProperties":
    case "maxProperties":
      only("object");
      return count();
    case "items":
      only("array");
      out.items = normalize(value, at(".items"));
      return;
    case "prefixItems":
      only("array");
      if (!Array.isArray(value)) refuse(w.param, path, "must be a list of schemas");
      out.prefixItems = value.map((s, i) => normalize(s, at(`.prefixItems[${i}]`)));
      return;
    case "minItems":
    case "maxItems":
      only("array");
      return count();
    case "minLength":
    case "maxLength":
      only("string");
      return count();
    case "format":
      only("string");
      if (typeof value !== "string" || !STRING_FORMATS.has(value)) refuse(w.param, path, `format ${JSON.stringify(value)} cannot be enforced (supported: date-time, time, date)`);
      out.format = value;
      return;
    default:
      refuse(w.param, path, `'${key}' cannot be enforced by the grammar`);
  }
}

function isObject(v: unknown): v is Schema {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isLiteral(v: unknown): boolean {
  return v === null || ["string", "number", "boolean"].includes(typeof v);
}
