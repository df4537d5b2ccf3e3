export { sequencePerplexity, perplexityWindows, type PerplexityScore, type WindowOptions } from "./perplexity.js";
export { evaluateModels, pickWithinBudget, type EvaluateOptions, type ModelEvaluation } from "./evaluate.js";
export { loadEvalText, EvalTextError } from "./text-source.js";
export { formatTable, renderHtml } from "./report.js";
export { remotePerplexity, RemoteEvalError, type RemotePerplexityOptions } from "./remote.js";
