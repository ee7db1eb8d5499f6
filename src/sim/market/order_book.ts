/**
 * A simulated order book: two sides plus the update id of the last change.
 *
 * @module
 */

import { BookSide, type ReadonlyBookSide } from "./book_side.ts";

/** Read-only view of an order book. */
export interface ReadonlyOrderBook {
  /** Buy side, best (highest) first when listed. */
  readonly bids: ReadonlyBookSide;
  /** Sell side, best (lowest) first when listed. */
  readonly asks: ReadonlyBookSide;
  /** Id of the last change applied (each level change takes the next id). */
  readonly updateId: number;
}

/** A copy of the top of a book, in ticks and steps. */
export interface BookLevels {
  /** Update id the copy reflects. */
  readonly updateId: number;
  /** `[tick, qtySteps]`, best (highest) first. */
  readonly bids: [number, number][];
  /** `[tick, qtySteps]`, best (lowest) first. */
  readonly asks: [number, number][];
}

/** A mutable order book. The generator is its only writer. */
export class OrderBook implements ReadonlyOrderBook {
  readonly bids: BookSide = new BookSide("bid");
  readonly asks: BookSide = new BookSide("ask");
  updateId: number;

  /** An empty book whose last update id is `updateId`. */
  constructor(updateId: number) {
    this.updateId = updateId;
  }
}

/** Copies up to `levelsMax` levels per side of `book`. */
export function copyBookLevels(book: ReadonlyOrderBook, levelsMax: number): BookLevels {
  return {
    updateId: book.updateId,
    bids: book.bids.topLevels(levelsMax),
    asks: book.asks.topLevels(levelsMax),
  };
}

/**
 * Throws when the book is crossed or locked (best bid >= best ask). The generator asserts this
 * after every change; tests call it on snapshots.
 */
export function assertBookNotCrossed(book: ReadonlyOrderBook): void {
  const bid = book.bids.bestTick();
  const ask = book.asks.bestTick();
  if (bid !== 0 && ask !== 0 && bid >= ask) {
    throw new Error(`book crossed: expected best bid < best ask, found ${bid} >= ${ask} ticks`);
  }
}
