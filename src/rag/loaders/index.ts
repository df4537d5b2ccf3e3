export { markdownDocument, textDocument, type FileIdentity } from "./markdown.js";
export { htmlDocument } from "./html.js";
export { jsonlDocuments, type JsonlOptions } from "./jsonl.js";
export { csvDocuments, type CsvOptions } from "./csv.js";
export { loadFile, loadDirectory, LOADABLE_EXTENSIONS, type LoadOptions } from "./directory.js";
