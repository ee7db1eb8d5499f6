/**
 * Append-only store of fixed-width numeric records (for example `[key, timeMs]`), kept in
 * preallocated Float64Array chunks so recording during a measurement allocates no JS objects
 * per record, and written to / read from a file as raw little-endian doubles.
 *
 * @module
 */

/** Doubles per chunk (8 MiB). */
const CHUNK_DOUBLES = 1 << 20;

/** Options of {@linkcode RecordStore}. */
export interface RecordStoreOptions {
  /** Doubles per record. */
  width: number;
  /** Most records kept; later ones are counted as dropped. */
  recordsMax: number;
  /** Records to allocate up front (before a measurement starts). Default 0. */
  reserveRecords?: number;
}

/** See the module documentation. */
export class RecordStore {
  /** Doubles per record. */
  readonly width: number;
  /** Most records kept. */
  readonly recordsMax: number;
  readonly #chunks: Float64Array[] = [];
  readonly #recordsPerChunk: number;
  #count = 0;
  /** Offset of the record claimed last, in doubles within its chunk. */
  #at = 0;
  /** Records refused because the store was full. */
  dropped = 0;

  /** An empty store. */
  constructor(opts: RecordStoreOptions) {
    if (!Number.isInteger(opts.width) || opts.width < 1 || opts.width > 16) {
      throw new RangeError(`expected a record width in 1..16, found ${opts.width}`);
    }
    this.width = opts.width;
    this.recordsMax = opts.recordsMax;
    this.#recordsPerChunk = Math.floor(CHUNK_DOUBLES / opts.width);
    const reserve = Math.min(opts.reserveRecords ?? 0, opts.recordsMax);
    while (this.#chunks.length * this.#recordsPerChunk < reserve) this.#grow();
  }

  /** Records stored. */
  get count(): number {
    return this.#count;
  }

  /** Appends a record of two values; false when full. */
  push2(a: number, b: number): boolean {
    const chunk = this.#reserveSlot();
    if (chunk === null) return false;
    const at = this.#at;
    chunk[at] = a;
    chunk[at + 1] = b;
    return true;
  }

  /** Appends a record of three values; false when full. */
  push3(a: number, b: number, c: number): boolean {
    const chunk = this.#reserveSlot();
    if (chunk === null) return false;
    const at = this.#at;
    chunk[at] = a;
    chunk[at + 1] = b;
    chunk[at + 2] = c;
    return true;
  }

  /** Forgets every record (keeps the chunks). */
  clear(): void {
    this.#count = 0;
    this.dropped = 0;
  }

  /** The records as one array, `width` doubles each, with `addTo[i]` added to field `i`. */
  toArray(addTo: readonly number[] = []): Float64Array {
    const out = new Float64Array(this.#count * this.width);
    const perChunk = this.#recordsPerChunk * this.width;
    for (let i = 0; i < out.length; i += this.width) {
      const chunk = this.#chunks[Math.floor(i / perChunk)];
      const at = i % perChunk;
      for (let f = 0; f < this.width; f++) out[i + f] = chunk[at + f] + (addTo[f] ?? 0);
    }
    return out;
  }

  /** Writes {@linkcode toArray} to `path` as raw doubles. */
  async writeFile(path: string, addTo: readonly number[] = []): Promise<void> {
    const data = this.toArray(addTo);
    await Deno.writeFile(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /**
   * Claims the next record: returns its chunk and leaves its offset in `#at` (a field, not a
   * returned pair, so the hot path allocates nothing); null when the store is full.
   */
  #reserveSlot(): Float64Array | null {
    if (this.#count >= this.recordsMax) {
      this.dropped++;
      return null;
    }
    const chunkIndex = Math.floor(this.#count / this.#recordsPerChunk);
    if (chunkIndex >= this.#chunks.length) this.#grow();
    this.#at = (this.#count - chunkIndex * this.#recordsPerChunk) * this.width;
    this.#count++;
    return this.#chunks[chunkIndex];
  }

  #grow(): void {
    this.#chunks.push(new Float64Array(this.#recordsPerChunk * this.width));
  }
}

/** Reads a file written by {@linkcode RecordStore.writeFile}. */
export async function readRecords(path: string): Promise<Float64Array> {
  const bytes = await Deno.readFile(path);
  const length = Math.floor(bytes.byteLength / 8);
  // Copied: a Float64Array view needs an 8-byte-aligned offset.
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + length * 8));
}
