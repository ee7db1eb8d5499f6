/**
 * The decimal-string grammar both Binance decoder paths enforce for prices and quantities,
 * written as a character scan (no regex, no allocation) so the specialised scanner can apply it
 * in place and the generic mapper can apply the very same rule to parsed strings.
 *
 * Grammar (the same as `isDecimalString` in `schema/exact_values.ts`):
 * `-?[0-9]+(\.[0-9]+)?`, at most {@linkcode DECIMAL_CHARS_MAX} characters.
 *
 * @module
 */

/** Longest decimal string accepted, in characters (matches `schema/exact_values.ts`). */
export const DECIMAL_CHARS_MAX = 64;

/**
 * Scans the decimal grammar in `text` from `start`. Returns the index just past the decimal, or
 * -1 when no decimal starts there (no digit, or a '.' without fraction digits). The caller checks
 * what follows and the length bound.
 */
export function decimalEnd(text: string, start: number): number {
  const n = text.length;
  let i = start;
  if (i < n && text.charCodeAt(i) === 45 /* - */) i++;
  const intStart = i;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  if (i === intStart) return -1;
  if (i < n && text.charCodeAt(i) === 46 /* . */) {
    i++;
    const fracStart = i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      i++;
    }
    if (i === fracStart) return -1;
  }
  return i;
}

/**
 * True when `value` is a plain decimal string (optional minus, digits, optional fraction).
 *
 * @example
 * ```ts
 * isPlainDecimal("0.00120000"); // true
 * isPlainDecimal("1e-8"); // false
 * ```
 */
export function isPlainDecimal(value: string): boolean {
  return value.length <= DECIMAL_CHARS_MAX && decimalEnd(value, 0) === value.length;
}
