/**
 * Validation of exact values: decimal strings for prices and sizes, canonical symbols.
 * Prices and quantities are never parsed into floats on the order path: they stay the
 * exchange's original strings (book checksums need them byte for byte).
 *
 * @module
 */

const DECIMAL_RE = /^-?[0-9]+(\.[0-9]+)?$/;
const SYMBOL_RE = /^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}$/;
const PROVIDER_RE = /^[a-z][a-z0-9_-]{0,31}$/;
const INTERVAL_RE = /^[1-9][0-9]{0,4}[smhdwM]$/;

/**
 * True when `value` is a plain decimal string: optional minus, digits, optional fraction.
 * No exponent, no leading plus, no whitespace.
 *
 * @example
 * ```ts
 * isDecimalString("87250.01000000"); // true
 * isDecimalString("1e-8"); // false
 * ```
 */
export function isDecimalString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= 64 &&
    DECIMAL_RE.test(value);
}

/**
 * True when `value` is a canonical symbol `BASE-QUOTE` in upper case (`BTC-USDT`).
 *
 * @example
 * ```ts
 * isCanonicalSymbol("BTC-USDT"); // true
 * isCanonicalSymbol("BTCUSDT"); // false
 * ```
 */
export function isCanonicalSymbol(value: unknown): value is string {
  return typeof value === "string" && SYMBOL_RE.test(value);
}

/**
 * True when `value` is a decimal string strictly greater than zero. Decided on the digits alone
 * (no float parsing, so `"0.000000000000000000001"` is positive and `"-0"` is not).
 *
 * @example
 * ```ts
 * isPositiveDecimalString("0.00100000"); // true
 * isPositiveDecimalString("0.000"); // false
 * ```
 */
export function isPositiveDecimalString(value: unknown): value is string {
  return isDecimalString(value) && value.charCodeAt(0) !== 45 /* - */ && !isZeroDecimal(value);
}

/**
 * True when `value` names a provider: lower-case letter first, then lower-case letters, digits,
 * `_` or `-`, at most 32 characters (`binance`, `okx`, `kraken`).
 */
export function isProviderName(value: unknown): value is string {
  return typeof value === "string" && PROVIDER_RE.test(value);
}

/** True when `value` is `""` (the source did not provide it) or a decimal string. */
export function isDecimalOrEmpty(value: unknown): value is string {
  return value === "" || isDecimalString(value);
}

/**
 * True when `value` is a kline interval: a count and a unit, `s` seconds, `m` minutes, `h` hours,
 * `d` days, `w` weeks, `M` months (`1m`, `15m`, `4h`, `1M`).
 */
export function isKlineInterval(value: unknown): value is string {
  return typeof value === "string" && INTERVAL_RE.test(value);
}

/** True when `value` is a sequence number or count: a non-negative safe integer. */
export function isSequenceNumber(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** True when `value` is a timestamp in ms since the epoch (finite, non-negative; 0 = unknown). */
export function isTimestampMs(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

/** True when `value` is zero written as a decimal string (`"0"`, `"0.00000000"`). */
export function isZeroDecimal(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== 48 /* 0 */ && c !== 46 /* . */ && c !== 45 /* - */) return false;
  }
  return true;
}
