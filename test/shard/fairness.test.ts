/**
 * Tenant fairness in the queue (issue #14, item 5) on real shard processes: a
 * flood from tenant A fills only its own share of the queue, and tenant B's
 * request overtakes the flood instead of waiting behind it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

const KEYS = { a: "tenant-a-key-0001", b: "tenant-b-key-0001" };

/**
 * A's requests are long and B's short: the count of A's answers that finish while B is on its way (HTTP,
 * auth, admission) then stays small even on a busy machine, so what is measured is the queue's order.
 */
function ask(t: TestGateway, key: string, content: string, maxTokens = 48): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content }], max_tokens: maxTokens, temperature: 0 }),
  });
}

describe("two tenants, one flooding", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway(
      {
        cache: { enabled: false },
        queue: { maxDepth: 12, maxWaitMs: 120_000 },
        auth: { keys: [{ key: KEYS.a, tenant: "a" }, { key: KEYS.b, tenant: "b" }] },
      },
      { slots: 2, contextSize: 512 },
    );
  });
  afterAll(async () => t?.close());

  it("B is queued although A filled the queue, and is served before A's backlog", { timeout: 120_000 }, async () => {
    const pool = t.gateway.registry.models[0]!.pool;
    const done: string[] = [];
    const flood = Array.from({ length: 24 }, (_, i) =>
      ask(t, KEYS.a, `flood ${i}`, 200).then(async (res) => {
        await res.text();
        if (res.status === 200) done.push("a");
        return res.status;
      }),
    );
    // Wait until A's flood holds every slot and the whole queue.
    const deadline = Date.now() + 60_000;
    while (pool.snapshot().waiting < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(pool.snapshot().waiting).toBe(12);
    const aDoneBefore = done.length;
    const b = await ask(t, KEYS.b, "my turn");
    expect(b.status).toBe(200);
    done.push("b");
    const aServedWhileBWaited = done.indexOf("b") - aDoneBefore;
    // FIFO would serve A's whole queued backlog (12) first; fair queueing at most what already ran plus one.
    expect(aServedWhileBWaited).toBeLessThanOrEqual(4);
    const statuses = await Promise.all(flood);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0); // A's own share overflowed
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
  });
});
