/**
 * EventRing: the bounded FIFO behind each consumer's queue. A fixed array used as a ring, so
 * `push` and `shift` allocate nothing and never move elements.
 *
 * @module
 */

/** A bounded first-in first-out queue of fixed capacity. */
export class EventRing<T> {
  /** Most items the ring holds. */
  readonly capacity: number;
  readonly #slots: (T | undefined)[];
  #head = 0;
  #length = 0;

  /** Creates an empty ring of `capacity` slots (integer >= 1). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`expected an integer ring capacity >= 1, found ${capacity}`);
    }
    this.capacity = capacity;
    this.#slots = new Array<T | undefined>(capacity).fill(undefined);
  }

  /** Items currently queued. */
  get length(): number {
    return this.#length;
  }

  /** Appends `item`; false (and nothing changes) when the ring is full. */
  push(item: T): boolean {
    if (this.#length === this.capacity) return false;
    let tail = this.#head + this.#length;
    if (tail >= this.capacity) tail -= this.capacity;
    this.#slots[tail] = item;
    this.#length++;
    return true;
  }

  /** Removes and returns the oldest item; undefined when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#slots[this.#head];
    // Drop the reference so a delivered clone can be collected as soon as its reader is done.
    this.#slots[this.#head] = undefined;
    this.#head = this.#head + 1 === this.capacity ? 0 : this.#head + 1;
    this.#length--;
    return item;
  }

  /** Empties the ring; returns how many items were discarded. */
  clear(): number {
    const discarded = this.#length;
    while (this.#length > 0) this.shift();
    this.#head = 0;
    return discarded;
  }
}
