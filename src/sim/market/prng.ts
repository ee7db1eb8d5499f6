/**
 * A small seeded pseudo-random generator (sfc32, seeded through splitmix32). Integer-only state,
 * so the same seed yields the same sequence on every platform and every run.
 *
 * @module
 */

/**
 * Deterministic random source for the market generator.
 *
 * @example
 * ```ts
 * const random = new SeededRandom(42);
 * const die = 1 + random.below(6);
 * ```
 */
export class SeededRandom {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Seeds the four state words from `seed` (any number; only its low 32 bits are used). */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) {
      throw new RangeError(`seed: expected a finite number, found ${seed}`);
    }
    let state = seed >>> 0;
    // splitmix32 spreads a small seed over all state words, so seeds 1 and 2 diverge at once.
    const next = (): number => {
      state = (state + 0x9e3779b9) | 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    // The first outputs of sfc32 are weakly mixed; discard them.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const a = this.#a;
    const b = this.#b;
    const c = this.#c;
    const t = (((a + b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    const rotated = (c << 21) | (c >>> 11);
    this.#c = (rotated + t) | 0;
    return t >>> 0;
  }

  /**
   * A uniform integer in `[0, bound)`. `bound` must be an integer in `[1, 2^32]`.
   * Computed as `floor(u / 2^32 * bound)`: exact IEEE arithmetic, so it is platform-independent.
   */
  below(bound: number): number {
    if (!(Number.isInteger(bound) && bound >= 1 && bound <= 4294967296)) {
      throw new RangeError(`bound: expected an integer in [1, 2^32], found ${bound}`);
    }
    return Math.floor((this.nextUint32() / 4294967296) * bound);
  }

  /** True with probability `percent` / 100 (`percent` an integer in [0, 100]). */
  percent(percent: number): boolean {
    return this.below(100) < percent;
  }
}
