/**
 * Running trade statistics of one symbol for `24hrTicker`, `24hrMiniTicker` and `avgPrice`.
 * The window is "since the simulator started" rather than a rolling 24 h (a documented
 * deviation: simulator runs are short).
 *
 * @module
 */

import type { TradeEvent } from "../market/mod.ts";

/** See the module documentation. */
export class TradeStats {
  /** Reference price at start, in ticks: the ticker's `x` (price before the window). */
  readonly prevCloseTick: number;
  /** Window start, ms since the epoch. */
  readonly openTimeMs: number;
  openTick: number;
  highTick: number;
  lowTick: number;
  lastTick: number;
  lastQtySteps = 0;
  volumeSteps = 0;
  /** Sum of tick × steps over all trades (exact quote volume in tick·step units). */
  quoteTickSteps = 0n;
  tradeCount = 0;
  firstTradeId = -1;
  lastTradeId = -1;
  lastTradeTimeMs = 0;
  /** Set by a trade, cleared by whoever publishes `!miniTicker@arr`. */
  changed = false;

  /** Stats before any trade, anchored at `startTick`. */
  constructor(startTick: number, openTimeMs: number) {
    this.prevCloseTick = startTick;
    this.openTimeMs = openTimeMs;
    this.openTick = startTick;
    this.highTick = startTick;
    this.lowTick = startTick;
    this.lastTick = startTick;
  }

  /** Folds one trade in. */
  onTrade(trade: TradeEvent): void {
    if (this.tradeCount === 0) {
      this.openTick = trade.tick;
      this.highTick = trade.tick;
      this.lowTick = trade.tick;
      this.firstTradeId = trade.tradeId;
    }
    if (trade.tick > this.highTick) this.highTick = trade.tick;
    if (trade.tick < this.lowTick) this.lowTick = trade.tick;
    this.lastTick = trade.tick;
    this.lastQtySteps = trade.qtySteps;
    this.volumeSteps += trade.qtySteps;
    this.quoteTickSteps += BigInt(trade.tick * trade.qtySteps);
    this.tradeCount++;
    this.lastTradeId = trade.tradeId;
    this.lastTradeTimeMs = trade.timeMs;
    this.changed = true;
  }

  /** Price change in percent with 3 decimals, as Binance prints it (`"-0.584"`). */
  changePercent(): string {
    return (((this.lastTick - this.openTick) * 100) / this.openTick).toFixed(3);
  }
}
