/**
 * Validates response bodies and stream events against OpenAI's published
 * OpenAPI description (vendored in test/fixtures/openai-openapi/, MIT, see its
 * SOURCE.md). The schema for a response is looked up the way a client reads the
 * spec: `paths[path][method].responses[status].content[contentType].schema`.
 *
 * Top-level fields the schema does not declare (Switchyard's `switchyard` and
 * `citations` blocks) are legal under the spec's open objects; they are
 * returned as `extensions` so tests can list them separately and refuse any
 * extension nobody documented.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const SPEC_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/openai-openapi/openapi.yaml");
const SPEC_ID = "openai-openapi";

type Json = Record<string, unknown>;

export interface SpecCheck {
  /** ajv's messages, `instancePath message` each; empty when the body conforms. */
  errors: string[];
  /** Top-level keys of the body the schema does not declare (vendor extensions). */
  extensions: string[];
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * OpenAPI 3.0's `nullable: true` (still on a few schemas of this 3.1 document) means "or null";
 * JSON Schema 2020-12 has no such keyword, so it is rewritten into a type union / anyOf.
 */
function rewriteNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteNullable);
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = rewriteNullable(v);
  if (out.nullable !== true) return out;
  delete out.nullable;
  if (typeof out.type === "string") return { ...out, type: [out.type, "null"], ...(Array.isArray(out.enum) ? { enum: [...out.enum, null] } : {}) };
  return { anyOf: [out, { type: "null" }] };
}

class OpenAISpec {
  private readonly ajv: Ajv2020;
  private readonly doc: Json;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    this.doc = rewriteNullable(yaml.load(readFileSync(SPEC_FILE, "utf8"))) as Json;
    // The spec carries OpenAPI keywords (discriminator, x-oaiMeta, example) that are not JSON Schema: not strict.
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats.default(this.ajv);
    this.ajv.addSchema({ $id: SPEC_ID, components: this.doc.components }, SPEC_ID);
  }

  /** The `$ref` of a response schema, e.g. `#/components/schemas/CreateChatCompletionResponse`. */
  responseRef(method: string, route: string, status: number, contentType: string): string {
    const op = (this.doc.paths as Json)[route] as Json | undefined;
    const res = ((op?.[method.toLowerCase()] as Json | undefined)?.responses as Json | undefined)?.[String(status)] as Json | undefined;
    const schema = ((res?.content as Json | undefined)?.[contentType] as Json | undefined)?.schema as Json | undefined;
    if (typeof schema?.$ref !== "string") throw new Error(`the spec has no ${contentType} schema for ${method} ${route} ${status}`);
    return schema.$ref;
  }

  /**
   * The member of a union schema (e.g. `ResponseStreamEvent`) whose `type` property allows `type`:
   * checking an event against its own schema gives readable errors (a union's are one per member).
   */
  unionMemberRef(union: string, type: string): string {
    const members = (this.resolve(this.componentRef(union)).anyOf ?? this.resolve(this.componentRef(union)).oneOf) as Json[] | undefined;
    for (const m of members ?? []) {
      if (typeof m.$ref !== "string") continue;
      const t = ((this.resolve(m.$ref).properties as Json | undefined)?.type as Json | undefined)?.enum;
      if (Array.isArray(t) && t.includes(type)) return m.$ref;
    }
    throw new Error(`no member of ${union} has type ${type}`);
  }

  /** A named component, e.g. `ErrorResponse`, `ResponseItemList`. */
  componentRef(name: string): string {
    if (!isObject((this.doc.components as Json).schemas) || !((this.doc.components as { schemas: Json }).schemas[name])) {
      throw new Error(`the spec has no component ${name}`);
    }
    return `#/components/schemas/${name}`;
  }

  check(ref: string, body: unknown): SpecCheck {
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${SPEC_ID}${ref}` });
      this.compiled.set(ref, validate);
    }
    const ok = validate(body);
    const errors = ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`);
    const declared = this.declaredKeys(this.resolve(ref), new Set());
    const extensions = isObject(body) ? Object.keys(body).filter((k) => !declared.has(k)) : [];
    return { errors, extensions };
  }

  /**
   * A copy of a component with `mutate` applied, for the few places where the spec is known to
   * differ from what OpenAI's API sends (each use says why). Returns a ref usable with {@link check}.
   */
  derive(name: string, as: string, mutate: (schema: Json) => void): string {
    const ref = `#/components/schemas/${as}`;
    if (this.compiled.has(ref)) return ref;
    const copy = structuredClone(this.resolve(this.componentRef(name)));
    mutate(copy);
    (this.doc.components as { schemas: Json }).schemas[as] = copy;
    const absolute = JSON.parse(JSON.stringify(copy).replaceAll('"#/components/', `"${SPEC_ID}#/components/`)) as Json;
    this.compiled.set(ref, this.ajv.compile(absolute));
    return ref;
  }

  /**
   * Legacy completions stream chunks: the spec has no chunk schema for them. OpenAI streams the body's
   * shape with `finish_reason: null` until a choice's last chunk and `usage: null` (include_usage) until
   * the usage chunk.
   */
  completionChunkRef(): string {
    return this.derive("CreateCompletionResponse", "SwitchyardCompletionChunk", (s) => {
      const props = s.properties as Record<string, Record<string, unknown>>;
      const choice = (props.choices!.items as { properties: Record<string, Record<string, unknown>> }).properties;
      choice.finish_reason = { anyOf: [choice.finish_reason, { type: "null" }] };
      props.usage = { anyOf: [props.usage, { type: "null" }] };
    });
  }

  private resolve(ref: string): Json {
    const name = ref.replace("#/components/schemas/", "");
    return ((this.doc.components as { schemas: Json }).schemas[name] ?? {}) as Json;
  }

  /** Property names a schema declares at its top level, through $ref and allOf/anyOf/oneOf. */
  private declaredKeys(schema: Json, seen: Set<Json>, into = new Set<string>()): Set<string> {
    if (seen.has(schema)) return into;
    seen.add(schema);
    if (typeof schema.$ref === "string") this.declaredKeys(this.resolve(schema.$ref), seen, into);
    if (isObject(schema.properties)) for (const k of Object.keys(schema.properties)) into.add(k);
    for (const key of ["allOf", "anyOf", "oneOf"]) {
      const list = schema[key];
      if (Array.isArray(list)) for (const s of list) if (isObject(s)) this.declaredKeys(s, seen, into);
    }
    return into;
  }
}

let spec: OpenAISpec | undefined;

/** The parsed spec, once per test file (parsing the 3 MB YAML takes a few seconds). */
export function openAISpec(): OpenAISpec {
  spec ??= new OpenAISpec();
  return spec;
}

export type { OpenAISpec };
