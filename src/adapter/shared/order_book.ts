/**
 * OrderBook: an exchange-neutral L2 book (price levels per side) that keeps each level's price
 * and quantity as the exchange's ORIGINAL strings, because OKX and Kraken checksums are computed
 * over those exact strings, and canonical events must carry them unchanged (MISSION R-02).
 *
 * Ordering. Each level has a numeric sort key `Number(price)` next to its string. Decimal to
 * double conversion rounds to nearest, which is monotonic: `a < b` as decimals implies
 * `Number(a) <= Number(b)`. So comparing keys first and, only when two keys are equal, comparing
 * the decimal strings digit by digit ({@linkcode compareDecimalStrings}) gives the exact decimal
 * order for prices of any length. Distinct decimals with at most 15 significant digits always
 * have distinct keys, so the exact comparison only runs when the same price is spelled the same
 * way (an `===` hit) or differently (`"0.5"` vs `"0.50"`: one level), or for > 15 digit prices.
 *
 * Layout. Each side is a sorted array (binary search) of parallel columns: a `Float64Array` of
 * keys and two string arrays. Levels are stored WORST first, best last: updates cluster at the
 * top of the book, and inserting or deleting near the end of an array shifts the fewest
 * elements. Asks store `-price` as the key so both sides are ascending with the best at the end.
 * Arrays only grow (capacity doubling up to the level cap) and never shrink, so applying a level
 * allocates nothing once the book has reached its working size.
 *
 * Prices and quantities must be plain non-negative decimals (`[0-9]+(\.[0-9]+)?`, the grammar
 * the codec enforces); anything else throws a `RangeError` and leaves the book unchanged.
 *
 * @example
 * ```ts
 * const book = new OrderBook({ levelsMax: 5000 });
 * book.loadSnapshot(["100.10", "2.0", "100.00", "1.5"], ["100.20", "0.7"]);
 * book.apply("bid", "100.15", "3.0"); // "inserted": new best bid
 * book.apply("ask", "100.20", "0.00000000"); // "removed"
 * book.bestPrice("bid"); // "100.15"
 * const flat: string[] = [];
 * book.toFlat(flat, "bid", 10); // ["100.15", "3.0", "100.10", "2.0", "100.00", "1.5"]
 * ```
 *
 * @module
 */

/** Which side of the book: bids (buy orders) or asks (sell orders). */
export type BookSide = "bid" | "ask";

/**
 * What {@linkcode OrderBook.apply} did: a new level, a changed quantity, a removed level, a
 * removal of a level that was not there (normal on Binance), or an insertion ignored because the
 * side is at its level cap and the new level is worse than every level kept.
 */
export type LevelChange = "inserted" | "updated" | "removed" | "absent" | "beyond_cap";

/** Binance serves at most 5000 levels per side in a REST snapshot. */
export const ORDER_BOOK_LEVELS_MAX_DEFAULT = 5000;

/** Initial per-side column capacity in levels; grows by doubling up to the level cap. */
const LEVELS_INITIAL = 64;
/** Moves of more keys than this use `copyWithin`; shorter ones a plain loop. */
const SHIFT_BUILTIN_MIN = 32;

/** Options of {@linkcode OrderBook}. */
export interface OrderBookOptions {
  /**
   * Most levels kept per side (integer >= 1). Beyond it the worst level is dropped, so memory
   * stays bounded; deep levels are unknown anyway (an exchange snapshot is depth-limited).
   * Default {@linkcode ORDER_BOOK_LEVELS_MAX_DEFAULT}.
   */
  levelsMax?: number;
}

/** One side: sorted ascending by signed key, best level at index `count - 1`. */
class LevelLadder {
  keys: Float64Array;
  readonly prices: string[] = [];
  readonly qtys: string[] = [];
  count = 0;
  /** Levels dropped because the side was at its cap (worst level evicted or new one ignored). */
  truncated = 0;

  constructor(
    /** +1 for bids (higher price is better), -1 for asks (lower price is better). */
    readonly sign: 1 | -1,
    readonly levelsMax: number,
  ) {
    this.keys = new Float64Array(Math.min(levelsMax, LEVELS_INITIAL));
  }

  clear(): void {
    // Drop string references so a cleared book does not pin old strings; keep capacity.
    for (let i = 0; i < this.count; i++) {
      this.prices[i] = "";
      this.qtys[i] = "";
    }
    this.count = 0;
  }

  /**
   * Sign of (level i - target) in this side's worst-to-best order: negative when level i is
   * worse than the target price.
   */
  compareAt(i: number, key: number, price: string): number {
    const k = this.keys[i];
    if (k < key) return -1;
    if (k > key) return 1;
    const p = this.prices[i];
    if (p === price) return 0;
    return this.sign * compareDecimalStrings(p, price);
  }

  /** Index of `price`, or `-(insertionIndex + 1)` when absent. */
  find(key: number, price: string): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.compareAt(mid, key, price);
      if (c < 0) lo = mid + 1;
      else if (c > 0) hi = mid - 1;
      else return mid;
    }
    return -(lo + 1);
  }

  set(price: string, qty: string): LevelChange {
    const key = this.sign * priceKey(price);
    const zero = isZeroQty(qty);
    const i = this.find(key, price);
    if (zero) {
      if (i < 0) return "absent";
      this.removeAt(i);
      return "removed";
    }
    if (i >= 0) {
      // Keep the latest spelling: checksums use the strings the exchange sends now.
      this.prices[i] = price;
      this.qtys[i] = qty;
      return "updated";
    }
    let at = -i - 1;
    if (this.count === this.levelsMax) {
      this.truncated++;
      if (at === 0) return "beyond_cap";
      this.removeAt(0);
      at--;
    }
    this.insertAt(at, key, price, qty);
    return "inserted";
  }

  insertAt(at: number, key: number, price: string, qty: string): void {
    if (this.count === this.keys.length) this.grow();
    const n = this.count;
    const keys = this.keys;
    // Updates cluster at the top (the end), so most moves are short: a plain loop beats the
    // fixed cost of the copyWithin builtin there.
    if (n - at > SHIFT_BUILTIN_MIN) keys.copyWithin(at + 1, at, n);
    else for (let j = n; j > at; j--) keys[j] = keys[j - 1];
    for (let j = n; j > at; j--) {
      this.prices[j] = this.prices[j - 1];
      this.qtys[j] = this.qtys[j - 1];
    }
    this.keys[at] = key;
    this.prices[at] = price;
    this.qtys[at] = qty;
    this.count = n + 1;
    // Cheap local invariant: the new level sits strictly between its neighbours.
    assert(
      (at === 0 || this.compareAt(at - 1, key, price) < 0) &&
        (at === n || this.compareAt(at + 1, key, price) > 0),
      "inserted level out of order",
    );
  }

  removeAt(i: number): void {
    const n = this.count - 1;
    const keys = this.keys;
    if (n - i > SHIFT_BUILTIN_MIN) keys.copyWithin(i, i + 1, n + 1);
    else for (let j = i; j < n; j++) keys[j] = keys[j + 1];
    for (let j = i; j < n; j++) {
      this.prices[j] = this.prices[j + 1];
      this.qtys[j] = this.qtys[j + 1];
    }
    this.prices[n] = "";
    this.qtys[n] = "";
    this.count = n;
  }

  grow(): void {
    const capacity = Math.min(this.levelsMax, this.keys.length * 2);
    assert(capacity > this.keys.length, "grew a side already at its level cap");
    const keys = new Float64Array(capacity);
    keys.set(this.keys);
    this.keys = keys;
  }

  /**
   * Loads levels given best first (flat `[price, qty, ...]`), keeping the best `levelsMax`.
   * Sorted, duplicate-free input without zero quantities (what exchanges serve) is written in
   * one pass. Anything else is read as a set of levels where the last write of a price wins and
   * a zero quantity means "absent", then sorted: O(n log n) either way.
   */
  load(levels: readonly string[]): void {
    this.clear();
    if (levels.length % 2 !== 0) {
      throw new RangeError(
        `order book: expected price/qty pairs, found ${levels.length} values`,
      );
    }
    if (this.isStrictlyBestFirst(levels)) {
      const pairs = levels.length / 2;
      const kept = Math.min(pairs, this.levelsMax);
      this.truncated += pairs - kept;
      this.reserve(kept);
      for (let r = 0; r < kept; r++) this.place(kept - 1 - r, levels[2 * r], levels[2 * r + 1]);
      this.count = kept;
      return;
    }
    this.loadUnsorted(levels);
  }

  /** The slow path of {@linkcode LevelLadder.load}; allocates (abnormal input only). */
  loadUnsorted(levels: readonly string[]): void {
    const pairs = levels.length / 2;
    const keys = new Float64Array(pairs);
    const order: number[] = [];
    for (let r = 0; r < pairs; r++) {
      keys[r] = this.sign * priceKey(levels[2 * r]);
      order.push(r);
    }
    // Best first; among equal prices the latest write first.
    const compare = (x: number, y: number): number => {
      if (keys[x] !== keys[y]) return keys[x] > keys[y] ? -1 : 1;
      const c = this.sign * compareDecimalStrings(levels[2 * y], levels[2 * x]);
      return c !== 0 ? c : y - x;
    };
    order.sort(compare);
    const picked: number[] = [];
    let distinct = 0;
    for (let j = 0; j < order.length; j++) {
      const r = order[j];
      // Skip older writes of the price just seen.
      if (
        j > 0 && keys[r] === keys[order[j - 1]] &&
        compareDecimalStrings(levels[2 * r], levels[2 * order[j - 1]]) === 0
      ) continue;
      if (isZeroQty(levels[2 * r + 1])) continue;
      distinct++;
      if (picked.length < this.levelsMax) picked.push(r);
    }
    this.truncated += distinct - picked.length;
    this.reserve(picked.length);
    for (let j = 0; j < picked.length; j++) {
      const r = picked[j];
      this.place(picked.length - 1 - j, levels[2 * r], levels[2 * r + 1]);
    }
    this.count = picked.length;
  }

  /** Grows the key column to hold at least `levels` levels (never beyond the cap). */
  reserve(levels: number): void {
    while (this.keys.length < levels) this.grow();
  }

  /** Writes one level at index `i` (bulk loads only; the caller sets `count`). */
  place(i: number, price: string, qty: string): void {
    this.keys[i] = this.sign * priceKey(price);
    this.prices[i] = price;
    this.qtys[i] = qty;
  }

  /** Validates every level and reports whether they are strictly best first with qty > 0. */
  isStrictlyBestFirst(levels: readonly string[]): boolean {
    let sorted = true;
    let prevKey = 0;
    for (let j = 0; j < levels.length; j += 2) {
      const price = levels[j];
      const key = this.sign * priceKey(price);
      if (isZeroQty(levels[j + 1])) sorted = false;
      if (j > 0 && sorted) {
        // Best first means each key is below the previous one (ties decided exactly).
        if (key > prevKey) sorted = false;
        else if (key === prevKey) {
          sorted = this.sign * compareDecimalStrings(price, levels[j - 2]) < 0;
        }
      }
      prevKey = key;
    }
    return sorted;
  }
}

/**
 * An exchange-neutral price-level order book keeping the exchange's original strings.
 * Not thread-shared; one instance per (provider, symbol).
 */
export class OrderBook {
  /** Most levels kept per side. */
  readonly levelsMax: number;
  private readonly bids: LevelLadder;
  private readonly asks: LevelLadder;

  /** Creates an empty book. */
  constructor(opts?: OrderBookOptions) {
    const levelsMax = opts?.levelsMax ?? ORDER_BOOK_LEVELS_MAX_DEFAULT;
    if (!Number.isInteger(levelsMax) || levelsMax < 1) {
      throw new RangeError(`order book: expected an integer levelsMax >= 1, found ${levelsMax}`);
    }
    this.levelsMax = levelsMax;
    this.bids = new LevelLadder(1, levelsMax);
    this.asks = new LevelLadder(-1, levelsMax);
  }

  /** Empties both sides (capacity is kept). */
  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }

  /**
   * Replaces the book with flat `[price, qty, ...]` level arrays, best first as exchanges serve
   * them (other orders and zero quantities are tolerated, at the cost of a slower load). Keeps
   * the best `levelsMax` levels per side. Throws `RangeError` on a malformed level; the book is
   * then cleared.
   */
  loadSnapshot(bids: readonly string[], asks: readonly string[]): void {
    try {
      this.bids.load(bids);
      this.asks.load(asks);
    } catch (e) {
      this.clear();
      throw e;
    }
  }

  /**
   * Sets one level to an absolute quantity: a zero quantity removes the level (removing an
   * absent level is normal), otherwise the level is inserted or replaced. Throws `RangeError`
   * on a malformed price or quantity, leaving the book unchanged.
   */
  apply(side: BookSide, price: string, qty: string): LevelChange {
    return this.ladder(side).set(price, qty);
  }

  /**
   * Applies flat `[price, qty, ...]` levels to one side, in order: the first `length` values of
   * `levels` (all by default; a pooled event's store is longer than its levels). Throws
   * `RangeError` on a malformed level (levels before it stay applied: callers discard the book on
   * error).
   */
  applyFlat(side: BookSide, levels: readonly string[], length: number = levels.length): void {
    if (length % 2 !== 0 || length > levels.length) {
      throw new RangeError(
        `order book: expected price/qty pairs within ${levels.length} values, found ${length}`,
      );
    }
    const ladder = this.ladder(side);
    for (let i = 0; i < length; i += 2) ladder.set(levels[i], levels[i + 1]);
  }

  /** Number of levels on `side`. */
  depth(side: BookSide): number {
    return this.ladder(side).count;
  }

  /** Levels dropped so far on both sides because of the level cap (diagnostics). */
  truncatedLevels(): number {
    return this.bids.truncated + this.asks.truncated;
  }

  /** Price of the level at `rank` (0 = best) on `side`, or "" when there is none. */
  priceAt(side: BookSide, rank: number): string {
    const l = this.ladder(side);
    return rank >= 0 && rank < l.count ? l.prices[l.count - 1 - rank] : "";
  }

  /** Quantity of the level at `rank` (0 = best) on `side`, or "" when there is none. */
  qtyAt(side: BookSide, rank: number): string {
    const l = this.ladder(side);
    return rank >= 0 && rank < l.count ? l.qtys[l.count - 1 - rank] : "";
  }

  /** Best price on `side` ("" when the side is empty). */
  bestPrice(side: BookSide): string {
    return this.priceAt(side, 0);
  }

  /** Quantity at the best price on `side` ("" when the side is empty). */
  bestQty(side: BookSide): string {
    return this.qtyAt(side, 0);
  }

  /**
   * True when both sides are non-empty and the best bid is at or above the best ask. A locked
   * book (bid == ask) counts: an exchange's own book would have matched those orders.
   */
  isCrossed(): boolean {
    const b = this.bids;
    const a = this.asks;
    if (b.count === 0 || a.count === 0) return false;
    const bidKey = b.keys[b.count - 1];
    const askKey = -a.keys[a.count - 1];
    if (bidKey < askKey) return false;
    if (bidKey > askKey) return true;
    return compareDecimalStrings(b.prices[b.count - 1], a.prices[a.count - 1]) >= 0;
  }

  /**
   * Writes up to `maxLevels` levels of `side`, best first, into `out` as `[price, qty, ...]`,
   * replacing its contents (the array is reused: nothing is allocated beyond its growth).
   * Returns the number of levels written.
   */
  toFlat(out: string[], side: BookSide, maxLevels: number): number {
    const n = this.writeFlat(out, side, maxLevels);
    out.length = 2 * n;
    return n;
  }

  /**
   * As `toFlat`, but leaves `out` at least as long as it was: writes the levels into
   * `out[0, 2n)` and returns `n`, for storage that is kept across uses with a separate count
   * (a pooled `CanonicalEvent`'s `bidStore`, then `setBidsLength(2 * n)`).
   */
  writeFlat(out: string[], side: BookSide, maxLevels: number): number {
    const l = this.ladder(side);
    const n = Math.max(0, Math.min(l.count, Math.floor(maxLevels)));
    for (let r = 0; r < n; r++) {
      const i = l.count - 1 - r;
      out[2 * r] = l.prices[i];
      out[2 * r + 1] = l.qtys[i];
    }
    return n;
  }

  /**
   * The best `n` levels of each side as `[price, qty]` pairs, best first. Allocates: for
   * diagnostics and tests, not the hot path.
   */
  top(n: number): { bids: [string, string][]; asks: [string, string][] } {
    return { bids: topOf(this.bids, n), asks: topOf(this.asks, n) };
  }

  /**
   * Full O(levels) check of the book's invariants (strict order per side, columns consistent,
   * positive quantities, within the cap). Throws on a violation. For tests and debug builds; the
   * hot path checks only what each operation touches.
   */
  checkInvariants(): void {
    for (const l of [this.bids, this.asks]) {
      assert(l.count <= l.levelsMax && l.count <= l.keys.length, "side exceeds its level cap");
      for (let i = 0; i < l.count; i++) {
        assert(l.keys[i] === l.sign * priceKey(l.prices[i]), "sort key does not match price");
        assert(!isZeroQty(l.qtys[i]), "zero quantity kept as a level");
        if (i > 0) assert(l.compareAt(i - 1, l.keys[i], l.prices[i]) < 0, "levels out of order");
      }
    }
  }

  private ladder(side: BookSide): LevelLadder {
    if (side === "bid") return this.bids;
    if (side === "ask") return this.asks;
    throw new RangeError(`order book: expected side "bid" or "ask", found "${side}"`);
  }
}

function topOf(l: LevelLadder, n: number): [string, string][] {
  const out: [string, string][] = [];
  const k = Math.min(l.count, Math.max(0, Math.floor(n)));
  for (let r = 0; r < k; r++) out.push([l.prices[l.count - 1 - r], l.qtys[l.count - 1 - r]]);
  return out;
}

/**
 * Compares two plain non-negative decimal strings (`[0-9]+(\.[0-9]+)?`) by exact value: negative
 * when `a < b`, zero when equal (`"1.50"` equals `"01.5"`), positive when `a > b`. No float
 * parsing, no allocation. Throws `RangeError` when either is not a plain decimal.
 *
 * @example
 * ```ts
 * compareDecimalStrings("0.35270000", "0.3527"); // 0
 * compareDecimalStrings("10", "9.99999999999999999999"); // > 0
 * ```
 */
export function compareDecimalStrings(a: string, b: string): number {
  const aDot = decimalPoint(a);
  const bDot = decimalPoint(b);
  let ai = 0;
  while (ai < aDot && a.charCodeAt(ai) === 48) ai++;
  let bi = 0;
  while (bi < bDot && b.charCodeAt(bi) === 48) bi++;
  // More integer digits (after leading zeros) means a larger number.
  const aIntLen = aDot - ai;
  const bIntLen = bDot - bi;
  if (aIntLen !== bIntLen) return aIntLen < bIntLen ? -1 : 1;
  for (let k = 0; k < aIntLen; k++) {
    const d = a.charCodeAt(ai + k) - b.charCodeAt(bi + k);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  // Fractions: the shorter one is padded with zeros.
  const aFracLen = aDot < a.length ? a.length - aDot - 1 : 0;
  const bFracLen = bDot < b.length ? b.length - bDot - 1 : 0;
  const fracLen = Math.max(aFracLen, bFracLen);
  for (let k = 0; k < fracLen; k++) {
    const ca = k < aFracLen ? a.charCodeAt(aDot + 1 + k) : 48;
    const cb = k < bFracLen ? b.charCodeAt(bDot + 1 + k) : 48;
    if (ca !== cb) return ca < cb ? -1 : 1;
  }
  return 0;
}

/** Validates a plain decimal and returns the index of its '.', or its length when it has none. */
function decimalPoint(s: string): number {
  let dot = s.length;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits++;
    } else if (c === 46 && dot === s.length && i > 0 && i < s.length - 1) {
      dot = i;
    } else {
      digits = 0;
      break;
    }
  }
  if (digits === 0) {
    throw new RangeError(`order book: expected a plain decimal string, found "${s}"`);
  }
  return dot;
}

/** Exact powers of ten as doubles (10^22 is the largest exactly representable one). */
const POW10: readonly number[] = [
  1e0,
  1e1,
  1e2,
  1e3,
  1e4,
  1e5,
  1e6,
  1e7,
  1e8,
  1e9,
  1e10,
  1e11,
  1e12,
  1e13,
  1e14,
  1e15,
  1e16,
  1e17,
  1e18,
  1e19,
  1e20,
  1e21,
  1e22,
];

/**
 * The numeric sort key of a plain non-negative decimal price: always exactly `Number(price)`,
 * computed without V8's generic string-to-number path (which allocates) when it can be: with
 * all digits as an integer `m <= 2^53 - 1` and `k <= 22` fraction digits, both `m` and `10^k`
 * are exact doubles, and one IEEE division rounds `m / 10^k` correctly, which is what
 * `Number()` returns. Other prices fall back to `Number()`. Throws `RangeError` on anything but
 * `[0-9]+(\.[0-9]+)?`.
 *
 * @example
 * ```ts
 * decimalSortKey("0.35270000"); // 0.3527
 * ```
 */
export function decimalSortKey(price: string): number {
  const n = price.length;
  let mantissa = 0;
  let fracDigits = -1;
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = price.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // Exact while the true value stays <= 2^53 - 1; once beyond, it stays beyond (monotone).
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (fracDigits >= 0) fracDigits++;
    } else if (c === 46 && fracDigits < 0 && i > 0 && i < n - 1) {
      fracDigits = 0;
    } else {
      digits = 0;
      break;
    }
  }
  if (digits === 0) {
    throw new RangeError(`order book: expected a plain decimal string, found "${price}"`);
  }
  if (fracDigits < 0) fracDigits = 0;
  if (mantissa <= Number.MAX_SAFE_INTEGER && fracDigits <= 22) {
    return fracDigits === 0 ? mantissa : mantissa / POW10[fracDigits];
  }
  return Number(price);
}

/** The numeric sort key of a price; validates the plain decimal grammar. */
function priceKey(price: string): number {
  return decimalSortKey(price);
}

/** True when `qty` is zero; validates the plain decimal grammar (exact: no float parsing). */
function isZeroQty(qty: string): boolean {
  let zero = true;
  let valid = qty.length > 0;
  let dot = -1;
  for (let i = 0; i < qty.length; i++) {
    const c = qty.charCodeAt(i);
    if (c > 48 && c <= 57) zero = false;
    else if (c === 46 && dot === -1 && i > 0 && i < qty.length - 1) dot = i;
    else if (c !== 48) valid = false;
  }
  if (!valid) throw new RangeError(`order book: expected a plain decimal quantity, found "${qty}"`);
  return zero;
}

/** Invariant check: a failure is a bug in the book, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`order book invariant violated: ${what}`);
}
