/**
 * Coalesces concurrent identical work: while one run for a key is in flight,
 * later callers with the same key wait for it instead of starting their own.
 * Used for cache misses so N identical deterministic requests cost one
 * generation.
 */
import { linkAbort, type AbortLink } from "../util/link-abort.js";

import { AbortError } from "../errors.js";

/**
 * A waiter whose own signal aborted is rejected with the gateway's one
 * {@link AbortError} (from `src/errors.ts`); `cause` is the signal's reason.
 */
export { AbortError, isAbortError } from "../errors.js";

interface Flight<T> {
  promise: Promise<T>;
  controller: AbortController;
  /** Callers still waiting; the work is aborted when this drops to zero before it settles. */
  waiters: number;
  settled: boolean;
}

/**
 * Per-key single-flight with independent cancellation.
 *
 * - The first caller for a key starts `work` with an internal signal; later
 *   callers join and get the same value (`shared: true`) or the same error.
 * - A waiter whose own signal aborts is rejected at once with an
 *   {@link AbortError}; the others keep waiting.
 * - The internal signal aborts only when every waiter has gone; the key is
 *   then released at once, so a new caller starts fresh work rather than
 *   joining a dying one.
 * - The key is released when the work settles, success or failure: errors
 *   are never remembered.
 *
 * Joiners receive only the final value, not a live stream: work produced for
 * the first caller cannot be re-subscribed midway. A streaming joiner replays
 * the final value (the response cache does that).
 *
 * Per-request deadlines belong in each caller's `signal`, not inside `work`:
 * a timeout inside `work` would end the shared run for every waiter.
 *
 * @example
 * ```ts
 * const flights = new SingleFlight<string>();
 * const { value, shared } = await flights.run(key, req.signal, (signal) => generate(prompt, { signal }));
 * ```
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /** Keys with work in flight. */
  get size(): number {
    return this.flights.size;
  }

  run(key: string, signal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<{ value: T; shared: boolean }> {
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));

    let flight = this.flights.get(key);
    const shared = flight !== undefined;
    if (!flight) flight = this.start(key, work);
    const joined = flight;
    joined.waiters++;

    // Race the shared run against this waiter's own abort. Passing the run's
    // rejection through `race` keeps the original error object for every waiter.
    let link: AbortLink | undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      link = linkAbort(signal, (reason) => {
        this.leave(key, joined, reason);
        reject(new AbortError(reason));
      });
    });
    const settled = joined.promise.then((value) => ({ value, shared }));
    return Promise.race([settled, aborted]).finally(() => link?.unlink());
  }

  private start(key: string, work: (signal: AbortSignal) => Promise<T>): Flight<T> {
    const controller = new AbortController();
    // The executor runs synchronously, so the first caller's generation is not
    // delayed a tick, and a synchronous throw in `work` becomes a rejection.
    const promise = new Promise<T>((resolve) => {
      resolve(work(controller.signal));
    });
    const flight: Flight<T> = { promise, controller, waiters: 0, settled: false };
    this.flights.set(key, flight);
    const release = (): void => {
      flight.settled = true;
      // A newer flight may own the key if this one was abandoned.
      if (this.flights.get(key) === flight) this.flights.delete(key);
    };
    // Both branches handled, so an abandoned run's rejection is never "unhandled".
    void promise.then(release, release);
    return flight;
  }

  private leave(key: string, flight: Flight<T>, reason: unknown): void {
    flight.waiters--;
    if (flight.waiters > 0 || flight.settled) return;
    if (this.flights.get(key) === flight) this.flights.delete(key);
    flight.controller.abort(new AbortError(reason));
  }
}
