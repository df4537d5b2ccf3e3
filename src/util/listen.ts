/**
 * One way to put a fetch handler (a Hono app) on a TCP port. Unlike
 * `@hono/node-server`'s `serve()`, which attaches no `error` listener (so a
 * port in use becomes an uncaught exception while everything started before
 * keeps running), `listen()` rejects, and the caller can tear down what it
 * already started.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { NodeBindings } from "./node-bindings.js";

/** What `listen()` binds. */
export interface ListenOptions {
  /** The app's `fetch` (e.g. `app.fetch`); `env` carries the Node request and response (`c.env.incoming` / `outgoing`). */
  fetch: (request: Request, env: NodeBindings) => Response | Promise<Response>;
  /** TCP port; 0 picks a free ephemeral port (read the bound one from `url`). */
  port: number;
  /** Interface to bind, e.g. "127.0.0.1" or "0.0.0.0". */
  hostname: string;
}

/** A bound HTTP server. */
export interface Listener {
  /** The node:http server itself (for draining: `closeIdleConnections`, `closeAllConnections`). */
  server: Server;
  /** `http://host:port` actually bound; an IPv6 host is bracketed. */
  url: string;
  /** Stops accepting and resolves once every connection has ended. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Binds `fetch` to `hostname:port`.
 *
 * @throws the listen error (e.g. `EADDRINUSE`, `EACCES`), as a rejection; nothing is left bound.
 * @example
 * ```ts
 * const { url, close } = await listen({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
 * await close();
 * ```
 */
export function listen({ fetch, port, hostname }: ListenOptions): Promise<Listener> {
  // The listener answers errors itself (500) and never rejects; node:http ignores its promise.
  // node:http (not http2): the bindings are always an IncomingMessage and a ServerResponse.
  const handle = getRequestListener((request, env) => fetch(request, env as NodeBindings), { hostname });
  const server = createServer((req, res) => void handle(req, res));
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(port, hostname, () => {
      server.off("error", onError);
      const addr = server.address() as AddressInfo;
      const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
      let closed: Promise<void> | undefined;
      const close = () =>
        (closed ??= new Promise<void>((done, fail) => {
          server.close((err) => (err && (err as NodeJS.ErrnoException).code !== "ERR_SERVER_NOT_RUNNING" ? fail(err) : done()));
        }));
      resolve({ server, url: `http://${host}:${addr.port}`, close });
    });
  });
}
