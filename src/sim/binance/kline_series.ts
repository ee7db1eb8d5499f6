/**
 * The current kline (candlestick) bar of one symbol and interval. A bar closes exactly once:
 * the first trade or scheduler tick at or after its end emits it with `x: true` and opens the
 * next bar at the current boundary.
 *
 * @module
 */

import type { TradeEvent } from "../market/mod.ts";
import type { KlineFields } from "./market_encoder.ts";
import type { SymbolFormat } from "./symbol_format.ts";

interface Bar {
  openTimeMs: number;
  openTick: number;
  highTick: number;
  lowTick: number;
  closeTick: number;
  volumeSteps: number;
  quoteTickSteps: bigint;
  takerBuySteps: number;
  takerBuyTickSteps: bigint;
  tradeCount: number;
  firstTradeId: number;
  lastTradeId: number;
}

/** See the module documentation. */
export class KlineSeries {
  /** Interval label (`1m`). */
  readonly interval: string;
  /** Bar length in ms (scaled in fast tests). */
  readonly barMs: number;
  readonly #offsetMs: number;
  #bar: Bar;

  /**
   * Starts a bar containing `nowMs`. `zoneOffsetMinutes` shifts bar boundaries (the
   * `@+08:00` variant); `lastTick` is the price an empty bar shows.
   */
  constructor(options: {
    interval: string;
    barMs: number;
    zoneOffsetMinutes: number;
    nowMs: number;
    lastTick: number;
  }) {
    if (!(Number.isInteger(options.barMs) && options.barMs >= 1)) {
      throw new RangeError(`barMs: expected a positive integer, found ${options.barMs}`);
    }
    this.interval = options.interval;
    this.barMs = options.barMs;
    this.#offsetMs = options.zoneOffsetMinutes * 60_000;
    this.#bar = this.#emptyBar(options.nowMs, options.lastTick);
  }

  /** Open time of the current bar. */
  get openTimeMs(): number {
    return this.#bar.openTimeMs;
  }

  /**
   * Closes the current bar when `nowMs` is at or past its end: returns it (`x: true`) and opens
   * the next one. Returns null while the bar is still open.
   */
  roll(nowMs: number, format: SymbolFormat, symbol: string): KlineFields | null {
    const bar = this.#bar;
    if (nowMs < bar.openTimeMs + this.barMs) return null;
    const closed = this.fields(nowMs, format, symbol, true);
    this.#bar = this.#emptyBar(nowMs, bar.closeTick);
    return closed;
  }

  /** Folds a trade into the current bar (call {@link KlineSeries.roll} first). */
  onTrade(trade: TradeEvent): void {
    const bar = this.#bar;
    if (bar.tradeCount === 0) {
      bar.openTick = trade.tick;
      bar.highTick = trade.tick;
      bar.lowTick = trade.tick;
      bar.firstTradeId = trade.tradeId;
    }
    if (trade.tick > bar.highTick) bar.highTick = trade.tick;
    if (trade.tick < bar.lowTick) bar.lowTick = trade.tick;
    bar.closeTick = trade.tick;
    bar.volumeSteps += trade.qtySteps;
    const tickSteps = BigInt(trade.tick * trade.qtySteps);
    bar.quoteTickSteps += tickSteps;
    if (trade.takerSide === "buy") {
      bar.takerBuySteps += trade.qtySteps;
      bar.takerBuyTickSteps += tickSteps;
    }
    bar.tradeCount++;
    bar.lastTradeId = trade.tradeId;
  }

  /** The current bar as kline fields. */
  fields(eventTimeMs: number, format: SymbolFormat, symbol: string, closed: boolean): KlineFields {
    const bar = this.#bar;
    return {
      eventTimeMs,
      symbol,
      openTimeMs: bar.openTimeMs,
      closeTimeMs: bar.openTimeMs + this.barMs - 1,
      interval: this.interval,
      firstTradeId: bar.firstTradeId,
      lastTradeId: bar.lastTradeId,
      open: format.price(bar.openTick),
      close: format.price(bar.closeTick),
      high: format.price(bar.highTick),
      low: format.price(bar.lowTick),
      volume: format.qty(bar.volumeSteps),
      tradeCount: bar.tradeCount,
      closed,
      quoteVolume: format.quote(bar.quoteTickSteps),
      takerBuyVolume: format.qty(bar.takerBuySteps),
      takerBuyQuoteVolume: format.quote(bar.takerBuyTickSteps),
    };
  }

  #emptyBar(nowMs: number, lastTick: number): Bar {
    const shifted = nowMs + this.#offsetMs;
    const openTimeMs = shifted - (((shifted % this.barMs) + this.barMs) % this.barMs) -
      this.#offsetMs;
    return {
      openTimeMs,
      openTick: lastTick,
      highTick: lastTick,
      lowTick: lastTick,
      closeTick: lastTick,
      volumeSteps: 0,
      quoteTickSteps: 0n,
      takerBuySteps: 0,
      takerBuyTickSteps: 0n,
      tradeCount: 0,
      firstTradeId: -1,
      lastTradeId: -1,
    };
  }
}
