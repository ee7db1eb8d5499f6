/**
 * Bounded memories for de-duplication (MISSION R-09).
 *
 * - {@linkcode RecentSeqWindow}: the last N sequence numbers one stream released, in a fixed ring.
 *   The {@linkcode StreamOrderingBuffer} keeps one per sequenced stream and asks it about every
 *   event at or below the stream's released high-water mark: remembered means an exact duplicate,
 *   not remembered means late. Memory per stream is fixed at construction (8 bytes per slot).
 * - {@linkcode MergeIdDedup}: a bounded least-recently-used set of merge ids, for merged events
 *   (`MergedEvent.mergeId`), whose ids are strings with no order to exploit.
 *
 * Events without a sequence number (`seq` 0) cannot be de-duplicated by id: their natural key
 * `provider:symbol:kind:seq` is the same for every such event of a stream. Neither class is
 * used for them.
 *
 * @module
 */

/** Sequence numbers a stream remembers for de-duplication by default (1 KiB per stream). */
export const DEDUP_WINDOW_EVENTS_DEFAULT = 128;
/** Merge ids a {@linkcode MergeIdDedup} remembers by default. */
export const MERGE_IDS_MAX_DEFAULT = 4096;

/**
 * The most recent sequence numbers of one stream, in a ring of fixed capacity.
 *
 * Sequence numbers must be added in strictly increasing order (the order a stream releases
 * them), so the oldest remembered number is also the smallest: anything below
 * {@linkcode RecentSeqWindow.oldest} is outside the window, and whether it was seen cannot be
 * told. `add` allocates nothing; `has` scans newest first, since duplicates are usually recent.
 *
 * @example
 * ```ts
 * const w = new RecentSeqWindow(4);
 * for (const seq of [10, 11, 13, 14, 15]) w.add(seq); // 10 falls out
 * w.has(13); // true: a duplicate
 * w.has(12); // false: never released (its gap was skipped)
 * w.oldest(); // 11
 * ```
 */
export class RecentSeqWindow {
  /** Sequence numbers remembered at most. */
  readonly capacity: number;
  readonly #seqs: Float64Array;
  /** Slot the next `add` writes (the oldest entry once the ring is full). */
  #next = 0;
  #count = 0;
  /** Last number added (-Infinity when empty): the next must exceed it. */
  #newest = -Infinity;

  /** Creates an empty window of `capacity` slots (an integer >= 1). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`expected an integer window capacity >= 1, found ${capacity}`);
    }
    this.capacity = capacity;
    this.#seqs = new Float64Array(capacity);
  }

  /** Sequence numbers currently remembered. */
  get size(): number {
    return this.#count;
  }

  /** Remembers `seq`, forgetting the oldest when full. `seq` must exceed every earlier one. */
  add(seq: number): void {
    // Explicit branch, not assert(): the message must not be built on the hot path.
    if (!(seq > this.#newest)) {
      throw new Error(
        `dedup window invariant violated: expected seq > ${this.#newest}, found ${seq}`,
      );
    }
    this.#newest = seq;
    this.#seqs[this.#next] = seq;
    if (++this.#next === this.capacity) this.#next = 0;
    if (this.#count < this.capacity) this.#count++;
  }

  /** True when `seq` is among the remembered numbers. */
  has(seq: number): boolean {
    let i = this.#next;
    for (let n = 0; n < this.#count; n++) {
      i = i === 0 ? this.capacity - 1 : i - 1;
      const s = this.#seqs[i];
      if (s === seq) return true;
      // Stored in increasing order: once below `seq`, nothing older can match.
      if (s < seq) return false;
    }
    return false;
  }

  /** The oldest (and smallest) remembered number; NaN when empty. */
  oldest(): number {
    if (this.#count === 0) return NaN;
    return this.#count < this.capacity ? this.#seqs[0] : this.#seqs[this.#next];
  }

  /** Forgets everything (a stream whose sequence restarted). */
  clear(): void {
    this.#next = 0;
    this.#count = 0;
    this.#newest = -Infinity;
  }
}

/** Options of {@linkcode MergeIdDedup}. */
export interface MergeIdDedupOptions {
  /** Merge ids remembered at most. Default {@linkcode MERGE_IDS_MAX_DEFAULT}. */
  idsMax?: number;
}

/** Counters of a {@linkcode MergeIdDedup} (a snapshot). */
export interface MergeIdDedupStats {
  /** Ids remembered now. */
  size: number;
  /** Ids remembered at most. */
  idsMax: number;
  /** Ids admitted as new. */
  admitted: number;
  /** Ids refused as duplicates. */
  duplicates: number;
  /** Ids forgotten to make room (least recently seen first). */
  evicted: number;
}

/**
 * A bounded set of recently seen merge ids: {@linkcode MergeIdDedup.admit} says whether a merged
 * event is new. A Map's insertion order serves as the recency list (a hit is re-inserted), so
 * both the check and the eviction are O(1). A duplicate arriving after its id was evicted is
 * admitted again: the bound trades memory for that window.
 *
 * @example
 * ```ts
 * const dedup = new MergeIdDedup({ idsMax: 1024 });
 * if (dedup.admit(merged.mergeId)) dispatcher.dispatchMerged(merged); // first time
 * else pools.mergedEvent.release(merged); // duplicate: counted, dropped
 * ```
 */
export class MergeIdDedup {
  /** Ids remembered at most. */
  readonly idsMax: number;
  /** Id -> true, least recently seen first. */
  readonly #ids = new Map<string, true>();
  #admitted = 0;
  #duplicates = 0;
  #evicted = 0;

  /** Creates an empty set. */
  constructor(opts?: MergeIdDedupOptions) {
    const idsMax = opts?.idsMax ?? MERGE_IDS_MAX_DEFAULT;
    if (!Number.isInteger(idsMax) || idsMax < 1) {
      throw new RangeError(`expected an integer idsMax >= 1, found ${idsMax}`);
    }
    this.idsMax = idsMax;
  }

  /** Ids remembered now. */
  get size(): number {
    return this.#ids.size;
  }

  /**
   * True when `mergeId` is new (it is now remembered, evicting the least recently seen id when
   * full); false for a duplicate (counted; the id becomes the most recently seen).
   */
  admit(mergeId: string): boolean {
    if (this.#ids.has(mergeId)) {
      this.#ids.delete(mergeId);
      this.#ids.set(mergeId, true);
      this.#duplicates++;
      return false;
    }
    if (this.#ids.size >= this.idsMax) {
      const oldest = this.#ids.keys().next();
      assert(oldest.done !== true, "a full merge-id set yielded no oldest id");
      this.#ids.delete(oldest.value);
      this.#evicted++;
    }
    this.#ids.set(mergeId, true);
    this.#admitted++;
    return true;
  }

  /** True when `mergeId` is remembered; does not change its recency. */
  has(mergeId: string): boolean {
    return this.#ids.has(mergeId);
  }

  /** Forgets every id (counters are kept). */
  clear(): void {
    this.#ids.clear();
  }

  /** A snapshot of the counters. */
  stats(): MergeIdDedupStats {
    return {
      size: this.#ids.size,
      idsMax: this.idsMax,
      admitted: this.#admitted,
      duplicates: this.#duplicates,
      evicted: this.#evicted,
    };
  }
}

/** Invariant check: a failure is a bug in the caller or here, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`dedup window invariant violated: ${what}`);
}
