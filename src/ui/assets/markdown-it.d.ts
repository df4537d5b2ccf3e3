/** Types of the vendored bundle ./markdown-it.js: markdown-it's own declarations. */
export { default as MarkdownIt } from "markdown-it";
