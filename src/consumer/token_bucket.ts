/**
 * TokenBucket: a rate limiter that refills continuously at `rateTokensPerSec` up to
 * `burstTokens`, read lazily from an injected {@linkcode Clock} (no timers of its own), so it is
 * pure and tests drive it with a `ManualClock`.
 *
 * A consumer spends one token per market-data message it is handed (see `consumer.ts`); an
 * infinite rate means "no limit" and never refuses.
 *
 * @module
 */

import { type Clock, SYSTEM_CLOCK } from "../pool/clock.ts";

/**
 * Tolerance of token comparisons: fractional refills accumulate float error (ten refills of
 * 0.1 make 0.9999999999999999), which would otherwise delay a whole token by one more step.
 */
export const TOKEN_EPSILON = 1e-9;

/** Options of {@linkcode TokenBucket}. */
export interface TokenBucketOptions {
  /** Refill rate, tokens per second (> 0; `Infinity` never limits). */
  rateTokensPerSec: number;
  /** Most tokens held (>= 1): the largest burst taken at once after a quiet spell. */
  burstTokens: number;
  /** Tokens at creation, 0..burstTokens. Default `burstTokens` (a full bucket). */
  initialTokens?: number;
  /** Time source. Default {@linkcode SYSTEM_CLOCK}. */
  clock?: Clock;
}

/**
 * A continuously refilling token bucket.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const bucket = new TokenBucket({ rateTokensPerSec: 10, burstTokens: 2, clock });
 * bucket.tryTake(); // true
 * bucket.tryTake(); // true
 * bucket.tryTake(); // false: empty
 * bucket.waitMs(); // 100: one token every 100 ms
 * clock.advance(100);
 * bucket.tryTake(); // true
 * ```
 */
export class TokenBucket {
  /** Refill rate, tokens per second. */
  readonly rateTokensPerSec: number;
  /** Most tokens held. */
  readonly burstTokens: number;
  readonly #clock: Clock;
  #tokens: number;
  #lastMs: number;

  /** Creates a bucket; throws on a rate <= 0, a burst < 1 or initial tokens out of range. */
  constructor(opts: TokenBucketOptions) {
    const rate = opts.rateTokensPerSec;
    if (!(rate > 0)) {
      throw new RangeError(`expected rateTokensPerSec > 0 (or Infinity), found ${rate}`);
    }
    const burst = opts.burstTokens;
    if (!(burst >= 1) || !Number.isFinite(burst)) {
      throw new RangeError(`expected a finite burstTokens >= 1, found ${burst}`);
    }
    const initial = opts.initialTokens ?? burst;
    if (!(initial >= 0 && initial <= burst)) {
      throw new RangeError(`expected initialTokens in 0..${burst}, found ${initial}`);
    }
    this.rateTokensPerSec = rate;
    this.burstTokens = burst;
    this.#clock = opts.clock ?? SYSTEM_CLOCK;
    this.#tokens = initial;
    this.#lastMs = this.#clock.nowMs();
  }

  /** Tokens available now (fractional between refills). */
  available(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Takes `count` tokens (default 1) when that many are available; false leaves it unchanged. */
  tryTake(count = 1): boolean {
    assertCount(count);
    this.#refill();
    if (this.#tokens + TOKEN_EPSILON < count) return false;
    this.#tokens = Math.max(0, this.#tokens - count);
    return true;
  }

  /**
   * Milliseconds until `count` tokens (default 1) will be available: 0 when they are now,
   * `Infinity` when `count` exceeds the burst (the bucket never holds that many).
   */
  waitMs(count = 1): number {
    assertCount(count);
    this.#refill();
    if (this.#tokens + TOKEN_EPSILON >= count) return 0;
    if (count > this.burstTokens) return Infinity;
    return ((count - this.#tokens) / this.rateTokensPerSec) * 1000;
  }

  #refill(): void {
    const now = this.#clock.nowMs();
    const elapsedMs = now - this.#lastMs;
    // A clock that steps back (it should not: Clock is monotonic) must not drain the bucket.
    if (elapsedMs <= 0) return;
    this.#lastMs = now;
    if (this.#tokens >= this.burstTokens) return;
    const refilled = this.#tokens + (elapsedMs * this.rateTokensPerSec) / 1000;
    this.#tokens = refilled > this.burstTokens ? this.burstTokens : refilled;
  }
}

function assertCount(count: number): void {
  if (!(count > 0) || !Number.isFinite(count)) {
    throw new RangeError(`expected a finite token count > 0, found ${count}`);
  }
}
