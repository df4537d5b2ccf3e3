/**
 * Bounds on the JSON schemas the engine compiles into grammars. Compiling is
 * synchronous shard CPU (a 20,000-value `enum` took 6.5 s and stalled the
 * shard's heartbeat), so an oversized schema is refused with a 400 before it is
 * compiled. The walk is iterative: a deeply nested schema cannot overflow the stack.
 */

export interface GrammarLimits {
  /** Objects and arrays in the schema. */
  maxNodes: number;
  /** Values across every `enum` (and `const`) of the schema. */
  maxEnumValues: number;
  /** Nesting depth of the schema document. */
  maxDepth: number;
}

export const GRAMMAR_LIMITS: GrammarLimits = { maxNodes: 4096, maxEnumValues: 1024, maxDepth: 64 };

/**
 * Why `schema` is too large to compile, or undefined when it fits.
 *
 * @example
 * ```ts
 * grammarSizeProblem({ enum: Array.from({ length: 20_000 }, (_, i) => `v${i}`) }); // "its enums hold 20000 values (at most 1024)"
 * ```
 */
export function grammarSizeProblem(schema: unknown, limits: GrammarLimits = GRAMMAR_LIMITS): string | undefined {
  let nodes = 0;
  let enumValues = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value: schema, depth: 1 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (typeof value !== "object" || value === null) continue;
    if (depth > limits.maxDepth) return `it is nested deeper than ${limits.maxDepth} levels`;
    if (++nodes > limits.maxNodes) return `it has more than ${limits.maxNodes} objects and arrays`;
    if (Array.isArray(value)) {
      for (const v of value) stack.push({ value: v, depth: depth + 1 });
      continue;
    }
    for (const [k, v] of Object.entries(value)) {
      if (k === "enum" && Array.isArray(v)) enumValues += v.length;
      else if (k === "const") enumValues += 1;
      stack.push({ value: v, depth: depth + 1 });
    }
    if (enumValues > limits.maxEnumValues) return `its enums hold more than ${limits.maxEnumValues} values`;
  }
  return undefined;
}
