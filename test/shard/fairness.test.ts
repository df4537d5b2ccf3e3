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

/**
 * A stream's life as the client sees it: `firstToken` once a chunk carrying text arrived (the request
 * holds a slot), `ended` once the body ended (the slot is being given back).
 */
interface Watched {
  firstToken: boolean;
  ended: boolean;
  /** Resolves at the first chunk carrying text (or at the end, if none did). */
  tokenArrived: Promise<void>;
  done: Promise<number>;
}

function watchStream(t: TestGateway, key: string, content: string, maxTokens: number, signal?: AbortSignal): Watched {
  let onToken!: () => void;
  const w: Watched = {
    firstToken: false,
    ended: false,
    tokenArrived: new Promise<void>((resolve) => (onToken = resolve)),
    done: Promise.resolve(0),
  };
  w.done = (async () => {
    try {
      const res = await fetch(`${t.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content }], max_tokens: maxTokens, temperature: 0, stream: true }),
        ...(signal ? { signal } : {}),
      });
      const decoder = new TextDecoder();
      let buffered = "";
      for await (const bytes of res.body!) {
        buffered += decoder.decode(bytes, { stream: true });
        if (!w.firstToken && /"content":"[^"]/.test(buffered)) {
          w.firstToken = true;
          onToken();
        }
      }
      return res.status;
    } catch {
      return 0; // aborted by the test
    } finally {
      w.ended = true;
      onToken();
    }
  })();
  return w;
}

describe("slot headroom (queue.reserveSlots) on a 2-slot shard", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway(
      {
        cache: { enabled: false },
        // B counts as active for the whole test however slow the machine is.
        queue: { maxDepth: 12, maxWaitMs: 120_000, reserveSlots: 1, activeWindowMs: 600_000 },
        auth: { keys: [{ key: KEYS.a, tenant: "a" }, { key: KEYS.b, tenant: "b" }] },
      },
      { slots: 2, contextSize: 512 },
    );
  });
  afterAll(async () => t?.close());

  const busy = () => t.gateway.registry.models[0]!.pool.snapshot().shards[0]!.slotsBusy;
  const waiting = () => t.gateway.registry.models[0]!.pool.snapshot().waiting;
  async function until(probe: () => boolean): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!probe() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  it("a tenant alone takes both slots", { timeout: 120_000 }, async () => {
    const stop = new AbortController();
    const flood = Array.from({ length: 3 }, (_, i) => watchStream(t, KEYS.a, `flood ${i}`, 300, stop.signal));
    await until(() => busy() === 2 && waiting() === 1);
    expect(busy()).toBe(2);
    stop.abort();
    await Promise.all(flood.map((w) => w.done));
    await until(() => busy() === 0 && waiting() === 0);
  });

  it("while A floods, B's request runs without waiting for A's running requests to finish", { timeout: 120_000 }, async () => {
    expect((await ask(t, KEYS.b, "hello", 8)).status).toBe(200); // B is active on the pool
    const stop = new AbortController();
    const flood = Array.from({ length: 6 }, (_, i) => watchStream(t, KEYS.a, `flood ${i}`, 300, stop.signal));
    await until(() => busy() + waiting() === 6 && flood.some((w) => w.firstToken));
    // A runs one request; the second slot is kept for B, although A has five more queued.
    expect(waiting()).toBe(5);
    expect(busy()).toBe(1);
    const runningBefore = flood.filter((w) => w.firstToken && !w.ended);
    expect(runningBefore.length).toBe(1);
    const b = watchStream(t, KEYS.b, "my turn", 8);
    await b.tokenArrived;
    expect(b.firstToken).toBe(true);
    // B's first token came while the A request that ran before it was still running: B waited for no A request.
    expect(runningBefore.every((w) => !w.ended)).toBe(true);
    expect(await b.done).toBe(200);
    stop.abort();
    await Promise.all(flood.map((w) => w.done));
  });
});
