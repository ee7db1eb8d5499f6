/**
 * OKX's legacy order-book checksum (protocol notes §4.2): a signed CRC32 (IEEE) over the best 25
 * bids and asks interleaved as `bidPx:bidSz:askPx:askSz:...`, built from the exchange's exact
 * strings. OKX sends 0 since 2026-06-23 (then the seqId chain is the only check); a non-zero
 * value is verified. Implemented here rather than imported from the simulator so the adapter
 * never depends on test infrastructure.
 *
 * @module
 */

import { crc32Ascii } from "../shared/crc32.ts";
export { crc32Ascii } from "../shared/crc32.ts";
import type { OrderBook } from "../shared/order_book.ts";

/** Levels per side covered by the checksum. */
export const OKX_CHECKSUM_LEVELS = 25;

/** The checksum input text of `book`'s best 25 levels per side. */
export function okxChecksumText(book: OrderBook): string {
  const bidDepth = Math.min(book.depth("bid"), OKX_CHECKSUM_LEVELS);
  const askDepth = Math.min(book.depth("ask"), OKX_CHECKSUM_LEVELS);
  const parts: string[] = [];
  for (let i = 0; i < OKX_CHECKSUM_LEVELS; i++) {
    if (i < bidDepth) parts.push(book.priceAt("bid", i), book.qtyAt("bid", i));
    if (i < askDepth) parts.push(book.priceAt("ask", i), book.qtyAt("ask", i));
  }
  return parts.join(":");
}

/** The signed 32-bit checksum OKX sends for `book` (`crc - 2^32` when `crc >= 2^31`). */
export function okxBookChecksum(book: OrderBook): number {
  return crc32Ascii(okxChecksumText(book)) | 0;
}
