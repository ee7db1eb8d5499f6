/**
 * Sentinel values written into released objects in pool debug mode. Validation treats them as
 * invalid, so a use after release fails loudly instead of reading stale data.
 *
 * @module
 */

/** Written into every string field of a poisoned object. */
export const POISON_STRING = "\u2620released\u2620";
/** Written into every number field of a poisoned object (all arithmetic on it yields NaN). */
export const POISON_NUMBER = Number.NaN;

/** True when `value` is one of the poison sentinels. */
export function isPoisoned(value: unknown): boolean {
  return value === POISON_STRING || (typeof value === "number" && Number.isNaN(value));
}
