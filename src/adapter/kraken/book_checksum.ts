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

import type { OrderBook } from "../shared/order_book.ts";

/** Levels per side that the checksum covers, whatever the subscribed depth. */
export const CHECKSUM_LEVELS_PER_SIDE = 10;

/** Decimals of a number rendered by {@linkcode decimalText}; `toFixed` accepts at most 100. */
const PRECISION_MAX = 100;
/** Numbers at or above this render in exponent form with `toFixed`, so they are refused. */
const VALUE_MAX = 1e21;

const CRC_TABLE = buildCrcTable();

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/**
 * Unsigned CRC32 (zlib polynomial) of an ASCII string, continuing from `crc` (0 to start).
 *
 * @example
 * ```ts
 * crc32Ascii("123456789"); // 0xcbf43926
 * ```
 */
export function crc32Ascii(text: string, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < text.length; i++) {
    c = CRC_TABLE[(c ^ text.charCodeAt(i)) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

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
 * null when it is not a finite non-negative value below 1e21.
 *
 * Exact for every literal of at most 15 significant digits: parsing rounds the literal to the
 * nearest double, and `toFixed` rounds that double back to the nearest decimal at the wanted
 * precision, which is the literal itself. Kraken's prices and quantities stay well inside that;
 * a longer literal that rounded differently would fail the checksum and resync, never slip by.
 *
 * @example
 * ```ts
 * decimalText(0.566, 4); // "0.5660"
 * decimalText(64000, 1); // "64000.0"
 * ```
 */
export function decimalText(value: unknown, precision: number): string | null {
  if (!(Number.isInteger(precision) && precision >= 0 && precision <= PRECISION_MAX)) {
    return null;
  }
  const n = typeof value === "number"
    ? value
    : typeof value === "string" && /^[0-9]+(\.[0-9]+)?$/.test(value)
    ? Number(value)
    : NaN;
  if (!(Number.isFinite(n) && n >= 0 && n < VALUE_MAX)) return null;
  return n.toFixed(precision);
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
