/**
 * Per-pair state the Kraken channels need beyond the order book: the last 50 trades (trade
 * snapshot), running statistics (ticker) and the current bar of every OHLC interval; plus the
 * JSON encoders of the channel items. Numbers are written as literals from exact decimal
 * strings, never through a binary float (except derived averages: vwap).
 *
 * @module
 */

import type { MarketEvent, ReadonlyOrderBook, TradeEvent } from "../market/mod.ts";
import {
  type KrakenPair,
  numberLiteral,
  type NumberStyle,
  priceText,
  qtyText,
} from "./kraken_pair.ts";
import { rfc3339Micros } from "./wire_format.ts";

/** Intervals (minutes) the ohlc channel accepts. */
export const OHLC_INTERVALS: readonly number[] = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600];

/** Trades kept for a trade snapshot. */
export const TRADE_SNAPSHOT_COUNT = 50;

interface Bar {
  beginMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volumeSteps: number;
  notional: number;
  trades: number;
}

interface PairState {
  readonly pair: KrakenPair;
  readonly recentTrades: string[];
  openTick: number;
  lastTick: number;
  highTick: number;
  lowTick: number;
  volumeSteps: number;
  notional: number;
  readonly bars: Map<number, Bar>;
}

/** Changes of one generator batch. */
export interface MarketBatch {
  /** Indexes of pairs whose book changed. */
  readonly booksTouched: ReadonlySet<number>;
  /** Encoded trade items per pair index, in order. */
  readonly trades: ReadonlyMap<number, string[]>;
}

/** The state of all pairs; feed it every generator event through {@link MarketState.onEvent}. */
export class MarketState {
  readonly #pairs: PairState[];
  readonly #style: NumberStyle;
  #touched = new Set<number>();
  #trades = new Map<number, string[]>();

  /** State for `pairs`, starting at each pair's reference tick. */
  constructor(pairs: readonly KrakenPair[], options: { style: NumberStyle; startTicks: number[] }) {
    this.#style = options.style;
    this.#pairs = pairs.map((pair, i) => {
      const tick = options.startTicks[i];
      return {
        pair,
        recentTrades: [],
        openTick: tick,
        lastTick: tick,
        highTick: tick,
        lowTick: tick,
        volumeSteps: 0,
        notional: 0,
        bars: new Map(),
      };
    });
  }

  /** Generator sink (bind-free arrow so it can be passed directly). */
  readonly onEvent = (event: MarketEvent): void => {
    if (event.kind === "level") {
      this.#touched.add(event.symbolIndex);
      return;
    }
    this.#onTrade(event);
  };

  /** Returns and resets the changes since the previous call. */
  takeBatch(): MarketBatch {
    const batch = { booksTouched: this.#touched, trades: this.#trades };
    this.#touched = new Set();
    this.#trades = new Map();
    return batch;
  }

  /** The last trades of pair `index` (oldest first), as encoded items. */
  recentTrades(index: number): readonly string[] {
    return this.#pairs[index].recentTrades;
  }

  /** A ticker item of pair `index` from its book and statistics. */
  tickerItem(index: number, book: ReadonlyOrderBook, timeMs: number): string {
    const s = this.#pairs[index];
    const pair = s.pair;
    const num = (text: string) => numberLiteral(text, this.#style);
    const last = s.lastTick * pair.market.tickAtoms / 1e8;
    const open = s.openTick * pair.market.tickAtoms / 1e8;
    const change = last - open;
    const vwap = s.volumeSteps === 0
      ? last
      : s.notional / (s.volumeSteps * pair.market.stepAtoms / 1e8);
    return `{"symbol":${JSON.stringify(pair.name)},"bid":${
      num(priceText(pair, book.bids.bestTick()))
    },` +
      `"bid_qty":${num(qtyText(pair, book.bids.bestQty()))},"ask":${
        num(priceText(pair, book.asks.bestTick()))
      },` +
      `"ask_qty":${num(qtyText(pair, book.asks.bestQty()))},"last":${
        num(priceText(pair, s.lastTick))
      },` +
      `"volume":${num(qtyText(pair, s.volumeSteps))},"vwap":${vwap.toFixed(pair.pricePrecision)},` +
      `"low":${num(priceText(pair, s.lowTick))},"high":${num(priceText(pair, s.highTick))},` +
      `"change":${change.toFixed(pair.pricePrecision)},"change_pct":${
        (open === 0 ? 0 : (100 * change) / open).toFixed(2)
      },` +
      `"timestamp":"${rfc3339Micros(timeMs)}"}`;
  }

  /** The current bar of pair `index` for `interval` minutes (an empty bar at the last price). */
  ohlcItem(index: number, interval: number, timeMs: number): string {
    const s = this.#pairs[index];
    const pair = s.pair;
    const bar = this.#bar(s, interval, timeMs);
    const num = (text: string) => numberLiteral(text, this.#style);
    const volume = bar.volumeSteps * pair.market.stepAtoms / 1e8;
    const vwap = volume === 0 ? bar.close * pair.market.tickAtoms / 1e8 : bar.notional / volume;
    const endMs = bar.beginMs + interval * 60_000;
    return `{"symbol":${JSON.stringify(pair.name)},"open":${num(priceText(pair, bar.open))},` +
      `"high":${num(priceText(pair, bar.high))},"low":${num(priceText(pair, bar.low))},` +
      `"close":${num(priceText(pair, bar.close))},"vwap":${vwap.toFixed(pair.pricePrecision)},` +
      `"trades":${bar.trades},"volume":${num(qtyText(pair, bar.volumeSteps))},` +
      `"interval_begin":"${rfc3339Micros(bar.beginMs)}","interval":${interval},` +
      `"timestamp":"${rfc3339Micros(endMs)}"}`;
  }

  /** Book levels (`[tick, steps]`, best first) as a JSON array of `{price, qty}`. */
  levelsJson(index: number, levels: readonly (readonly [number, number])[]): string {
    const pair = this.#pairs[index].pair;
    const parts = levels.map(([tick, steps]) =>
      `{"price":${numberLiteral(priceText(pair, tick), this.#style)},"qty":${
        numberLiteral(qtyText(pair, steps), this.#style)
      }}`
    );
    return `[${parts.join(",")}]`;
  }

  #bar(s: PairState, interval: number, timeMs: number): Bar {
    const beginMs = Math.floor(timeMs / (interval * 60_000)) * interval * 60_000;
    let bar = s.bars.get(interval);
    if (bar === undefined || bar.beginMs !== beginMs) {
      const t = s.lastTick;
      bar = { beginMs, open: t, high: t, low: t, close: t, volumeSteps: 0, notional: 0, trades: 0 };
      s.bars.set(interval, bar);
    }
    return bar;
  }

  #onTrade(event: TradeEvent): void {
    const s = this.#pairs[event.symbolIndex];
    const pair = s.pair;
    const price = event.tick * pair.market.tickAtoms / 1e8;
    const notional = price * (event.qtySteps * pair.market.stepAtoms / 1e8);
    for (const interval of OHLC_INTERVALS) {
      const bar = this.#bar(s, interval, event.timeMs);
      if (bar.trades === 0) {
        bar.open = event.tick;
        bar.high = event.tick;
        bar.low = event.tick;
      }
      bar.high = Math.max(bar.high, event.tick);
      bar.low = Math.min(bar.low, event.tick);
      bar.close = event.tick;
      bar.volumeSteps += event.qtySteps;
      bar.notional += notional;
      bar.trades++;
    }
    s.lastTick = event.tick;
    s.highTick = Math.max(s.highTick, event.tick);
    s.lowTick = Math.min(s.lowTick, event.tick);
    s.volumeSteps += event.qtySteps;
    s.notional += notional;
    const item = `{"symbol":${JSON.stringify(pair.name)},"side":"${event.takerSide}",` +
      `"price":${numberLiteral(priceText(pair, event.tick), this.#style)},` +
      `"qty":${numberLiteral(qtyText(pair, event.qtySteps), this.#style)},` +
      `"ord_type":"${
        event.takerOrderId % 4 === 0 ? "limit" : "market"
      }","trade_id":${event.tradeId},` +
      `"timestamp":"${rfc3339Micros(event.timeMs)}"}`;
    s.recentTrades.push(item);
    if (s.recentTrades.length > TRADE_SNAPSHOT_COUNT) s.recentTrades.shift();
    let list = this.#trades.get(event.symbolIndex);
    if (list === undefined) {
      list = [];
      this.#trades.set(event.symbolIndex, list);
    }
    list.push(item);
  }
}
