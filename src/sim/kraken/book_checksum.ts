/**
 * Kraken WebSocket v2 book checksum: CRC32 (zlib polynomial, unsigned) over the top 10 asks
 * (ascending) then the top 10 bids (descending), each level rendered as price then quantity with
 * exactly the pair's `price_precision` / `qty_precision` decimals, the dot removed and leading
 * zeros stripped (protocol notes kraken.md §4). Everything works on decimal strings so no binary
 * float can shift a digit.
 *
 * @module
 */

import { crc32Ascii } from "../shared/crc32.ts";
export { crc32Ascii } from "../shared/crc32.ts";

/** Levels per side the checksum covers, whatever the subscribed depth. */
export const CHECKSUM_LEVELS = 10;

/** One level as decimal strings (any number of decimals; padded or cut to the precision). */
export interface ChecksumLevel {
  /** Price as a plain decimal string. */
  readonly price: string;
  /** Quantity as a plain decimal string. */
  readonly qty: string;
}

/**
 * Renders a non-negative decimal string with exactly `places` fraction digits. Extra digits must
 * be zeros (a value finer than the precision is a caller bug, not something to round).
 *
 * @example
 * ```ts
 * padDecimal("0.566", 4); // "0.5660"
 * padDecimal("64000", 1); // "64000.0"
 * ```
 */
export function padDecimal(text: string, places: number): string {
  if (!/^\d+(\.\d*)?$/.test(text)) {
    throw new RangeError(`decimal: expected a plain non-negative decimal, found "${text}"`);
  }
  const dot = text.indexOf(".");
  const whole = dot === -1 ? text : text.slice(0, dot);
  let fraction = dot === -1 ? "" : text.slice(dot + 1);
  if (fraction.length > places) {
    if (!/^0*$/.test(fraction.slice(places))) {
      throw new RangeError(`decimal: expected at most ${places} decimals, found "${text}"`);
    }
    fraction = fraction.slice(0, places);
  }
  fraction = fraction.padEnd(places, "0");
  return places === 0 ? whole : `${whole}.${fraction}`;
}

/** The checksum token of one value: padded, dot removed, leading zeros stripped. */
export function checksumToken(text: string, places: number): string {
  return padDecimal(text, places).replace(".", "").replace(/^0+/, "");
}

/** The ASCII string the checksum is computed over (asks then bids, best first, 10 each). */
export function checksumPayload(
  book: { readonly asks: readonly ChecksumLevel[]; readonly bids: readonly ChecksumLevel[] },
  precision: { readonly pricePrecision: number; readonly qtyPrecision: number },
): string {
  let payload = "";
  for (const side of [book.asks, book.bids]) {
    const count = Math.min(side.length, CHECKSUM_LEVELS);
    for (let i = 0; i < count; i++) {
      payload += checksumToken(side[i].price, precision.pricePrecision);
      payload += checksumToken(side[i].qty, precision.qtyPrecision);
    }
  }
  return payload;
}

/**
 * The v2 book checksum of a book given best-first (asks ascending, bids descending).
 *
 * @example
 * ```ts
 * bookChecksum(
 *   { asks: [{ price: "64000.1", qty: "0.01" }], bids: [{ price: "64000", qty: "0.5" }] },
 *   { pricePrecision: 1, qtyPrecision: 8 },
 * );
 * ```
 */
export function bookChecksum(
  book: { readonly asks: readonly ChecksumLevel[]; readonly bids: readonly ChecksumLevel[] },
  precision: { readonly pricePrecision: number; readonly qtyPrecision: number },
): number {
  return crc32Ascii(checksumPayload(book, precision));
}
