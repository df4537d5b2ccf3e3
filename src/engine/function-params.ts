/**
 * Tool parameters for `tool_choice: auto`, where node-llama-cpp's LlamaChat
 * builds the parameters' grammar itself from its own JSON-schema subset
 * (`GbnfJsonSchema`). This lowers any JSON schema to that subset, keeping
 * what node-llama-cpp enforces faithfully (types, enum/const, properties,
 * items, string lengths, date/time formats, `$ref` as `#/$defs/…`) and
 * dropping the rest: the gateway validates every call against the full schema
 * afterwards and reports what the grammar let through. Integer ranges of up to
 * {@link MAX_INTEGER_ENUM} values become an `enum` (node-llama-cpp's own
 * integer rule allows an exponent); forced calls (`required`, a named tool)
 * use the gateway's own grammar instead (`src/structured-output`).
 */
import type { GbnfJsonSchema } from "node-llama-cpp";

/** Widest integer range turned into an enum of its values. */
export const MAX_INTEGER_ENUM = 64;

const NODE_FORMATS = new Set(["date-time", "time", "date"]);
const PRIMITIVES = new Set(["string", "number", "integer", "boolean", "null"]);

type Schema = Record<string, unknown>;

/** Any JSON value, in node-llama-cpp's terms. */
const ANY: Schema = { oneOf: [{ type: ["string", "number", "boolean", "null"] }, { type: "array" }, { type: "object", additionalProperties: true }] };

/**
 * @example
 * ```ts
 * nodeLlamaParams({ type: "object", properties: { n: { type: "integer", minimum: 1, maximum: 3 }, s: { anyOf: [{ type: "string", pattern: "^a+$" }, { type: "null" }] } } });
 * // { type: "object", properties: { n: { enum: [1, 2, 3] }, s: { oneOf: [{ type: "string" }, { type: "null" }] } }, $defs: {} }
 * ```
 */
export function nodeLlamaParams(schema: Schema): GbnfJsonSchema {
  const defs: Record<string, Schema> = {};
  const names = new Map<string, string>();
  const resolve = (ref: string): unknown => {
    let node: unknown = schema;
    for (const raw of ref.slice(1).split("/").slice(1)) {
      const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
      node = typeof node === "object" && node !== null ? (node as Schema)[key] : undefined;
    }
    return node;
  };
  const lower = (node: unknown, depth: number): Schema => {
    if (depth > 64 || node === true || typeof node !== "object" || node === null || Array.isArray(node)) return ANY;
    const s = node as Schema;
    const description = typeof s.description === "string" ? { description: s.description } : {};
    if (typeof s.$ref === "string") {
      const ref = s.$ref;
      let name = names.get(ref);
      if (name === undefined) {
        const target = ref.startsWith("#") ? resolve(ref) : undefined;
        if (target === undefined) return ANY;
        name = `d${names.size}`;
        names.set(ref, name);
        defs[name] = lower(target, depth + 1);
      }
      return { $ref: `#/$defs/${name}`, ...description };
    }
    if (Array.isArray(s.allOf)) {
      const merged: Schema = { ...s, allOf: undefined };
      for (const part of s.allOf as unknown[]) {
        const p = typeof part === "object" && part !== null && typeof (part as Schema).$ref === "string" ? resolve((part as Schema).$ref as string) : part;
        if (typeof p !== "object" || p === null) continue;
        for (const [k, v] of Object.entries(p as Schema)) {
          if (k === "properties") merged.properties = { ...(merged.properties as Schema | undefined), ...(v as Schema) };
          else if (k === "required") merged.required = [...((merged.required as string[] | undefined) ?? []), ...(v as string[])];
          else merged[k] ??= v;
        }
      }
      delete merged.allOf;
      return lower(merged, depth + 1);
    }
    const union = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
    if (Array.isArray(union)) return { oneOf: union.map((b) => lower(b, depth + 1)), ...description };
    if ("const" in s && isLiteral(s.const)) return { const: s.const, ...description };
    if (Array.isArray(s.enum)) {
      const values = s.enum.filter(isLiteral);
      return values.length ? { enum: values, ...description } : ANY;
    }
    const types = (Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type]).filter((t): t is string => typeof t === "string");
    if (types.length === 0) {
      if (s.properties !== undefined || s.additionalProperties !== undefined) return lower({ ...s, type: "object" }, depth + 1);
      if (s.items !== undefined || s.prefixItems !== undefined) return lower({ ...s, type: "array" }, depth + 1);
      return ANY;
    }
    if (types.length > 1) {
      if (types.every((t) => PRIMITIVES.has(t) && t !== "integer" && t !== "string")) return { type: types, ...description };
      return { oneOf: types.map((t) => lower({ ...s, type: t }, depth + 1)), ...description };
    }
    const type = types[0]!;
    switch (type) {
      case "object": {
        const properties = typeof s.properties === "object" && s.properties !== null ? (s.properties as Schema) : {};
        const entries = Object.entries(properties).map(([k, v]) => [k, lower(v, depth + 1)] as const);
        const additional = s.additionalProperties;
        const hasProps = entries.length > 0;
        return {
          type: "object",
          properties: Object.fromEntries(entries),
          ...(Array.isArray(s.required) ? { required: s.required } : {}),
          // Extras are generated only for maps (no declared properties).
          ...(hasProps ? {} : { additionalProperties: typeof additional === "object" && additional !== null ? lower(additional, depth + 1) : additional !== false }),
          ...counts(s, ["minProperties", "maxProperties"]),
          ...description,
        };
      }
      case "array":
        return {
          type: "array",
          ...(s.items !== undefined && s.items !== false && !Array.isArray(s.items) ? { items: lower(s.items, depth + 1) } : {}),
          ...(Array.isArray(s.prefixItems) ? { prefixItems: s.prefixItems.map((p) => lower(p, depth + 1)) } : {}),
          ...counts(s, ["minItems", "maxItems"]),
          ...description,
        };
      case "string":
        if (typeof s.format === "string" && NODE_FORMATS.has(s.format) && s.pattern === undefined) return { type: "string", format: s.format, ...description };
        return { type: "string", ...(s.pattern === undefined ? counts(s, ["minLength", "maxLength"]) : {}), ...description };
      case "integer": {
        const values = smallIntegerRange(s);
        return values ? { enum: values, ...description } : { type: "integer", ...description };
      }
      case "number":
      case "boolean":
      case "null":
        return { type, ...description };
      default:
        return ANY;
    }
  };
  const root = lower(schema, 0);
  return { ...root, $defs: defs } as GbnfJsonSchema;
}

function smallIntegerRange(s: Schema): number[] | undefined {
  const lo = typeof s.exclusiveMinimum === "number" ? Math.floor(s.exclusiveMinimum) + 1 : typeof s.minimum === "number" ? Math.ceil(s.minimum) : undefined;
  const hi = typeof s.exclusiveMaximum === "number" ? Math.ceil(s.exclusiveMaximum) - 1 : typeof s.maximum === "number" ? Math.floor(s.maximum) : undefined;
  if (lo === undefined || hi === undefined || hi < lo || hi - lo >= MAX_INTEGER_ENUM) return undefined;
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

function counts(s: Schema, keys: string[]): Schema {
  return Object.fromEntries(keys.filter((k) => typeof s[k] === "number" && Number.isInteger(s[k]) && (s[k]) >= 0).map((k) => [k, s[k]]));
}

function isLiteral(v: unknown): v is string | number | boolean | null {
  return v === null || ["string", "number", "boolean"].includes(typeof v);
}
