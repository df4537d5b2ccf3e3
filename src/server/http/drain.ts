/**
 * The gateway's graceful shutdown, as the HTTP layer sees it. Once
 * {@link RequestDrain.close} starts (SIGTERM):
 *
 * 1. `/readyz` answers 503 and every new API request is refused with a 503 and
 *    `Retry-After` (the listener stays open, so load balancers get an answer,
 *    not a refused connection);
 * 2. requests already running continue until none is left or `timeoutMs` passed;
 * 3. at that deadline {@link RequestDrain.signal} aborts: the generation
 *    pipeline ends each stream with its API's error event and terminator and
 *    answers each request still queued with a 503 and `Retry-After`;
 * 4. once those answers are written (within `graceMs`) the listener closes;
 *    connections still open after another `graceMs` are cut.
 */
import { setMaxListeners } from "node:events";
import type { Server } from "node:http";
import { shuttingDown, type GatewayError } from "../../errors.js";
import { InFlight } from "../../util/in-flight.js";

export interface RequestDrainOptions {
  /** How long running requests may continue after shutdown starts (config `server.drainTimeoutMs`). */
  timeoutMs: number;
  /**
   * After the deadline, how long ended requests get to write their last frames before the listener
   * closes; then how long open connections get before they are cut. Default 2000.
   */
  graceMs?: number;
  /** `Retry-After` of refused and ended requests. Default 1000. */
  retryAfterMs?: number;
}

/**
 * @example
 * ```ts
 * const drain = new RequestDrain({ timeoutMs: config.server.drainTimeoutMs });
 * app.use(drainGate({ drain }));          // counts requests, refuses new ones while draining
 * process.once("SIGTERM", () => void drain.close(server));
 * ```
 */
export class RequestDrain {
  private readonly opts: Required<RequestDrainOptions>;
  private readonly deadline = new AbortController();
  private readonly running = new InFlight();
  private closing: Promise<void> | undefined;
  private _draining = false;

  constructor(opts: RequestDrainOptions) {
    this.opts = { graceMs: 2000, retryAfterMs: 1000, ...opts };
    // Every running generation listens to the deadline (and unlinks when it settles): no leak at 11.
    setMaxListeners(0, this.deadline.signal);
  }

  /** True from the start of {@link RequestDrain.close}: readiness is 503, new API requests are refused. */
  get draining(): boolean {
    return this._draining;
  }

  /** Aborts at the drain deadline, with the {@link RequestDrain.refusal} error as its reason. */
  get signal(): AbortSignal {
    return this.deadline.signal;
  }

  /** The error a request gets when the gateway will not serve or finish it (503 + `Retry-After`). */
  refusal(): GatewayError {
    return shuttingDown(this.opts.retryAfterMs);
  }

  /** Requests counted now (entered and not yet fully answered). */
  get inFlight(): number {
    return this.running.size;
  }

  /** Counts one request until the returned release is called (idempotent) — after its body was sent. */
  enter(): () => void {
    return this.running.enter();
  }

  /** Starts draining (idempotent) and resolves once `server` is closed. */
  close(server: Server): Promise<void> {
    return (this.closing ??= this.run(server));
  }

  private async run(server: Server): Promise<void> {
    this._draining = true;
    if (!(await this.running.idle(this.opts.timeoutMs))) {
      this.deadline.abort(this.refusal());
      await this.running.idle(this.opts.graceMs);
    }
    await new Promise<void>((resolve) => {
      const cut = setTimeout(() => {
        server.closeAllConnections();
        resolve();
      }, this.opts.graceMs);
      server.close(() => {
        clearTimeout(cut);
        resolve();
      });
      server.closeIdleConnections();
    });
  }
}
