/**
 * CRC32 (IEEE 802.3 polynomial, as zlib computes it) of ASCII text: the core of OKX's legacy and
 * Kraken's v2 book checksums. Kept apart from the simulators' copy on purpose, so an adapter
 * never depends on test infrastructure and a bug in one cannot hide the same bug in the other.
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
 * Unsigned CRC32 of an ASCII string (char codes taken as bytes), continuing from `crc` (0 to
 * start): `crc32Ascii(b, crc32Ascii(a))` equals `crc32Ascii(a + b)`.
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
