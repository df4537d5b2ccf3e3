/**
 * Types for the xk6-sse extension (github.com/phymbert/xk6-sse), which only
 * SSE-capable k6 builds have; sse-ttft.js is type-checked against them.
 */
declare module "k6/x/sse" {
  export interface SseParams {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    tags?: Record<string, string>;
  }
  export interface SseEvent {
    id: string;
    name: string;
    data: string;
    comment: string;
  }
  export interface SseError {
    error(): string;
  }
  export interface SseClient {
    on(event: "open" | "close", handler: () => void): void;
    on(event: "event", handler: (event: SseEvent) => void): void;
    on(event: "error", handler: (error: SseError) => void): void;
    close(): void;
  }
  /** `error` is set, and the rest empty, when the request itself failed. */
  export interface SseResponse {
    url: string;
    status: number;
    headers: Record<string, string>;
    error: string;
  }
  export interface SseModule {
    /** Blocks the iteration until the stream ends or `client.close()`. */
    open(url: string, params: SseParams, setup: (client: SseClient) => void): SseResponse;
  }
  const sse: SseModule;
  // eslint-disable-next-line no-restricted-syntax -- the extension's module shape: a default export
  export default sse;
}
