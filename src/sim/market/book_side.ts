/**
 * One side of a simulated order book: price levels keyed by integer tick, quantities in integer
 * steps. Levels are kept sorted with the best price at the end of the array, because nearly all
 * activity happens at the top and inserting or removing near the end of an array is cheap.
 *
 * @module
 */

/** Which side of the book: bids (buy interest) or asks (sell interest). */
export type BookSideName = "bid" | "ask";

/** Read-only view of a book side. */
export interface ReadonlyBookSide {
  /** `"bid"` or `"ask"`. */
  readonly side: BookSideName;
  /** Number of price levels. */
  readonly levelCount: number;
  /** Best price in ticks, or 0 when the side is empty (real ticks start at 1). */
  bestTick(): number;
  /** Quantity at the best price in steps, or 0 when empty. */
  bestQty(): number;
  /** Price in ticks of the level `rank` places behind the best (0 = best). */
  tickAtRank(rank: number): number;
  /** Quantity in steps at `tick`, 0 when there is no level. */
  qtyAt(tick: number): number;
  /** Up to `levelsMax` levels, best first, as `[tick, qtySteps]` pairs. */
  topLevels(levelsMax: number): [number, number][];
}

/** A mutable book side. See the module documentation. */
export class BookSide implements ReadonlyBookSide {
  readonly side: BookSideName;
  // Sort keys ascending with the best price last: bids use +tick, asks use -tick.
  readonly #sign: number;
  readonly #keys: number[] = [];
  readonly #qty = new Map<number, number>();

  /** An empty side. */
  constructor(side: BookSideName) {
    this.side = side;
    this.#sign = side === "bid" ? 1 : -1;
  }

  get levelCount(): number {
    return this.#keys.length;
  }

  bestTick(): number {
    const n = this.#keys.length;
    return n === 0 ? 0 : this.#keys[n - 1] * this.#sign;
  }

  bestQty(): number {
    const n = this.#keys.length;
    return n === 0 ? 0 : this.#qty.get(this.#keys[n - 1] * this.#sign)!;
  }

  tickAtRank(rank: number): number {
    const n = this.#keys.length;
    if (!(Number.isInteger(rank) && rank >= 0 && rank < n)) {
      throw new RangeError(`rank: expected an integer in [0, ${n}), found ${rank}`);
    }
    return this.#keys[n - 1 - rank] * this.#sign;
  }

  qtyAt(tick: number): number {
    return this.#qty.get(tick) ?? 0;
  }

  topLevels(levelsMax: number): [number, number][] {
    const keys = this.#keys;
    const count = Math.min(levelsMax, keys.length);
    const out: [number, number][] = new Array(count);
    for (let i = 0; i < count; i++) {
      const tick = keys[keys.length - 1 - i] * this.#sign;
      out[i] = [tick, this.#qty.get(tick)!];
    }
    return out;
  }

  /**
   * Sets the quantity at `tick` (absolute, in steps; 0 removes the level) and returns the
   * previous quantity (0 when the level did not exist).
   */
  set(tick: number, qtySteps: number): number {
    if (!(Number.isSafeInteger(tick) && tick >= 1)) {
      throw new RangeError(`tick: expected a positive integer, found ${tick}`);
    }
    if (!(Number.isSafeInteger(qtySteps) && qtySteps >= 0)) {
      throw new RangeError(`qtySteps: expected a non-negative integer, found ${qtySteps}`);
    }
    const previous = this.#qty.get(tick) ?? 0;
    if (qtySteps === 0) {
      if (previous !== 0) {
        this.#qty.delete(tick);
        const at = this.#search(tick * this.#sign);
        this.#keys.splice(at, 1);
      }
    } else {
      if (previous === 0) {
        const key = tick * this.#sign;
        this.#keys.splice(this.#search(key), 0, key);
      }
      this.#qty.set(tick, qtySteps);
    }
    return previous;
  }

  /** Index of `key` in the sorted keys, or where it would be inserted. */
  #search(key: number): number {
    const keys = this.#keys;
    let lo = 0;
    let hi = keys.length;
    // Most lookups hit the top of the book (the array end); check there first.
    if (hi > 0 && keys[hi - 1] < key) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
