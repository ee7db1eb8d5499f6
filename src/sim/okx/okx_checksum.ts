/**
 * The legacy OKX order-book checksum (protocol notes §4.2): a signed CRC32 (IEEE) over the top 25
 * levels of each side, interleaved bid/ask, formatted `price:size` from the wire strings exactly.
 * OKX sends 0 since 2026-06; the simulator computes the real value only in its legacy mode.
 *
 * @module
 */

import { crc32 } from "../shared/crc32.ts";
export { crc32 } from "../shared/crc32.ts";

/** Levels per side that enter the checksum. */
export const CHECKSUM_DEPTH = 25;

/**
 * The text the checksum is computed over: `bid0:ask0:bid1:ask1:...` (each entry `price:size`),
 * skipping missing entries of the shorter side. Levels are `[price, size, ...]`, best first.
 */
export function checksumText(
  bids: readonly (readonly string[])[],
  asks: readonly (readonly string[])[],
): string {
  const parts: string[] = [];
  for (let i = 0; i < CHECKSUM_DEPTH; i++) {
    const bid = bids[i];
    if (bid !== undefined) parts.push(`${bid[0]}:${bid[1]}`);
    const ask = asks[i];
    if (ask !== undefined) parts.push(`${ask[0]}:${ask[1]}`);
  }
  return parts.join(":");
}

/**
 * The signed 32-bit OKX checksum of a book (levels best first, original strings).
 *
 * @example
 * ```ts
 * okxChecksum([["3366.1", "7"], ["3366", "6"]], [["3366.8", "9"], ["3368", "8"]]); // -1881014294
 * ```
 */
export function okxChecksum(
  bids: readonly (readonly string[])[],
  asks: readonly (readonly string[])[],
): number {
  return crc32(new TextEncoder().encode(checksumText(bids, asks))) | 0;
}
