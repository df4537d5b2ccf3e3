/**
 * Serialises async work per key: writes to one LanceDB table go one at a time
 * within this process (LanceDB resolves conflicts between processes itself,
 * but the read-hashes-then-write step of an upsert must not interleave).
 */

/**
 * A per-key async mutex.
 *
 * @example
 * ```ts
 * const lock = new KeyedLock();
 * await lock.run("support-kb", async () => writeBatch());
 * ```
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier `run` with the same key has settled. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      // Drop the entry once nothing is queued behind us, so keys do not accumulate.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
