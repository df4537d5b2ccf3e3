/** Grammar size bounds (src/engine/grammar-limits.ts), without shards. */
import { describe, expect, it } from "vitest";
import { grammarSizeProblem } from "../../src/engine/grammar-limits.js";

describe("grammarSizeProblem", () => {
  it("accepts an ordinary tool schema", () => {
    expect(grammarSizeProblem({ type: "object", properties: { city: { type: "string" }, unit: { enum: ["c", "f"] } }, required: ["city"] })).toBeUndefined();
  });

  it("refuses a huge enum, a huge schema and a deep one (10,000 levels, no stack overflow)", () => {
    expect(grammarSizeProblem({ enum: Array.from({ length: 20_000 }, (_, i) => i) })).toMatch(/enums/);
    expect(grammarSizeProblem({ type: "object", properties: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`p${i}`, { type: "string" }])) })).toMatch(/objects and arrays/);
    let deep: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 10_000; i++) deep = { type: "object", properties: { x: deep } };
    expect(grammarSizeProblem(deep)).toMatch(/nested deeper/);
  });
});
