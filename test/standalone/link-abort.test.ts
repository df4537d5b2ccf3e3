/** linkAbort / childController: one abort wiring, which never leaves a listener behind. */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { childController, linkAbort } from "../../src/util/link-abort.js";

describe("linkAbort", () => {
  it("runs the listener once with the reason, and detaches on unlink", () => {
    const parent = new AbortController();
    const reasons: unknown[] = [];
    const link = linkAbort(parent.signal, (r) => reasons.push(r));
    expect(getEventListeners(parent.signal, "abort")).toHaveLength(1);
    parent.abort("bye");
    parent.abort("again");
    expect(reasons).toEqual(["bye"]);
    link.unlink();
    link.unlink();

    const other = new AbortController();
    const unused = linkAbort(other.signal, () => reasons.push("never"));
    unused.unlink();
    expect(getEventListeners(other.signal, "abort")).toHaveLength(0);
    other.abort();
    expect(reasons).toEqual(["bye"]);
  });

  it("runs at once for an already aborted signal, and links nothing to undefined", () => {
    const reasons: unknown[] = [];
    linkAbort(AbortSignal.abort("early"), (r) => reasons.push(r));
    expect(reasons).toEqual(["early"]);
    expect(() => linkAbort(undefined, () => reasons.push("x")).unlink()).not.toThrow();
    expect(reasons).toEqual(["early"]);
  });

  it("detaches at the end of a `using` block", () => {
    const parent = new AbortController();
    {
      using _link = linkAbort(parent.signal, () => undefined);
      expect(getEventListeners(parent.signal, "abort")).toHaveLength(1);
    }
    expect(getEventListeners(parent.signal, "abort")).toHaveLength(0);
  });
});

describe("childController", () => {
  it("follows the parent's abort and reason, aborts alone without the parent, and detaches when disposed", () => {
    const parent = new AbortController();
    const child = childController(parent.signal);
    parent.abort(new Error("client left"));
    expect(child.signal.aborted).toBe(true);
    expect((child.signal.reason as Error).message).toBe("client left");

    const parent2 = new AbortController();
    {
      using sibling = childController(parent2.signal);
      sibling.abort();
      expect(parent2.signal.aborted).toBe(false);
    }
    expect(getEventListeners(parent2.signal, "abort")).toHaveLength(0);
  });
});
