/**
 * Exact rate-limit windows (sliding window log) of the in-memory limiter, on
 * a clock the test drives: no 60-second window ever admits more than the
 * limit, a burst up to the limit is fine, `Retry-After` is exactly when the
 * oldest admission leaves the window, and a request that alone exceeds the
 * key's tokens/min is refused instead of admitted clamped. The Redis-backed
 * limiter runs the same checks against a real redis-server in state-redis.test.ts.
 */
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.js";
import { RateLimiter } from "../../src/server/http/rate-limiter.js";
import { seededRandom } from "../../src/util/seeded-random.js";

const MINUTE = 60_000;

/** Every admitted time's following 60 s holds at most `limit` admissions. */
function maxInAnyWindow(times: readonly number[], windowMs = MINUTE): number {
  let max = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[j]! <= times[i]! - windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

function refusal(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error("admitted");
}

describe("sliding window log (in memory)", () => {
  it("RPM 10 admits at most 10 in any 60 s window, over 10 minutes of random arrivals, and allows a burst of 10", () => {
    let now = 0;
    const limiter = new RateLimiter({ keys: [{ keyId: "k", requestsPerMinute: 10 }], now: () => now });
    const random = seededRandom(7);
    const admitted: number[] = [];
    // A burst first: all 10 at once pass, the 11th waits exactly until the first leaves the window.
    for (let i = 0; i < 10; i++) limiter.admit("k");
    admitted.push(...Array<number>(10).fill(0));
    const eleventh = refusal(() => limiter.admit("k"));
    expect(eleventh.status).toBe(429);
    expect(Number(eleventh.headers["retry-after-ms"])).toBe(MINUTE);
    while (now < 10 * MINUTE) {
      now += Math.floor(random() * 4000);
      try {
        limiter.admit("k");
        admitted.push(now);
      } catch (err) {
        expect((err as GatewayError).status).toBe(429);
      }
    }
    expect(maxInAnyWindow(admitted)).toBe(10);
    // The log lets the key use its whole allowance: about 10 a minute over the run.
    expect(admitted.length).toBeGreaterThanOrEqual(95);
  });

  it("Retry-After is exact: waiting it is enough, a millisecond less is not", () => {
    let now = 0;
    const limiter = new RateLimiter({ keys: [{ keyId: "k", requestsPerMinute: 3 }], now: () => now });
    for (const t of [0, 10_000, 20_000]) {
      now = t;
      limiter.admit("k");
    }
    now = 30_000;
    const wait = Number(refusal(() => limiter.admit("k")).headers["retry-after-ms"]);
    expect(wait).toBe(30_000); // the admission at 0 leaves at 60 000
    now += wait - 1;
    expect(() => limiter.admit("k")).toThrow(/requests per minute/);
    now += 1;
    expect(() => limiter.admit("k")).not.toThrow();
  });

  it("tokens/min 1,000: a 4,022-token request is refused (429, no Retry-After), never admitted clamped", () => {
    const limiter = new RateLimiter({ keys: [{ keyId: "k", tokensPerMinute: 1000 }], now: () => 0 });
    const err = refusal(() => limiter.admit("k", { tokens: 4022 }));
    expect(err.status).toBe(429);
    expect(err.message).toMatch(/Request too large for tokens per minute \(TPM\): limit 1000, requested 4022/);
    expect(err.headers["retry-after"]).toBeUndefined();
    // Nothing was spent.
    expect(limiter.headers("k")["x-ratelimit-remaining-tokens"]).toBe("1000");
    expect(limiter.admit("k", { tokens: 1000 }).tokens?.reserved).toBe(1000);
  });

  it("tokens are reserved at admission and settled with real usage inside the same window", () => {
    let now = 0;
    const limiter = new RateLimiter({ keys: [{ keyId: "k", tokensPerMinute: 1000 }], now: () => now });
    const a = limiter.admit("k", { tokens: 700 });
    expect(() => limiter.admit("k", { tokens: 400 })).toThrow(/tokens per minute/);
    a.tokens!.settle(100); // used 100 of 700
    expect(limiter.headers("k")["x-ratelimit-remaining-tokens"]).toBe("900");
    now = 1000;
    const b = limiter.admit("k", { tokens: 400 });
    b.tokens!.settle(900); // used more than reserved: charged to the same window
    expect(limiter.headers("k")["x-ratelimit-remaining-tokens"]).toBe("0");
    const err = refusal(() => limiter.admit("k", { tokens: 1 }));
    expect(Number(err.headers["retry-after-ms"])).toBe(MINUTE - 1000); // the 100 from t=0 leaves first, at 60 000
    now = MINUTE;
    expect(() => limiter.admit("k", { tokens: 100 })).not.toThrow();
    expect(() => limiter.admit("k", { tokens: 1 })).toThrow(/tokens per minute/);
    // A settlement after its admission left the window charges the excess now, refunds nothing.
    now = 3 * MINUTE;
    const c = limiter.admit("k", { tokens: 10 });
    now += MINUTE;
    c.tokens!.settle(50);
    expect(limiter.headers("k")["x-ratelimit-remaining-tokens"]).toBe("960");
    expect(limiter.headers("k")["x-ratelimit-reset-tokens"]).toBe("1m0s");
  });
});
