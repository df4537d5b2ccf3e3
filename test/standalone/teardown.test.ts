/** TeardownStack: last acquired, first disposed; every target runs; the first failure is the one thrown. */
import { describe, expect, it } from "vitest";
import { TeardownStack } from "../../src/util/teardown.js";

describe("TeardownStack", () => {
  it("disposes in reverse order of acquisition, once", async () => {
    const order: string[] = [];
    const stack = new TeardownStack();
    const first = stack.push({ dispose: async () => void order.push("registry") });
    stack.push({ [Symbol.asyncDispose]: async () => void order.push("rag") });
    stack.defer(() => void order.push("listener"));
    expect(first).toBeDefined();
    await Promise.all([stack.dispose(), stack.dispose()]);
    await stack.dispose();
    expect(order).toEqual(["listener", "rag", "registry"]);
    expect(() => stack.push(() => undefined)).toThrow(/already disposed/);
  });

  it("runs every target when one fails, then throws the first failure", async () => {
    const order: string[] = [];
    const stack = new TeardownStack();
    stack.defer(() => void order.push("a"));
    stack.defer(() => {
      order.push("b");
      throw new Error("b failed");
    });
    stack.defer(async () => {
      order.push("c");
      throw new Error("c failed");
    });
    await expect(stack.dispose()).rejects.toThrow("c failed");
    expect(order).toEqual(["c", "b", "a"]);
  });

  it("works with `await using`", async () => {
    const order: string[] = [];
    {
      await using stack = new TeardownStack();
      stack.defer(() => void order.push("x"));
      stack.defer(() => void order.push("y"));
    }
    expect(order).toEqual(["y", "x"]);
  });
});
