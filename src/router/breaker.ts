/**
 * One opossum circuit breaker per backend, around admission through first
 * token. Client errors never count (errorFilter); opossum itself lets exactly
 * one probe through while half-open.
 */
import CircuitBreaker from "opossum";
import type { SwitchyardConfig } from "../config/index.js";

export type BreakerState = "closed" | "open" | "half_open";

export interface ShardBreakerOptions {
  config: SwitchyardConfig["breaker"];
  /** True for errors that are the client's fault (validation, aborts): they never trip the breaker. */
  isClientError: (err: unknown) => boolean;
  onStateChange?: (state: BreakerState) => void;
}

/**
 * @example
 * ```ts
 * const breaker = new ShardBreaker({ config: cfg.breaker, isClientError });
 * if (breaker.admits) await breaker.run(() => untilFirstToken);
 * ```
 */
export class ShardBreaker {
  private readonly breaker: CircuitBreaker<[() => Promise<void>], void>;
  private openedAt = 0;
  private probing = false;
  private readonly resetTimeoutMs: number;

  constructor({ config, isClientError, onStateChange }: ShardBreakerOptions) {
    this.resetTimeoutMs = config.resetTimeoutMs;
    this.breaker = new CircuitBreaker((attempt: () => Promise<void>) => attempt(), {
      timeout: config.timeoutMs,
      errorThresholdPercentage: config.errorThresholdPercentage,
      volumeThreshold: config.volumeThreshold,
      rollingCountTimeout: config.rollingCountTimeoutMs,
      resetTimeout: config.resetTimeoutMs,
      errorFilter: (err: unknown) => isClientError(err),
    });
    this.breaker.on("open", () => {
      this.openedAt = Date.now();
      onStateChange?.("open");
    });
    this.breaker.on("halfOpen", () => onStateChange?.("half_open"));
    this.breaker.on("close", () => onStateChange?.("closed"));
  }

  get state(): BreakerState {
    if (this.breaker.opened) return "open";
    if (this.breaker.halfOpen) return "half_open";
    return "closed";
  }

  /** Whether a new request may be sent now: closed, or half-open with no probe in flight. */
  get admits(): boolean {
    if (this.breaker.closed) return true;
    return this.breaker.halfOpen && !this.probing;
  }

  /** Milliseconds until an open breaker lets a probe through (0 when not open). */
  get msUntilHalfOpen(): number {
    if (!this.breaker.opened) return 0;
    return Math.max(0, this.openedAt + this.resetTimeoutMs - Date.now());
  }

  /** Runs `attempt` (which settles at the first token) through the breaker. */
  async run(attempt: () => Promise<void>): Promise<void> {
    const probe = this.breaker.halfOpen;
    if (probe) this.probing = true;
    try {
      await this.breaker.fire(attempt);
    } finally {
      if (probe) this.probing = false;
    }
  }

  shutdown(): void {
    this.breaker.shutdown();
  }
}
