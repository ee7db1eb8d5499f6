/**
 * Level storage shared by the pooled types that carry book levels (`CanonicalEvent`,
 * `ProviderRaw`): a flat `[price, qty, ...]` array kept across reuse plus a count of the
 * values in use. Emptying a V8 array (`length = 0`) frees its backing store, so a pooled object
 * that emptied its level arrays on every reuse regrew them on every book message.
 *
 * Invariant: slots at or beyond the count hold "" (never data), so no stale string (often a
 * slice that pins a whole frame's text) stays reachable from a pooled object.
 *
 * @module
 */

/**
 * Levels per side whose storage a pooled object keeps across `reset()`, in levels (2 strings
 * each). Storage beyond it is trimmed at reset, so one huge snapshot (Binance REST: 5000 levels)
 * cannot pin memory for the pool's lifetime: at most 2 sides × 500 levels × 2 slots × 4 B
 * (compressed pointers) = 8 KB per pooled object.
 */
export const LEVELS_RETAINED_MAX = 500;

/** {@linkcode LEVELS_RETAINED_MAX} in store slots (2 per level). */
export const STORE_RETAINED_SLOTS_MAX = 2 * LEVELS_RETAINED_MAX;

/**
 * Sets `store[from, to)` to "" (clamped to the store). A plain loop: `Array.prototype.fill` is a
 * C++ builtin whose call costs more than the ~20-40 writes of a typical book message.
 */
export function clearSlots(store: string[], from: number, to: number): void {
  const end = Math.min(to, store.length);
  for (let i = from; i < end; i++) store[i] = "";
}

/**
 * Trims `store` to {@linkcode STORE_RETAINED_SLOTS_MAX}. Trimming to a non-zero length keeps the
 * first slots (V8 right-trims in place when the store shrinks by more than half); only
 * `length = 0` drops the backing store altogether.
 */
export function trimStore(store: string[]): void {
  if (store.length > STORE_RETAINED_SLOTS_MAX) store.length = STORE_RETAINED_SLOTS_MAX;
}

/**
 * A new array of `store[0, length)`. A sized array and a loop: `slice(0, length)` measured
 * ~20 ns slower per call than this (or than a whole-array `slice()`) on 20-value levels.
 */
export function copyPrefix(store: readonly string[], length: number): string[] {
  const out = new Array<string>(length);
  for (let i = 0; i < length; i++) out[i] = store[i];
  return out;
}

/** Throws a RangeError unless `length` is an integer in `[0, storeLength]`. */
export function assertStoreLength(length: number, storeLength: number, side: string): void {
  if (!Number.isInteger(length) || length < 0 || length > storeLength) {
    throw new RangeError(
      `expected ${side} length as an integer in [0, ${storeLength}], found ${length}`,
    );
  }
}

/** Whether `store[0, length)` contains `value`. */
export function prefixIncludes(store: readonly string[], length: number, value: string): boolean {
  for (let i = 0; i < length; i++) if (store[i] === value) return true;
  return false;
}

/**
 * The book-level part of a pooled type (`CanonicalEvent`, `ProviderRaw`): the two flat stores,
 * their counts, and the writers that keep the invariant above. Subclasses add their own fields
 * and call {@linkcode LevelSides.resetLevelSides} from `reset()` when a count is non-zero or a
 * store is over the bound (out of line, so a trade's `reset()` stays small).
 */
export abstract class LevelSides {
  /**
   * Bid level storage, flat `[price, qty, ...]`, kept across reuse. Only the first `bidsLength`
   * values are this object's; the rest hold "" (never data). Write it through `setBids` /
   * `pushBid`, or directly followed by `setBidsLength`.
   */
  readonly bidStore: string[] = [];
  /** Values of `bidStore` in use (2 per level), i.e. `bids.length` of the clone. */
  bidsLength = 0;
  /** Ask level storage, as `bidStore`. */
  readonly askStore: string[] = [];
  /** Values of `askStore` in use, as `bidsLength`. */
  asksLength = 0;

  /**
   * Replaces the bid levels with a copy of the first `length` values of flat `src` (default: all
   * of it, e.g. another object's store and count), reusing storage.
   */
  setBids(src: readonly string[], length: number = src.length): void {
    assertStoreLength(length, src.length, "bids");
    const store = this.bidStore;
    for (let i = 0; i < length; i++) store[i] = src[i];
    this.setBidsLength(length);
  }

  /** Replaces the ask levels with a copy of the first `length` values of `src`, as `setBids`. */
  setAsks(src: readonly string[], length: number = src.length): void {
    assertStoreLength(length, src.length, "asks");
    const store = this.askStore;
    for (let i = 0; i < length; i++) store[i] = src[i];
    this.setAsksLength(length);
  }

  /** Appends one bid level after the used ones. */
  pushBid(price: string, qty: string): void {
    const n = this.bidsLength;
    this.bidStore[n] = price;
    this.bidStore[n + 1] = qty;
    this.bidsLength = n + 2;
  }

  /** Appends one ask level after the used ones. */
  pushAsk(price: string, qty: string): void {
    const n = this.asksLength;
    this.askStore[n] = price;
    this.askStore[n + 1] = qty;
    this.asksLength = n + 2;
  }

  /**
   * Declares the first `length` values of `bidStore` (written directly, e.g. by an order book's
   * `writeFlat`) as the bid levels; slots dropped from a longer previous count are cleared.
   */
  setBidsLength(length: number): void {
    assertStoreLength(length, this.bidStore.length, "bids");
    if (length < this.bidsLength) clearSlots(this.bidStore, length, this.bidsLength);
    this.bidsLength = length;
  }

  /** Declares the first `length` values of `askStore` as the ask levels, as `setBidsLength`. */
  setAsksLength(length: number): void {
    assertStoreLength(length, this.askStore.length, "asks");
    if (length < this.asksLength) clearSlots(this.askStore, length, this.asksLength);
    this.asksLength = length;
  }

  /** True when `reset()` has level work to do (a count in use or a store over the bound). */
  protected levelsNeedReset(): boolean {
    return this.bidsLength !== 0 || this.asksLength !== 0 ||
      this.bidStore.length > STORE_RETAINED_SLOTS_MAX ||
      this.askStore.length > STORE_RETAINED_SLOTS_MAX;
  }

  /** The level part of `reset()`: clears the used slots, zeroes the counts, trims the stores. */
  protected resetLevelSides(): void {
    clearSlots(this.bidStore, 0, this.bidsLength);
    clearSlots(this.askStore, 0, this.asksLength);
    this.bidsLength = 0;
    this.asksLength = 0;
    trimStore(this.bidStore);
    trimStore(this.askStore);
  }
}
