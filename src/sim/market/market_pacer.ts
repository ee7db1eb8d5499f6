/**
 * Turns a target event rate into per-tick batch sizes. A simulator calls {@link MarketPacer.due}
 * from its timer and asks the generator for that many events; the pacer carries fractions and
 * overshoot between ticks so the long-run average matches the rate, and sheds (counts) backlog
 * beyond a bound instead of bursting after a stall.
 *
 * @module
 */

/** Options of {@link MarketPacer}. */
export interface MarketPacerOptions {
  /** Target events per second (>= 0; 0 pauses). */
  readonly eventsPerSecond: number;
  /** Most backlog carried into one tick, in ms of events at the target rate (default 250). */
  readonly catchUpMaxMs?: number;
}

/** Counters of a pacer. */
export interface MarketPacerStats {
  /** Events the pacer asked for in total. */
  readonly eventsDue: number;
  /** Events dropped from the backlog because the loop fell behind by more than the bound. */
  readonly eventsShed: number;
}

/**
 * Rate pacing with fractional carry.
 *
 * @example
 * ```ts
 * const pacer = new MarketPacer({ eventsPerSecond: 1000 }, performance.now());
 * const n = pacer.due(performance.now()); // events to generate now
 * pacer.record(n); // or the count the generator actually emitted
 * ```
 */
export class MarketPacer {
  #rate: number;
  readonly #catchUpMaxMs: number;
  #lastMs: number;
  #carry = 0;
  #eventsDue = 0;
  #eventsShed = 0;

  /** A pacer starting at time `nowMs` (any monotonic ms clock). */
  constructor(options: MarketPacerOptions, nowMs: number) {
    this.#rate = checkRate(options.eventsPerSecond);
    this.#catchUpMaxMs = options.catchUpMaxMs ?? 250;
    this.#lastMs = nowMs;
  }

  /** Target events per second. */
  get eventsPerSecond(): number {
    return this.#rate;
  }

  /** Changes the rate from now on. */
  setRate(eventsPerSecond: number, nowMs: number): void {
    this.due(nowMs);
    this.#rate = checkRate(eventsPerSecond);
  }

  /** Events to generate for the time elapsed since the previous call (>= 0). */
  due(nowMs: number): number {
    const elapsedMs = Math.max(0, nowMs - this.#lastMs);
    this.#lastMs = nowMs;
    let owed = this.#carry + (this.#rate * elapsedMs) / 1000;
    const bound = (this.#rate * this.#catchUpMaxMs) / 1000 + 1;
    if (owed > bound) {
      this.#eventsShed += Math.floor(owed - bound);
      owed = bound;
    }
    const count = Math.max(0, Math.floor(owed));
    this.#carry = owed;
    this.#eventsDue += count;
    return count;
  }

  /** Records that `emitted` events were produced (may differ from what `due` returned). */
  record(emitted: number): void {
    this.#carry -= emitted;
    // A paused or rate-zero generator must not build debt that bursts out later.
    if (this.#rate === 0) this.#carry = 0;
  }

  /** Counters. */
  stats(): MarketPacerStats {
    return { eventsDue: this.#eventsDue, eventsShed: this.#eventsShed };
  }
}

function checkRate(rate: number): number {
  if (!(Number.isFinite(rate) && rate >= 0 && rate <= 10_000_000)) {
    throw new RangeError(`eventsPerSecond: expected a number in [0, 10000000], found ${rate}`);
  }
  return rate;
}
