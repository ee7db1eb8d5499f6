/**
 * REST request-weight accounting as Binance does it per IP: weight adds up in a window aligned
 * to multiples of its length (a minute at :00 on the real venue); going over the limit gets
 * HTTP 429 with `Retry-After`; a client that keeps sending during that back-off gets HTTP 418
 * and a ban.
 *
 * @module
 */

/** What to do with one request. */
export type WeightVerdict =
  | { readonly kind: "ok"; readonly usedWeight: number }
  | {
    readonly kind: "limited";
    readonly usedWeight: number;
    readonly retryAfterS: number;
    readonly limit: number;
  }
  | {
    readonly kind: "banned";
    readonly usedWeight: number;
    readonly retryAfterS: number;
    readonly bannedUntilMs: number;
  };

/** Options of {@link WeightLimiter}. */
export interface WeightLimiterOptions {
  /** Weight allowed per window (0 = every weighted request is over the limit). */
  readonly limit: number;
  /** Window length in ms. */
  readonly windowMs: number;
  /** Ban length in ms. */
  readonly banMs: number;
  /** Requests tolerated during a 429 back-off before the ban. */
  readonly requestsAfter429Max: number;
}

/** See the module documentation. Single-IP (everything is on loopback). */
export class WeightLimiter {
  #limit: number;
  readonly #windowMs: number;
  readonly #banMs: number;
  readonly #requestsAfter429Max: number;
  #windowIndex = -1;
  #used = 0;
  #backoffUntilMs = 0;
  #requestsDuringBackoff = 0;
  #bannedUntilMs = 0;
  /** Counters. */
  readonly counts = { ok: 0, limited: 0, banned: 0 };

  /** A limiter with fresh counters. */
  constructor(options: WeightLimiterOptions) {
    this.#limit = options.limit;
    this.#windowMs = options.windowMs;
    this.#banMs = options.banMs;
    this.#requestsAfter429Max = options.requestsAfter429Max;
  }

  /** Current limit per window. */
  get limit(): number {
    return this.#limit;
  }

  /** Changes the limit (fault knob). */
  setLimit(limit: number): void {
    if (!(Number.isInteger(limit) && limit >= 0)) {
      throw new RangeError(`weight limit: expected a non-negative integer, found ${limit}`);
    }
    this.#limit = limit;
  }

  /** Lifts any back-off and ban and empties the window (fault reset). */
  reset(): void {
    this.#used = 0;
    this.#backoffUntilMs = 0;
    this.#requestsDuringBackoff = 0;
    this.#bannedUntilMs = 0;
  }

  /** Weight used in the current window as of `nowMs`. */
  used(nowMs: number): number {
    this.#roll(nowMs);
    return this.#used;
  }

  /** Charges `weight` for a request at `nowMs` and says whether it may proceed. */
  charge(weight: number, nowMs: number): WeightVerdict {
    this.#roll(nowMs);
    if (nowMs < this.#bannedUntilMs) return this.#banned(nowMs);
    if (nowMs < this.#backoffUntilMs) {
      this.#requestsDuringBackoff++;
      if (this.#requestsDuringBackoff > this.#requestsAfter429Max) {
        this.#bannedUntilMs = nowMs + this.#banMs;
        return this.#banned(nowMs);
      }
    }
    // Binance counts the weight of rejected requests too.
    this.#used += weight;
    if (this.#used > this.#limit) {
      const windowEndMs = (this.#windowIndex + 1) * this.#windowMs;
      if (this.#backoffUntilMs <= nowMs) this.#requestsDuringBackoff = 0;
      this.#backoffUntilMs = windowEndMs;
      this.counts.limited++;
      return {
        kind: "limited",
        usedWeight: this.#used,
        retryAfterS: Math.max(1, Math.ceil((windowEndMs - nowMs) / 1000)),
        limit: this.#limit,
      };
    }
    this.counts.ok++;
    return { kind: "ok", usedWeight: this.#used };
  }

  #banned(nowMs: number): WeightVerdict {
    this.counts.banned++;
    return {
      kind: "banned",
      usedWeight: this.#used,
      retryAfterS: Math.max(1, Math.ceil((this.#bannedUntilMs - nowMs) / 1000)),
      bannedUntilMs: this.#bannedUntilMs,
    };
  }

  #roll(nowMs: number): void {
    const index = Math.floor(nowMs / this.#windowMs);
    if (index !== this.#windowIndex) {
      this.#windowIndex = index;
      this.#used = 0;
    }
  }
}
