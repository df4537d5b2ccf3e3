/**
 * Structured output: JSON schemas as grammars (what a grammar can carry) and
 * as validators of the finished output (everything else). The policy is in
 * README, "Structured output".
 */
export { schemaGrammar, SchemaGrammarError, STRING_FORMATS, MAX_GRAMMAR_REPEAT, type SchemaGrammar } from "./schema-gbnf.js";
export { integerRangeGbnf } from "./integer-range.js";
export { patternGbnf } from "./pattern-gbnf.js";
export { schemaValidator, violationsOf, InvalidSchemaError } from "./schema-validator.js";
