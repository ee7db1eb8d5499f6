/**
 * TaggedRing: the FIFO behind a consumer's market-data queue. Each item carries a small integer
 * tag (what kind of slot it is) in a parallel byte array, so queueing a plain event clone needs
 * no wrapper object. The ring starts small and doubles when full, up to `capacityMax`; a
 * consumer that never falls behind keeps a small array.
 *
 * @module
 */

/** Slots the ring starts with (grown by doubling). */
const CAPACITY_INITIAL = 16;

/** A growable, bounded FIFO of tagged items. */
export class TaggedRing<T> {
  /** Most items the ring ever holds. */
  readonly capacityMax: number;
  #items: (T | undefined)[];
  #tags: Uint8Array;
  #head = 0;
  #length = 0;

  /** Creates an empty ring that holds at most `capacityMax` items (integer >= 1). */
  constructor(capacityMax: number) {
    if (!Number.isInteger(capacityMax) || capacityMax < 1) {
      throw new RangeError(`expected an integer ring capacityMax >= 1, found ${capacityMax}`);
    }
    this.capacityMax = capacityMax;
    const initial = Math.min(CAPACITY_INITIAL, capacityMax);
    this.#items = new Array<T | undefined>(initial).fill(undefined);
    this.#tags = new Uint8Array(initial);
  }

  /** Items queued. */
  get length(): number {
    return this.#length;
  }

  /** Appends `item` with `tag` (0..255); false (nothing changes) when at `capacityMax`. */
  push(item: T, tag: number): boolean {
    if (this.#length === this.#items.length && !this.#grow()) return false;
    const size = this.#items.length;
    let tail = this.#head + this.#length;
    if (tail >= size) tail -= size;
    this.#items[tail] = item;
    this.#tags[tail] = tag;
    this.#length++;
    return true;
  }

  /** The oldest item, not removed; undefined when empty. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** The oldest item's tag; -1 when empty. */
  peekTag(): number {
    return this.#length === 0 ? -1 : this.#tags[this.#head];
  }

  /** Removes and returns the oldest item; undefined when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    // Drop the reference so a delivered clone can be collected once its reader is done.
    this.#items[this.#head] = undefined;
    this.#head = this.#head + 1 === this.#items.length ? 0 : this.#head + 1;
    this.#length--;
    return item;
  }

  /** Empties the ring (keeping its current array); returns how many items were discarded. */
  clear(): number {
    const discarded = this.#length;
    this.#items.fill(undefined);
    this.#head = 0;
    this.#length = 0;
    return discarded;
  }

  /** Doubles the array (unwrapping it); false when already at `capacityMax`. */
  #grow(): boolean {
    const size = this.#items.length;
    if (size >= this.capacityMax) return false;
    const next = Math.min(size * 2, this.capacityMax);
    const items = new Array<T | undefined>(next).fill(undefined);
    const tags = new Uint8Array(next);
    for (let i = 0; i < this.#length; i++) {
      let from = this.#head + i;
      if (from >= size) from -= size;
      items[i] = this.#items[from];
      tags[i] = this.#tags[from];
    }
    this.#items = items;
    this.#tags = tags;
    this.#head = 0;
    return true;
  }
}
