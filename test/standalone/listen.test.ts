/** `listen()`: binds a fetch handler, and rejects (instead of throwing uncaught) when the port is taken. */
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { listen } from "../../src/util/listen.js";

const app = new Hono().get("/ping", (c) => c.text("pong"));

describe("listen", () => {
  it("serves on an ephemeral port and closes idempotently", async () => {
    const l = await listen({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    expect(l.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${l.url}/ping`);
    expect(await res.text()).toBe("pong");
    await Promise.all([l.close(), l.close()]);
    await l.close();
    expect(l.server.listening).toBe(false);
    await expect(fetch(`${l.url}/ping`)).rejects.toThrow();
  });

  it("rejects with EADDRINUSE when the port is taken, leaving nothing bound", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      await expect(listen({ fetch: app.fetch, port, hostname: "127.0.0.1" })).rejects.toMatchObject({ code: "EADDRINUSE" });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    // The port is free again: nothing of the failed attempt holds it.
    const l = await listen({ fetch: app.fetch, port, hostname: "127.0.0.1" });
    expect(l.url).toBe(`http://127.0.0.1:${port}`);
    await l.close();
  });

  it("brackets an IPv6 host in the url", async () => {
    const l = await listen({ fetch: app.fetch, port: 0, hostname: "::1" }).catch(() => undefined);
    if (!l) return; // no IPv6 loopback on this machine
    expect(l.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect(await (await fetch(`${l.url}/ping`)).text()).toBe("pong");
    await l.close();
  });
});
