/**
 * The structured-output grammar generator (src/structured-output) without a
 * model: grammars are turned into regular expressions (test/helpers/gbnf-regexp.ts)
 * to check what they accept, and compiled by node-llama-cpp's GBNF parser.
 */
import { getLlama, type Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { zodFunction, zodResponseFormat } from "openai/helpers/zod";
import { integerRangeGbnf, patternGbnf, schemaGrammar, SchemaGrammarError } from "../../src/structured-output/index.js";
import { schemaValidator, violationsOf } from "../../src/structured-output/schema-validator.js";
import { nodeLlamaParams } from "../../src/engine/function-params.js";
import { rebasedRefs } from "../../src/engine/tools.js";
import { fixNodeLlamaIntegerRule, INTEGER_RULE } from "../../src/engine/integer-rule.js";
import { gbnfToRegExp } from "../helpers/gbnf-regexp.js";

const accepts = (gbnf: string, text: string) => gbnfToRegExp(gbnf).test(text);

describe("integerRangeGbnf", () => {
  const ranges: Array<[number, number]> = [
    [0, 255],
    [-5, 5],
    [-1234, -17],
    [7, 1000],
    [0, 0],
    [1, 9],
    [-100, 0],
    [42, 42],
    [199, 30_001],
  ];
  it.each(ranges)("[%i, %i]: every integer inside and none outside, written the JSON way", (lo, hi) => {
    const re = new RegExp(`^(?:${gbnfToRegExp(`root ::= ${integerRangeGbnf(BigInt(lo), BigInt(hi))}`).source.slice(1, -1)})$`, "u");
    for (let n = lo - 300; n <= hi + 300; n++) {
      if (n > lo + 2000 && n < hi - 2000) n = hi - 2000;
      expect(re.test(String(n)), `${n}`).toBe(n >= lo && n <= hi);
    }
    for (const bad of ["-0", "007", "1e2", "5.0", "+5", ""]) expect(re.test(bad), bad).toBe(false);
  });

  it("spans the safe integers without an exponent", () => {
    const re = gbnfToRegExp(`root ::= ${integerRangeGbnf(-9007199254740991n, 9007199254740991n)}`);
    for (const ok of ["0", "-1", "9007199254740991", "-9007199254740991", "123456789012345"]) expect(re.test(ok), ok).toBe(true);
    for (const bad of ["9007199254740992", "-9007199254740992", "560E97", "278123e-276", "1.5", "10000000000000000"]) expect(re.test(bad), bad).toBe(false);
  });

  it("refuses an empty range", () => {
    expect(() => integerRangeGbnf(3n, 2n)).toThrow(RangeError);
  });
});

describe("patternGbnf", () => {
  const inside = (pattern: string, text: string) => accepts(`root ::= ${patternGbnf(pattern)!}`, JSON.stringify(text).slice(1, -1));
  it("carries literals, classes, escapes, groups, alternation and quantifiers", () => {
    expect(inside("^[A-Z]{2}-\\d{3}$", "AB-123")).toBe(true);
    expect(inside("^[A-Z]{2}-\\d{3}$", "AB-12")).toBe(false);
    expect(inside("^(?:ab|cd)+x?$", "abcdab")).toBe(true);
    expect(inside("^(?:ab|cd)+x?$", "abc")).toBe(false);
    expect(inside("^[^a-c]{1,3}$", "xyz")).toBe(true);
    expect(inside("^[^a-c]{1,3}$", "xaz")).toBe(false);
    expect(inside("^a\\.b\\$$", "a.b$")).toBe(true);
    expect(inside("^(?<year>\\d{4})$", "2026")).toBe(true);
  });

  it("never generates what JSON would have to escape, and writes a literal quote the JSON way", () => {
    expect(inside('^say "hi"$', 'say "hi"')).toBe(true);
    expect(inside("^.{2}$", 'a"')).toBe(false);
    expect(inside("^[ -~]{3}$", "a\\b")).toBe(false);
    expect(inside("^[ -~]{3}$", "a b")).toBe(true);
  });

  it("gives up on lookarounds, backreferences and word boundaries", () => {
    for (const p of ["^(?=a)b$", "^(?!x).*$", "^(a)\\1$", "\\bword\\b", "^\\p{L}+$", "^a{2,1}$"]) expect(patternGbnf(p), p).toBeUndefined();
  });

  it("carries zod's uuid and date patterns exactly", () => {
    const schema = z.toJSONSchema(z.object({ u: z.uuid(), d: z.iso.date() })) as { properties: Record<string, { pattern: string }> };
    expect(inside(schema.properties.u!.pattern, "123e4567-e89b-42d3-a456-426614174000")).toBe(true);
    expect(inside(schema.properties.u!.pattern, "123e4567-e89b-02d3-a456-426614174000")).toBe(false);
    expect(inside(schema.properties.d!.pattern, "2024-02-29")).toBe(true);
    expect(inside(schema.properties.d!.pattern, "2023-02-29")).toBe(false);
  });
});

describe("schemaGrammar", () => {
  const Item = z.object({ id: z.number().int().min(1).max(9), tag: z.enum(["a", "b"]) });
  const Order = z.object({
    n: z.number().int(),
    qty: z.number().int().positive().lte(100),
    price: z.number().min(0),
    scores: z.record(z.enum(["x", "y"]), z.number().int().min(0).max(5)),
    items: z.array(Item).min(1).max(2),
    email: z.email(),
    day: z.iso.date(),
    note: z.string().max(3).nullable(),
    pair: z.tuple([z.string().max(2), z.boolean()]),
    code: z.string().regex(/^[A-Z]{3}$/),
  });
  const schema = z.toJSONSchema(Order);
  const valid = {
    n: -42,
    qty: 100,
    price: 1.5,
    scores: { x: 3, y: 0 },
    items: [{ id: 9, tag: "a" }],
    email: "ab@cd.ef",
    day: "2026-11-27",
    note: null,
    pair: ["hi", true],
    code: "ABC",
  };

  it("accepts what zod v4 emits and only the values the schema allows", () => {
    const { gbnf } = schemaGrammar(schema);
    const ok = (v: unknown) => accepts(gbnf, JSON.stringify(v));
    expect(ok(valid)).toBe(true);
    expect(ok({ ...valid, note: "abc", items: [{ id: 1, tag: "b" }, { id: 2, tag: "a" }] })).toBe(true);
    expect(ok({ ...valid, n: 1.5 })).toBe(false);
    expect(accepts(gbnf, JSON.stringify(valid).replace('"n":-42', '"n":560E97'))).toBe(false);
    expect(ok({ ...valid, qty: 0 })).toBe(false);
    expect(ok({ ...valid, qty: 101 })).toBe(false);
    expect(ok({ ...valid, items: [] })).toBe(false);
    expect(ok({ ...valid, items: [{ id: 10, tag: "a" }] })).toBe(false);
    expect(ok({ ...valid, scores: { x: 1 } })).toBe(false);
    expect(ok({ ...valid, items: [valid.items[0], valid.items[0], valid.items[0]] })).toBe(false);
    expect(ok({ ...valid, note: "abcd" })).toBe(false);
    expect(ok({ ...valid, code: "AB" })).toBe(false);
    expect(ok({ ...valid, day: "2026-13-01" })).toBe(false);
    expect(ok({ ...valid, extra: 1 })).toBe(false);
    const { email: _e, ...missing } = valid;
    expect(ok(missing)).toBe(false);
  });

  it("lists what it cannot carry and leaves the rest to validation", () => {
    const { unenforced } = schemaGrammar({
      type: "object",
      properties: { m: { type: "integer", multipleOf: 3, maximum: 9 }, p: { type: "number", maximum: 2 }, u: { type: "array", items: { type: "integer" }, uniqueItems: true }, w: { type: "string", pattern: "^(?=a)" } },
    });
    expect(unenforced.sort()).toEqual(["/properties/m/multipleOf", "/properties/p/maximum", "/properties/u/uniqueItems", "/properties/w/pattern"]);
  });

  it("generates optional properties in order, each at most once", () => {
    const { gbnf } = schemaGrammar({ type: "object", properties: { a: { type: "boolean" }, b: { type: "null" }, c: { type: "boolean" } }, required: ["b"], additionalProperties: false });
    for (const ok of ['{"b":null}', '{"a":true,"b":null}', '{"b":null,"c":false}', '{"a":true,"b":null,"c":true}']) expect(accepts(gbnf, ok), ok).toBe(true);
    for (const bad of ["{}", '{"a":true}', '{"b":null,"a":true}', '{"a":true,,"b":null}']) expect(accepts(gbnf, bad), bad).toBe(false);
    const none = schemaGrammar({ type: "object", properties: { a: { type: "boolean" }, b: { type: "null" } } }).gbnf;
    for (const ok of ["{}", '{"a":true}', '{"b":null}', '{"a":false,"b":null}']) expect(accepts(none, ok), ok).toBe(true);
    expect(accepts(none, '{,"b":null}')).toBe(false);
  });

  it("resolves $ref (zod's $defs, draft-7 definitions, allOf) and draft-4 exclusive bounds", () => {
    const Leaf = z.object({ v: z.number().int().min(0).max(3) });
    const refSchema = z.toJSONSchema(z.object({ a: Leaf, b: Leaf }), { reused: "ref" });
    const g = schemaGrammar(refSchema).gbnf;
    expect(accepts(g, '{"a":{"v":3},"b":{"v":0}}')).toBe(true);
    expect(accepts(g, '{"a":{"v":4},"b":{"v":0}}')).toBe(false);
    const draft7 = schemaGrammar({ definitions: { d: { type: "integer", minimum: 0, maximum: 5, exclusiveMaximum: true } }, $ref: "#/definitions/d" }).gbnf;
    expect(accepts(draft7, "4")).toBe(true);
    expect(accepts(draft7, "5")).toBe(false);
    const allOf = schemaGrammar({ allOf: [{ type: "object", properties: { a: { const: 1 } }, required: ["a"] }, { properties: { b: { const: 2 } }, required: ["b"] }], additionalProperties: false }).gbnf;
    expect(accepts(allOf, '{"a":1,"b":2}')).toBe(true);
    expect(accepts(allOf, '{"a":1}')).toBe(false);
  });

  it("refuses a schema no value can satisfy, and a $ref that points nowhere", () => {
    expect(() => schemaGrammar({ type: "integer", minimum: 3, maximum: 2 })).toThrow(SchemaGrammarError);
    expect(() => schemaGrammar({ type: "integer", exclusiveMinimum: 1, exclusiveMaximum: 2 })).toThrow(/no integer/);
    expect(() => schemaGrammar({ $ref: "#/$defs/missing" })).toThrow(/does not point/);
    expect(() => schemaGrammar({ enum: [] })).toThrow(SchemaGrammarError);
  });

  describe("compiled by node-llama-cpp's GBNF parser", () => {
    let llama: Llama;
    beforeAll(async () => {
      llama = await getLlama({ gpu: false, build: "never", logLevel: "error" as never });
    }, 60_000);
    afterAll(async () => {
      await llama?.dispose();
    });

    it("compiles every grammar of openai's zod helpers, recursion included", async () => {
      type Tree = { label: string; children: Tree[] };
      const TreeSchema: z.ZodType<Tree> = z.lazy(() => z.object({ label: z.string().max(4), children: z.array(TreeSchema).max(2) }));
      const schemas = [
        schema,
        zodResponseFormat(z.object({ n: z.number().int().min(-5).max(5), s: z.string().max(3).nullable() }), "out").json_schema.schema,
        zodFunction({ name: "f", parameters: z.object({ when: z.iso.datetime(), id: z.uuid(), tags: z.array(z.enum(["a", "b"])).max(3) }) }).function.parameters,
        z.toJSONSchema(z.object({ tree: TreeSchema })),
        { type: "object", properties: { ip: { type: "string", format: "ipv4" }, uri: { type: "string", format: "uri" }, t: { type: "string", format: "time" } } },
      ];
      for (const s of schemas) {
        const { gbnf } = schemaGrammar(s);
        await expect(llama.createGrammar({ grammar: gbnf }), gbnf).resolves.toBeDefined();
      }
    });
  });
});

describe("nodeLlamaParams (tool_choice auto)", () => {
  it("lowers a zod schema to node-llama-cpp's subset: small integer ranges become enums, refs become $defs", () => {
    const Leaf = z.object({ v: z.number().int().min(0).max(3) });
    const lowered = nodeLlamaParams(z.toJSONSchema(z.object({ a: Leaf, b: Leaf, s: z.string().regex(/^a+$/).nullable(), n: z.number().int() }), { reused: "ref" }));
    const text = JSON.stringify(lowered);
    expect(text).toContain('"enum":[0,1,2,3]');
    expect(text).toContain('"$ref":"#/$defs/d0"');
    expect(text).not.toContain("pattern");
    expect(text).not.toContain("anyOf");
    expect((lowered as { properties: Record<string, unknown> }).properties.n).toEqual({ type: "integer" });
  });
});

describe("fixNodeLlamaIntegerRule (tool_choice auto)", () => {
  it("node-llama-cpp's own schema grammars stop allowing an exponent on integers (numbers keep theirs)", async () => {
    const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" as never });
    try {
      const before = (await llama.createGrammarForJsonSchema({ type: "integer" })).grammar;
      expect(before).toMatch(/\[eE\]/);
      await fixNodeLlamaIntegerRule();
      await fixNodeLlamaIntegerRule();
      const after = (await llama.createGrammarForJsonSchema({ type: "object", properties: { i: { type: "integer" }, n: { type: "number" } } })).grammar;
      expect(after).toContain(INTEGER_RULE);
      const integerRule = after.split("\n").find((l) => l.includes(INTEGER_RULE))!;
      expect(integerRule).not.toMatch(/\[eE\]/);
      expect(after).toMatch(/\[eE\]/); // the number rule
    } finally {
      await llama.dispose();
    }
  }, 60_000);
});

describe("rebasedRefs", () => {
  it("points local refs at the same place inside a bigger document", () => {
    expect(rebasedRefs({ $ref: "#", items: { $ref: "#/$defs/a" }, const: { $ref: "#x" } }, "/properties/arguments")).toEqual({
      $ref: "#/properties/arguments",
      items: { $ref: "#/properties/arguments/$defs/a" },
      const: { $ref: "#x" },
    });
  });
});

describe("violationsOf", () => {
  it("reports each keyword the output breaks, with its path", () => {
    const validate = schemaValidator(z.toJSONSchema(z.object({ n: z.number().int().multipleOf(3), e: z.email() })));
    expect(violationsOf(validate, '{"n":3,"e":"a@b.cd"}', "response_format")).toEqual([]);
    const v = violationsOf(validate, '{"n":4,"e":"nope"}', "response_format");
    expect(v.map((x) => `${x.path} ${x.keyword}`).sort()).toEqual(["/e format", "/e pattern", "/n multipleOf"]);
    expect(violationsOf(validate, '{"n":', "tool_calls[0].arguments")[0]).toMatchObject({ keyword: "json", target: "tool_calls[0].arguments" });
  });

  it("follows the schema's draft (draft-7 tuples, 2020-12 prefixItems)", () => {
    expect(violationsOf(schemaValidator({ $schema: "http://json-schema.org/draft-07/schema#", items: [{ type: "string" }], additionalItems: false }), '["a",1]', "x")).toHaveLength(1);
    expect(violationsOf(schemaValidator({ prefixItems: [{ type: "string" }], items: false }), '["a",1]', "x")).toHaveLength(1);
  });
});
