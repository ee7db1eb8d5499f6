/**
 * Event-loop lag measured with a timer: how late each tick fires compared with when it was
 * scheduled. `monitorEventLoopDelay` misses most stalls under Deno (DENO_NOTES §4), this does not.
 *
 * @module
 */

/** Options of {@linkcode LoopLagSampler}. */
export interface LoopLagOptions {
  /** Sampling period. Default 100 ms. */
  intervalMs?: number;
  /** Called with each measured lag in ms. */
  onSample: (lagMs: number) => void;
}

/** Samples event-loop lag until stopped. */
export class LoopLagSampler {
  readonly intervalMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #expected = 0;
  /** Largest lag seen since the last {@linkcode takeMax}. */
  #maxMs = 0;
  readonly #onSample: (lagMs: number) => void;

  constructor(opts: LoopLagOptions) {
    this.intervalMs = opts.intervalMs ?? 100;
    this.#onSample = opts.onSample;
  }

  /** Starts sampling (idempotent). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#expected = performance.now() + this.intervalMs;
    this.#timer = setInterval(() => {
      const now = performance.now();
      const lag = Math.max(0, now - this.#expected);
      this.#expected = now + this.intervalMs;
      if (lag > this.#maxMs) this.#maxMs = lag;
      this.#onSample(lag);
    }, this.intervalMs);
  }

  /** Returns and clears the largest lag seen. */
  takeMax(): number {
    const m = this.#maxMs;
    this.#maxMs = 0;
    return m;
  }

  /** Stops sampling (idempotent). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
