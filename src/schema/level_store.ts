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
