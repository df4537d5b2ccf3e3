/**
 * Teardown in reverse order of acquisition. `lifecycle-utils`'s
 * `AsyncDisposeAggregator` disposes in the order targets were added; a
 * lifecycle wants the opposite (what was acquired last depends on what came
 * before it), so `TeardownStack` keeps the targets and hands them to an
 * aggregator reversed when it is disposed. Every target is disposed even when
 * one fails; the first failure is rethrown after all of them ran.
 */
import { AsyncDisposeAggregator, type AsyncDisposeAggregatorWrappedTarget } from "lifecycle-utils";

export class TeardownStack implements AsyncDisposable {
  private readonly targets: AsyncDisposeAggregatorWrappedTarget[] = [];
  private disposed: Promise<void> | undefined;

  /**
   * Registers what was just acquired and returns it, so acquisition and its undo sit on one line.
   *
   * @example
   * ```ts
   * await using teardown = new TeardownStack();
   * const registry = teardown.push(await ModelRegistry.create(options)); // disposed last
   * const listener = teardown.push(await listen(options));                // closed first (no `dispose`: wrap it)
   * ```
   */
  push<T extends AsyncDisposeAggregatorWrappedTarget>(target: T): T {
    if (this.disposed) throw new Error("TeardownStack: already disposed");
    this.targets.push(target);
    return target;
  }

  /** Undo function for something that has no `dispose()` of its own. */
  defer(undo: () => void | Promise<void>): void {
    this.push(undo);
  }

  /** Disposes everything pushed, last first. Idempotent: a second call returns the first call's promise. */
  dispose(): Promise<void> {
    return (this.disposed ??= (async () => {
      const aggregator = new AsyncDisposeAggregator();
      for (const target of this.targets.reverse()) aggregator.add(target);
      this.targets.length = 0;
      await aggregator.dispose();
    })());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
