/**
 * Delivery classes: how a consumer's queue treats each kind of message when the consumer reads
 * slower than its streams produce (MISSION R-10).
 *
 * | class       | kinds (default)                | when the consumer falls behind                   |
 * |-------------|--------------------------------|--------------------------------------------------|
 * | coalescable | `ticker`, `kline`, `book_snapshot` | latest wins per stream: a newer event replaces the queued one in place |
 * | lossless    | `trade`, `book_update`         | queued up to `losslessEventsMax`, then an explicit `gap` marker |
 * | durable     | execution reports              | never dropped or coalesced: a per-consumer sqlite log |
 *
 * Why these defaults:
 * - A ticker, a kline bar and a book snapshot each describe a whole state; the newest one makes
 *   the older ones useless, so only the latest is worth delivering. Klines are keyed by
 *   `(stream, interval, bar open time)`, so a final bar is never replaced by the next bar.
 * - Trades and book diffs cannot be merged: a missing trade or diff is a hole the client must
 *   know about. They are kept in order up to a bound, then counted into a gap; the `gap`
 *   marker tells a book client to re-request a snapshot.
 *
 * @module
 */

import { isMarketEventKind, type MarketEventKind } from "../schema/event_kind.ts";

/** How a market kind is queued. */
export type DeliveryClass = "coalescable" | "lossless";

/** Kinds coalesced (latest wins per stream) unless configured otherwise. */
export const COALESCABLE_KINDS_DEFAULT: readonly MarketEventKind[] = Object.freeze([
  "ticker",
  "kline",
  "book_snapshot",
]);

/** A kind-to-class lookup, fixed at construction. */
export class DeliveryClasses {
  readonly #coalescable: ReadonlySet<string>;

  /** Classes with `coalescableKinds` coalesced and every other market kind lossless. */
  constructor(coalescableKinds: readonly MarketEventKind[] = COALESCABLE_KINDS_DEFAULT) {
    for (const kind of coalescableKinds) {
      if (!isMarketEventKind(kind)) {
        throw new RangeError(`expected coalescable market event kinds, found "${String(kind)}"`);
      }
    }
    this.#coalescable = new Set(coalescableKinds);
  }

  /** The class of `kind`. */
  classOf(kind: string): DeliveryClass {
    return this.#coalescable.has(kind) ? "coalescable" : "lossless";
  }

  /** True when `kind` is coalesced. */
  isCoalescable(kind: string): boolean {
    return this.#coalescable.has(kind);
  }

  /** The coalescable kinds. */
  coalescableKinds(): MarketEventKind[] {
    return [...this.#coalescable] as MarketEventKind[];
  }
}
