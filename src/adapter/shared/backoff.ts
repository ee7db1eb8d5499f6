/**
 * Exponential backoff with jitter for reconnect loops: a pure calculator (no timers, no I/O) so
 * the policy is unit-testable with an injected random source.
 *
 * Delay of the k-th call to {@linkcode Backoff.next} after a reset (k = 0, 1, 2, ...):
 * `baseMs = min(maxMs, initialMs * multiplier^k)`, then jitter:
 * - `"none"`: `baseMs`;
 * - `"full"`: uniform in `[0, baseMs)` (spreads a crowd of clients the most);
 * - a ratio `r` in `[0, 1]`: uniform in `(baseMs * (1 - r), baseMs]` (`0.5` is "equal jitter").
 *
 * Finally the delay is raised to `minMs`: a reconnect loop must never spin, even when the random
 * source returns values near 0 many times in a row.
 *
 * @module
 */

/** How the delay is randomised: `"none"`, `"full"`, or a ratio in `[0, 1]` of the base delay. */
export type BackoffJitter = "none" | "full" | number;

/** Options of {@linkcode Backoff}. */
export interface BackoffOptions {
  /** Base delay of the first attempt after a reset, in ms; > 0. */
  initialMs: number;
  /** Cap of the base delay, in ms; >= `initialMs`. */
  maxMs: number;
  /** Growth factor per attempt; >= 1. Default 2. */
  multiplier?: number;
  /** Randomisation; default `"full"`. */
  jitter?: BackoffJitter;
  /** Floor of every returned delay, in ms; in `[0, initialMs]`. Default `min(initialMs, 100)`. */
  minMs?: number;
  /** Uniform random source in `[0, 1)`; default `Math.random`. Tests inject a fixed sequence. */
  random?: () => number;
}

/** Default growth factor of {@linkcode Backoff}. */
export const BACKOFF_MULTIPLIER_DEFAULT = 2;

/** Upper bound of the default floor of {@linkcode Backoff} delays, in ms. */
export const BACKOFF_MIN_MS_DEFAULT_MAX = 100;

/**
 * Exponential backoff calculator: call {@linkcode Backoff.next} before each retry and
 * {@linkcode Backoff.reset} once a connection has proved healthy.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ initialMs: 250, maxMs: 30_000, jitter: "none" });
 * backoff.next(); // 250
 * backoff.next(); // 500
 * backoff.reset();
 * backoff.next(); // 250
 * ```
 */
export class Backoff {
  /** Base delay of the first attempt after a reset, in ms. */
  readonly initialMs: number;
  /** Cap of the base delay, in ms. */
  readonly maxMs: number;
  /** Growth factor per attempt. */
  readonly multiplier: number;
  /** Randomisation of each delay. */
  readonly jitter: BackoffJitter;
  /** Floor of every returned delay, in ms. */
  readonly minMs: number;
  private readonly random: () => number;
  private baseMs: number;
  private attemptCount = 0;

  /** Validates the options; throws `RangeError` naming the bad one. */
  constructor(options: BackoffOptions) {
    const { initialMs, maxMs } = options;
    const multiplier = options.multiplier ?? BACKOFF_MULTIPLIER_DEFAULT;
    const jitter = options.jitter ?? "full";
    const minMs = options.minMs ?? Math.min(initialMs, BACKOFF_MIN_MS_DEFAULT_MAX);
    if (!(Number.isFinite(initialMs) && initialMs > 0)) {
      throw new RangeError(`expected backoff initialMs > 0, found ${initialMs}`);
    }
    if (!(Number.isFinite(maxMs) && maxMs >= initialMs)) {
      throw new RangeError(`expected backoff maxMs >= initialMs (${initialMs}), found ${maxMs}`);
    }
    if (!(Number.isFinite(multiplier) && multiplier >= 1)) {
      throw new RangeError(`expected backoff multiplier >= 1, found ${multiplier}`);
    }
    if (typeof jitter === "number" && !(jitter >= 0 && jitter <= 1)) {
      throw new RangeError(`expected backoff jitter ratio in [0, 1], found ${jitter}`);
    }
    if (typeof jitter === "string" && jitter !== "none" && jitter !== "full") {
      throw new RangeError(`expected backoff jitter "none", "full" or a ratio, found "${jitter}"`);
    }
    if (!(minMs >= 0 && minMs <= initialMs)) {
      throw new RangeError(`expected backoff minMs in [0, ${initialMs}], found ${minMs}`);
    }
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.multiplier = multiplier;
    this.jitter = jitter;
    this.minMs = minMs;
    this.random = options.random ?? Math.random;
    this.baseMs = initialMs;
  }

  /** Number of delays handed out since construction or the last {@linkcode Backoff.reset}. */
  get attempt(): number {
    return this.attemptCount;
  }

  /** Base (un-jittered) delay the next call to {@linkcode Backoff.next} will use, in ms. */
  get nextBaseMs(): number {
    return this.baseMs;
  }

  /** Returns the delay before the next attempt, in ms, and advances the schedule. */
  next(): number {
    const baseMs = this.baseMs;
    // Grow the stored base instead of computing multiplier^k, so a long outage cannot overflow.
    this.baseMs = Math.min(this.maxMs, baseMs * this.multiplier);
    this.attemptCount++;
    const delayMs = Math.max(this.minMs, this.jittered(baseMs));
    if (!(delayMs >= 0 && delayMs <= this.maxMs)) {
      throw new RangeError(`expected a backoff delay in [0, ${this.maxMs}] ms, found ${delayMs}`);
    }
    return delayMs;
  }

  /** Starts the schedule over: the next delay is based on `initialMs` again. */
  reset(): void {
    this.baseMs = this.initialMs;
    this.attemptCount = 0;
  }

  private jittered(baseMs: number): number {
    const jitter = this.jitter;
    if (jitter === "none") return baseMs;
    const r = this.random();
    if (!(r >= 0 && r < 1)) {
      throw new RangeError(`expected the backoff random source to return [0, 1), found ${r}`);
    }
    if (jitter === "full") return r * baseMs;
    return baseMs * (1 - jitter * r);
  }
}
