/**
 * One way to react to an abort signal: run a listener once when it aborts (at
 * once when it already has), and detach it when the work ends, so finished
 * work leaves no listener behind on a long-lived signal.
 */

/** A link from a signal to a listener; unlinking is idempotent. */
export interface AbortLink extends Disposable {
  /** Detaches the listener (it will not run after this). */
  unlink(): void;
}

const NOOP_LINK: AbortLink = { unlink: () => undefined, [Symbol.dispose]: () => undefined };

/**
 * Calls `onAbort(reason)` once when `signal` aborts, synchronously if it
 * already has. `undefined` links nothing.
 *
 * @example
 * ```ts
 * using _ = linkAbort(signal, () => child.abort());
 * await work();
 * ```
 */
export function linkAbort(signal: AbortSignal | undefined, onAbort: (reason: unknown) => void): AbortLink {
  if (!signal) return NOOP_LINK;
  if (signal.aborted) {
    onAbort(signal.reason);
    return NOOP_LINK;
  }
  const listener = () => onAbort(signal.reason);
  signal.addEventListener("abort", listener, { once: true });
  const unlink = () => signal.removeEventListener("abort", listener);
  return { unlink, [Symbol.dispose]: unlink };
}

/**
 * A controller that aborts when `parent` does (with its reason), and can also
 * be aborted on its own without touching the parent. Dispose it when the
 * child's work ends to detach from the parent.
 *
 * @example
 * ```ts
 * using child = childController(request.signal);
 * await Promise.all(producers.map((p) => p(child.signal)));
 * ```
 */
export function childController(parent: AbortSignal | undefined): AbortController & Disposable {
  const controller = new AbortController();
  const link = linkAbort(parent, (reason) => controller.abort(reason));
  return Object.assign(controller, { [Symbol.dispose]: () => link.unlink() });
}
