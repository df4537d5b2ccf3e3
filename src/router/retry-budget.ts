/**
 * A retry budget (as in Envoy/Finagle): retries may be at most `ratio` of the
 * requests seen in the last window, plus a small floor, so a fleet-wide outage
 * is not multiplied by retries.
 */
export class RetryBudget {
  private requests: number[] = [];
  private retries: number[] = [];

  constructor(
    private readonly ratio: number,
    private readonly windowMs = 10_000,
    private readonly floor = 3,
  ) {}

  recordRequest(now = Date.now()): void {
    this.requests.push(now);
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryRetry(now = Date.now()): boolean {
    const since = now - this.windowMs;
    while (this.requests.length && this.requests[0]! < since) this.requests.shift();
    while (this.retries.length && this.retries[0]! < since) this.retries.shift();
    if (this.retries.length >= this.floor + this.ratio * this.requests.length) return false;
    this.retries.push(now);
    return true;
  }
}
