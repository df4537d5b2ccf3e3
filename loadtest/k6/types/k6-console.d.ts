/**
 * k6 provides `console` but @types/k6 does not declare it. Written to merge
 * with @types/node's declaration, since the root tsconfig also sees this file.
 */
interface Console {
  log(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
}
// eslint-disable-next-line no-var -- a global declaration has to be a var to merge with @types/node's
declare var console: Console;
