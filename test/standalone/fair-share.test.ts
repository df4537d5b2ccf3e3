/** Start-time fair queueing between tenants (src/router/fair-share.ts), without shards. */
import { describe, expect, it } from "vitest";
import { FairShare, evictionFor, type FairTagged } from "../../src/router/fair-share.js";

describe("FairShare", () => {
  it("a tenant arriving behind a flood is tagged ahead of the flood's tail", () => {
    const fair = new FairShare();
    const flood = Array.from({ length: 50 }, () => fair.tag("a", 1, 100));
    const b = fair.tag("b", 1, 100);
    const ahead = flood.filter((t) => t.finish <= b.finish).length;
    expect(ahead).toBe(1); // only the flood's first request finishes no later than B's
  });

  it("weights divide the service: weight 2 gets twice the tokens under contention", () => {
    const fair = new FairShare();
    const tags = [
      ...Array.from({ length: 30 }, () => ({ tenant: "heavy", ...fair.tag("heavy", 2, 10) })),
      ...Array.from({ length: 30 }, () => ({ tenant: "light", ...fair.tag("light", 1, 10) })),
    ].sort((x, y) => x.finish - y.finish);
    const first30 = tags.slice(0, 30);
    expect(first30.filter((t) => t.tenant === "heavy").length).toBe(20);
  });

  it("an idle tenant gets no credit for its idle time", () => {
    const fair = new FairShare();
    const a1 = fair.tag("a", 1, 10);
    fair.served(a1.start);
    for (let i = 0; i < 10; i++) fair.served(fair.tag("b", 1, 10).start);
    const a2 = fair.tag("a", 1, 10);
    expect(a2.start).toBeGreaterThanOrEqual(90);
  });
});

describe("evictionFor (a full queue)", () => {
  const queued = (tenant: string, n: number, weight = 1): FairTagged[] => Array.from({ length: n }, (_, i) => ({ tenant, weight, start: i, finish: i + 1 }));

  it("a newcomer from a tenant below its share evicts the flooding tenant's newest request", () => {
    const q = [...queued("a", 7), ...queued("b", 1)];
    const victim = evictionFor(q, { tenant: "b", weight: 1 });
    expect(victim?.tenant).toBe("a");
    expect(victim?.finish).toBe(7);
  });

  it("the flooding tenant itself is refused, and equal shares are left alone", () => {
    expect(evictionFor(queued("a", 8), { tenant: "a", weight: 1 })).toBeUndefined();
    expect(evictionFor([...queued("a", 4), ...queued("b", 4)], { tenant: "b", weight: 1 })).toBeUndefined();
  });
});
