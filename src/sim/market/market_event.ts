/**
 * The exchange-neutral events the market generator emits. Simulators turn them into their
 * venue's wire format. Prices are integer ticks and sizes integer steps of the symbol
 * (see `MarketSymbol.tickAtoms` / `stepAtoms`).
 *
 * @module
 */

import type { BookSideName } from "./book_side.ts";

/** Why a level changed. */
export type LevelChangeReason = "add" | "cancel" | "fill" | "trim";

/** A book level got a new absolute quantity (0 = the level is gone). */
export interface LevelEvent {
  /** Discriminant. */
  readonly kind: "level";
  /** Index into `MarketGenerator.symbols`. */
  readonly symbolIndex: number;
  /** The book's update id after this change (consecutive per symbol). */
  readonly updateId: number;
  /** Book side. */
  readonly side: BookSideName;
  /** Price in ticks. */
  readonly tick: number;
  /** New absolute quantity in steps; 0 removes the level. */
  readonly qtySteps: number;
  /** Quantity before the change, in steps. */
  readonly prevQtySteps: number;
  /** Why it changed. */
  readonly reason: LevelChangeReason;
  /** Event time, ms since the epoch (the time passed to `generate`). */
  readonly timeMs: number;
}

/** A taker order filled against one resting maker order. */
export interface TradeEvent {
  /** Discriminant. */
  readonly kind: "trade";
  /** Index into `MarketGenerator.symbols`. */
  readonly symbolIndex: number;
  /** Trade id, consecutive per symbol. */
  readonly tradeId: number;
  /** Id of the taker order; consecutive fills of one taker at one price aggregate. */
  readonly takerOrderId: number;
  /** Price in ticks. */
  readonly tick: number;
  /** Quantity in steps (> 0). */
  readonly qtySteps: number;
  /** Side of the taker; `"sell"` means the buyer was the maker. */
  readonly takerSide: "buy" | "sell";
  /** Event time, ms since the epoch. */
  readonly timeMs: number;
}

/** Anything the generator emits. */
export type MarketEvent = LevelEvent | TradeEvent;

/** Receives events synchronously, in order, while the generator runs (book state is current). */
export type MarketSink = (event: MarketEvent) => void;
