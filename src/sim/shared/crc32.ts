/**
 * CRC32 (IEEE 802.3 polynomial, as zlib computes it) for the simulators' book checksums (OKX
 * legacy, Kraken v2). Written apart from the adapters' copy on purpose: the simulators check the
 * adapters, so they share no code with them.
 *
 * @module
 */

/** The byte table of the reflected polynomial 0xedb88320. */
const CRC_TABLE: Uint32Array = buildCrcTable();

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
 * CRC32 of `bytes`, unsigned.
 *
 * @example
 * ```ts
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * CRC32 of an ASCII string, unsigned; throws a RangeError on a character above 0x7f (the
 * venues' checksum texts are ASCII, so anything else is a simulator bug).
 *
 * @example
 * ```ts
 * crc32Ascii("123456789"); // 0xcbf43926
 * ```
 */
export function crc32Ascii(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) throw new RangeError(`crc32 input: expected ASCII, found code ${code}`);
    crc = CRC_TABLE[(crc ^ code) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
