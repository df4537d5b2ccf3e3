/**
 * A count of work in flight that can be waited on until it reaches zero:
 * the gateway's graceful drain and a config generation's drain both count
 * requests with it.
 */

/**
 * @example
 * ```ts
 * const inFlight = new InFlight();
 * const release = inFlight.enter(); // … release() once the response was sent (idempotent)
 * await inFlight.idle(5_000);       // true once nothing is in flight, false after 5 s
 * ```
 */
export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];

  /** Work counted now (entered and not yet released). */
  get size(): number {
    return this.count;
  }

  /** Counts one piece of work until the returned release is called (idempotent). */
  enter(): () => void {
    this.count++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.count--;
      if (this.count === 0) for (const resolve of this.waiters.splice(0)) resolve();
    };
  }

  /** Resolves true once nothing is in flight, or false after `timeoutMs` (never, without one). */
  idle(timeoutMs?: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => resolve(false), timeoutMs).unref();
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
