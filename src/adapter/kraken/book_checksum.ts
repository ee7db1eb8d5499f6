/**
 * Kraken Spot WebSocket v2 book checksum (protocol notes kraken.md §4): CRC32 over the best 10
 * asks (ascending) then the best 10 bids (descending), each level written as its price and its
 * quantity padded to the pair's precisions, the dot removed and leading zeros stripped.
 *
 * v2 sends prices and quantities as JSON numbers, so a trimmed literal (`0.566`) must be padded
 * to the pair's precision (`0.5660`) before it enters the checksum; the book keeps the padded
 * strings, so the checksum reads them as they are.
 *
 * @module
 */

import { crc32Ascii } from "../shared/crc32.ts";
export { crc32Ascii } from "../shared/crc32.ts";
import type { OrderBook } from "../shared/order_book.ts";

/** Levels per side that the checksum covers, whatever the subscribed depth. */
export const CHECKSUM_LEVELS_PER_SIDE = 10;

/** Decimals {@linkcode decimalText} pads to at most (a bound on the string it builds). */
const PRECISION_MAX = 100;

/**
 * The checksum token of one padded decimal: the dot removed, leading zeros stripped
 * (`"0.00000500"` -> `"500"`, `"64000.0"` -> `"640000"`).
 */
export function checksumToken(padded: string): string {
  let start = 0;
  const digits = padded.replace(".", "");
  while (start < digits.length - 1 && digits.charCodeAt(start) === 48) start++;
  return digits.slice(start);
}

/**
 * A JSON number (or decimal string) as a decimal string with exactly `precision` decimals, or
 * null when it is not a finite non-negative value, or has non-zero digits beyond `precision`
 * (it cannot be written at that precision without changing it).
 *
 * Exact without arithmetic: a number is first written as its shortest round-trip decimal
 * (`String(n)`, which V8 guarantees is the shortest text that parses back to the same double,
 * so for any literal of at most 15 significant digits it is the literal with trailing zeros
 * dropped), exponent forms (`1e-7`, `1e+21`) are expanded as text, and the fraction is then
 * padded with zeros (or stripped of surplus trailing zeros) as a string.
 *
 * @example
 * ```ts
 * decimalText(0.566, 4); // "0.5660"
 * decimalText(64000, 1); // "64000.0"
 * decimalText(1e-7, 8); // "0.00000010"
 * decimalText(0.12345, 2); // null: digits beyond the precision
 * ```
 */
export function decimalText(value: unknown, precision: number): string | null {
  if (!(Number.isInteger(precision) && precision >= 0 && precision <= PRECISION_MAX)) {
    return null;
  }
  let text: string;
  if (typeof value === "number") {
    if (!(Number.isFinite(value) && value >= 0)) return null;
    text = expandExponent(String(value)); // -0 writes as "0"
  } else if (typeof value === "string" && PLAIN_DECIMAL_RE.test(value)) {
    text = value;
  } else return null;
  return fixDecimals(text, precision);
}

/** A non-negative decimal without exponent, sign or surrounding space. */
const PLAIN_DECIMAL_RE = /^[0-9]+(\.[0-9]+)?$/;

/** `"1.5e-7"` -> `"0.00000015"`, `"1e+21"` -> `"1000000000000000000000"`; plain text unchanged. */
function expandExponent(text: string): string {
  const e = text.indexOf("e");
  if (e === -1) return text;
  const mantissa = text.slice(0, e);
  const exponent = Number(text.slice(e + 1)); // |exponent| <= 324 for a finite double
  const dot = mantissa.indexOf(".");
  const digits = dot === -1 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const point = (dot === -1 ? mantissa.length : dot) + exponent;
  if (point <= 0) return `0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + "0".repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Pads the fraction of a plain decimal to `precision` digits; null if a dropped digit is not 0. */
function fixDecimals(text: string, precision: number): string | null {
  const dot = text.indexOf(".");
  const whole = dot === -1 ? text : text.slice(0, dot);
  const fraction = dot === -1 ? "" : text.slice(dot + 1);
  if (fraction.length > precision) {
    for (let i = precision; i < fraction.length; i++) {
      if (fraction.charCodeAt(i) !== 48 /* 0 */) return null;
    }
  }
  const kept = fraction.length > precision
    ? fraction.slice(0, precision)
    : fraction + "0".repeat(precision - fraction.length);
  return precision === 0 ? whole : `${whole}.${kept}`;
}

/**
 * The v2 checksum of a book whose levels are stored as padded decimals (as the Kraken adapter
 * stores them): asks best-first then bids best-first, 10 levels per side at most.
 */
export function bookChecksum(book: OrderBook): number {
  let crc = 0;
  const asks = Math.min(CHECKSUM_LEVELS_PER_SIDE, book.depth("ask"));
  for (let r = 0; r < asks; r++) {
    crc = crc32Ascii(checksumToken(book.priceAt("ask", r)), crc);
    crc = crc32Ascii(checksumToken(book.qtyAt("ask", r)), crc);
  }
  const bids = Math.min(CHECKSUM_LEVELS_PER_SIDE, book.depth("bid"));
  for (let r = 0; r < bids; r++) {
    crc = crc32Ascii(checksumToken(book.priceAt("bid", r)), crc);
    crc = crc32Ascii(checksumToken(book.qtyAt("bid", r)), crc);
  }
  return crc;
}
