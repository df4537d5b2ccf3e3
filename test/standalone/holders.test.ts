/** Holders: a part shared by several holders is free only once the last of them lets go. */
import { describe, expect, it } from "vitest";
import { Holders } from "../../src/util/holders.js";

describe("Holders", () => {
  it("frees a part kept across holders only when its last holder releases it, whatever the order", () => {
    const h = new Holders<string, number>();
    h.hold(1, ["a", "b"]);
    h.hold(2, ["b", "c"]); // kept b from 1, new c
    h.hold(3, ["c"]); // dropped b
    expect(h.release(2)).toEqual([]); // b is still held by 1, c by 3
    expect(h.count("b")).toBe(1);
    expect(h.release(1)).toEqual(["a", "b"]);
    expect(h.release(1)).toEqual([]); // idempotent
    expect(h.release(3)).toEqual(["c"]);
    expect(h.count("c")).toBe(0);
  });

  it("holding a part twice counts once; an unknown holder releases nothing", () => {
    const h = new Holders<string, string>();
    h.hold("g", ["p", "p"]);
    h.hold("g", ["p"]);
    expect(h.count("p")).toBe(1);
    expect(h.release("other")).toEqual([]);
    expect(h.release("g")).toEqual(["p"]);
  });
});
