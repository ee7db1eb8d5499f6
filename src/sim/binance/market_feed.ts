/**
 * The Binance view of a generated market: turns generator events into Binance stream payloads
 * (trade, aggTrade, diff and partial depth, bookTicker, ticker, miniTicker, avgPrice, klines)
 * and publishes them on the stream hub. Payloads are only encoded for channels somebody
 * listens to, but diff windows accumulate regardless, so every diff stream stays contiguous.
 *
 * @module
 */

import type {
  LevelEvent,
  MarketEvent,
  MarketGenerator,
  MarketSymbol,
  TradeEvent,
} from "../market/mod.ts";
import { DepthWindow } from "./depth_window.ts";
import { KlineSeries } from "./kline_series.ts";
import {
  encodeAggTrade,
  encodeAvgPrice,
  encodeBookDepth,
  encodeBookTicker,
  encodeDepthUpdate,
  encodeKline,
  encodeLevels,
  encodeMiniTicker,
  encodeTicker,
  encodeTrade,
  type LevelStrings,
  type TickerFields,
} from "./market_encoder.ts";
import { KLINE_INTERVAL_MS, parseStreamName } from "./stream_name.ts";
import type { StreamChannel, StreamHub } from "./stream_hub.ts";
import { SymbolFormat } from "./symbol_format.ts";
import { TradeStats } from "./trade_stats.ts";

/** Timings of the periodic streams, in ms. */
export interface MarketFeedTimings {
  /** `@depth` and `@depthN`. */
  readonly depthIntervalMs: number;
  /** `@depth@100ms` and `@depthN@100ms`. */
  readonly depthFastIntervalMs: number;
  /** ticker, miniTicker, `!miniTicker@arr`, avgPrice. */
  readonly tickerIntervalMs: number;
  /** Open-kline updates (`1s` klines use half). */
  readonly klineUpdateMs: number;
  /** Multiplier on bar lengths. */
  readonly klineBarScale: number;
}

/** A depth snapshot in Binance strings. */
export interface DepthSnapshot {
  /** Book update id the snapshot reflects. */
  readonly lastUpdateId: number;
  /** `[price, qty]`, best (highest) first. */
  readonly bids: LevelStrings;
  /** `[price, qty]`, best (lowest) first. */
  readonly asks: LevelStrings;
}

interface AggregateTrade {
  takerOrderId: number;
  tick: number;
  qtySteps: number;
  firstTradeId: number;
  lastTradeId: number;
  timeMs: number;
  buyerIsMaker: boolean;
}

interface PartialChannel {
  readonly channel: StreamChannel;
  readonly levels: number;
  readonly fast: boolean;
}

interface DiffStream {
  readonly window: DepthWindow;
  readonly channel: StreamChannel;
  /** Gap fault: events still to drop. */
  dropsPending: number;
  /** Duplicate fault: events still to repeat. */
  repeatsPending: number;
}

/** Per-symbol state of the feed. */
class SymbolFeed {
  readonly symbol: MarketSymbol;
  /** Binance name, upper case (`BTCUSDT`). */
  readonly name: string;
  readonly format: SymbolFormat;
  readonly trade: StreamChannel;
  readonly aggTrade: StreamChannel;
  readonly bookTicker: StreamChannel;
  readonly ticker: StreamChannel;
  readonly miniTicker: StreamChannel;
  readonly avgPrice: StreamChannel;
  readonly slow: DiffStream;
  readonly fast: DiffStream;
  readonly partials: PartialChannel[];
  readonly klines = new Map<string, { readonly series: KlineSeries; channel: StreamChannel }>();
  readonly stats: TradeStats;
  aggregate: AggregateTrade | null = null;
  aggId: number;
  topBidTick = 0;
  topBidQty = 0;
  topAskTick = 0;
  topAskQty = 0;

  constructor(symbol: MarketSymbol, name: string, hub: StreamHub, nowMs: number) {
    this.symbol = symbol;
    this.name = name;
    this.format = new SymbolFormat(symbol);
    const lower = name.toLowerCase();
    this.trade = hub.channel(`${lower}@trade`);
    this.aggTrade = hub.channel(`${lower}@aggTrade`);
    this.bookTicker = hub.channel(`${lower}@bookTicker`);
    this.ticker = hub.channel(`${lower}@ticker`);
    this.miniTicker = hub.channel(`${lower}@miniTicker`);
    this.avgPrice = hub.channel(`${lower}@avgPrice`);
    this.slow = diffStream(hub.channel(`${lower}@depth`));
    this.fast = diffStream(hub.channel(`${lower}@depth@100ms`));
    this.partials = [];
    for (const levels of [5, 10, 20]) {
      this.partials.push({ channel: hub.channel(`${lower}@depth${levels}`), levels, fast: false });
      this.partials.push({
        channel: hub.channel(`${lower}@depth${levels}@100ms`),
        levels,
        fast: true,
      });
    }
    this.stats = new TradeStats(symbol.startTick, nowMs);
    this.aggId = 300_000_000 + symbol.index * 10_000_000;
  }
}

function diffStream(channel: StreamChannel): DiffStream {
  return { window: new DepthWindow(), channel, dropsPending: 0, repeatsPending: 0 };
}

/** See the module documentation. */
export class BinanceMarketFeed {
  readonly #generator: MarketGenerator;
  readonly #clock: () => number;
  readonly #timings: MarketFeedTimings;
  readonly #feeds: SymbolFeed[];
  readonly #byName = new Map<string, SymbolFeed>();
  readonly #byLower = new Map<string, SymbolFeed>();
  readonly #allMiniTickers: StreamChannel;
  #nextFastMs: number;
  #nextSlowMs: number;
  #nextTickerMs: number;
  #nextKlineMs: number;
  #nextKline1sMs: number;
  /** Events delivered by the generator so far. */
  eventsSeen = 0;

  /**
   * A feed over `generator`, naming symbol `i` `names[i]`. `nowMs` is the wall clock and
   * `monotonicMs` the scheduler clock at start.
   */
  constructor(options: {
    generator: MarketGenerator;
    names: readonly string[];
    hub: StreamHub;
    clock: () => number;
    timings: MarketFeedTimings;
    monotonicMs: number;
  }) {
    this.#generator = options.generator;
    this.#clock = options.clock;
    this.#timings = options.timings;
    const now = options.clock();
    this.#feeds = options.generator.symbols.map((symbol) =>
      new SymbolFeed(symbol, options.names[symbol.index], options.hub, now)
    );
    for (const feed of this.#feeds) {
      this.#byName.set(feed.name, feed);
      this.#byLower.set(feed.name.toLowerCase(), feed);
      this.#refreshTop(feed);
    }
    this.#allMiniTickers = options.hub.channel("!miniTicker@arr");
    const start = options.monotonicMs;
    this.#nextFastMs = start + this.#timings.depthFastIntervalMs;
    this.#nextSlowMs = start + this.#timings.depthIntervalMs;
    this.#nextTickerMs = start + this.#timings.tickerIntervalMs;
    this.#nextKlineMs = start + this.#timings.klineUpdateMs;
    this.#nextKline1sMs = start + this.#timings.klineUpdateMs / 2;
  }

  /** Binance names of the symbols, in generator order. */
  get names(): string[] {
    return this.#feeds.map((f) => f.name);
  }

  /** The generator sink: call for every event, in order, while the generator runs. */
  readonly onEvent = (event: MarketEvent): void => {
    this.eventsSeen++;
    const feed = this.#feeds[event.symbolIndex];
    if (event.kind === "level") this.#onLevel(feed, event);
    else this.#onTrade(feed, event);
  };

  /** Ends a generation batch: pending aggregate trades go out. */
  endBatch(): void {
    for (const feed of this.#feeds) {
      if (feed.aggregate !== null) this.#flushAggregate(feed);
    }
  }

  /** Periodic streams: call from the scheduler with its monotonic clock. */
  onTick(monotonicMs: number): void {
    const now = this.#clock();
    const t = this.#timings;
    if (monotonicMs >= this.#nextFastMs) {
      this.#nextFastMs = nextDue(this.#nextFastMs, t.depthFastIntervalMs, monotonicMs);
      for (const feed of this.#feeds) this.#flushDepth(feed, true, now);
    }
    if (monotonicMs >= this.#nextSlowMs) {
      this.#nextSlowMs = nextDue(this.#nextSlowMs, t.depthIntervalMs, monotonicMs);
      for (const feed of this.#feeds) this.#flushDepth(feed, false, now);
    }
    if (monotonicMs >= this.#nextTickerMs) {
      this.#nextTickerMs = nextDue(this.#nextTickerMs, t.tickerIntervalMs, monotonicMs);
      this.#publishTickers(now);
    }
    const klineUpdate = monotonicMs >= this.#nextKlineMs;
    const kline1sUpdate = monotonicMs >= this.#nextKline1sMs;
    if (klineUpdate) this.#nextKlineMs = nextDue(this.#nextKlineMs, t.klineUpdateMs, monotonicMs);
    if (kline1sUpdate) {
      this.#nextKline1sMs = nextDue(this.#nextKline1sMs, t.klineUpdateMs / 2, monotonicMs);
    }
    for (const feed of this.#feeds) {
      for (const { series, channel } of feed.klines.values()) {
        const closed = series.roll(now, feed.format, feed.name);
        if (closed !== null && channel.active) channel.publish(encodeKline(closed));
        const due = series.interval === "1s" ? kline1sUpdate : klineUpdate;
        if (closed === null && due && channel.active) {
          channel.publish(encodeKline(series.fields(now, feed.format, feed.name, false)));
        }
      }
    }
  }

  /** Starts kline tracking when a kline channel gets its first subscriber. */
  onChannelActivated(channel: StreamChannel): void {
    const spec = parseStreamName(channel.name);
    if (spec === null || spec.kind !== "kline") return;
    const feed = this.#byLower.get(spec.symbol);
    if (feed === undefined) return;
    const known = feed.klines.get(channel.name);
    if (known !== undefined) {
      // The hub drops emptied subscription-made channels; keep the bar, adopt the new channel.
      known.channel = channel;
      return;
    }
    const barMs = Math.max(
      1,
      Math.round(KLINE_INTERVAL_MS.get(spec.interval)! * this.#timings.klineBarScale),
    );
    const series = new KlineSeries({
      interval: spec.interval,
      barMs,
      zoneOffsetMinutes: spec.zoneOffsetMinutes,
      nowMs: this.#clock(),
      lastTick: feed.stats.lastTick,
    });
    feed.klines.set(channel.name, { series, channel });
  }

  /** Whether `name` (upper case) is one of the feed's symbols. */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The current book of `name` (upper case), up to `levelsMax` levels per side. */
  depth(name: string, levelsMax: number): DepthSnapshot {
    const feed = this.#feed(name);
    const book = this.#generator.book(feed.symbol.index);
    return {
      lastUpdateId: book.updateId,
      bids: this.#levelStrings(feed, book.bids.topLevels(levelsMax)),
      asks: this.#levelStrings(feed, book.asks.topLevels(levelsMax)),
    };
  }

  /** Last book update id of `name`. */
  lastUpdateId(name: string): number {
    return this.#generator.book(this.#feed(name).symbol.index).updateId;
  }

  /**
   * Ends the diff windows of `name` now (both speeds), so that every later diff event starts
   * after the current book state. The stale-snapshot fault relies on it.
   */
  flushDepthNow(name: string): void {
    const feed = this.#feed(name);
    const now = this.#clock();
    this.#flushDepth(feed, true, now);
    this.#flushDepth(feed, false, now);
  }

  /** Gap fault: the next `events` diff events of `name` (each speed) are not sent. */
  dropDiffs(name: string, events: number): void {
    const feed = this.#feed(name);
    feed.fast.dropsPending += events;
    feed.slow.dropsPending += events;
  }

  /** Duplicate fault: the next `events` diff events of `name` (each speed) are sent twice. */
  repeatDiffs(name: string, events: number): void {
    const feed = this.#feed(name);
    feed.fast.repeatsPending += events;
    feed.slow.repeatsPending += events;
  }

  #feed(name: string): SymbolFeed {
    const feed = this.#byName.get(name);
    if (feed === undefined) {
      throw new RangeError(`symbol: expected one of the simulated symbols, found ${name}`);
    }
    return feed;
  }

  #onLevel(feed: SymbolFeed, event: LevelEvent): void {
    feed.fast.window.record(event);
    feed.slow.window.record(event);
    const book = this.#generator.book(event.symbolIndex);
    let changed = false;
    if (event.side === "bid") {
      const tick = book.bids.bestTick();
      const qty = book.bids.bestQty();
      if (tick !== feed.topBidTick || qty !== feed.topBidQty) {
        feed.topBidTick = tick;
        feed.topBidQty = qty;
        changed = true;
      }
    } else {
      const tick = book.asks.bestTick();
      const qty = book.asks.bestQty();
      if (tick !== feed.topAskTick || qty !== feed.topAskQty) {
        feed.topAskTick = tick;
        feed.topAskQty = qty;
        changed = true;
      }
    }
    if (changed && feed.bookTicker.active) {
      const f = feed.format;
      feed.bookTicker.publish(encodeBookTicker({
        updateId: event.updateId,
        symbol: feed.name,
        bidPrice: f.price(feed.topBidTick),
        bidQty: f.qty(feed.topBidQty),
        askPrice: f.price(feed.topAskTick),
        askQty: f.qty(feed.topAskQty),
      }));
    }
  }

  #onTrade(feed: SymbolFeed, trade: TradeEvent): void {
    feed.stats.onTrade(trade);
    for (const { series, channel } of feed.klines.values()) {
      // A trade past the bar's end closes the bar first, so `x: true` is sent exactly once.
      const closed = series.roll(trade.timeMs, feed.format, feed.name);
      if (closed !== null && channel.active) channel.publish(encodeKline(closed));
      series.onTrade(trade);
    }
    const buyerIsMaker = trade.takerSide === "sell";
    if (feed.trade.active) {
      feed.trade.publish(encodeTrade({
        eventTimeMs: this.#clock(),
        symbol: feed.name,
        tradeId: trade.tradeId,
        price: feed.format.price(trade.tick),
        qty: feed.format.qty(trade.qtySteps),
        tradeTimeMs: trade.timeMs,
        buyerIsMaker,
      }));
    }
    const open = feed.aggregate;
    if (open !== null && open.takerOrderId === trade.takerOrderId && open.tick === trade.tick) {
      open.qtySteps += trade.qtySteps;
      open.lastTradeId = trade.tradeId;
      return;
    }
    if (open !== null) this.#flushAggregate(feed);
    feed.aggregate = {
      takerOrderId: trade.takerOrderId,
      tick: trade.tick,
      qtySteps: trade.qtySteps,
      firstTradeId: trade.tradeId,
      lastTradeId: trade.tradeId,
      timeMs: trade.timeMs,
      buyerIsMaker,
    };
  }

  #flushAggregate(feed: SymbolFeed): void {
    const aggregate = feed.aggregate!;
    feed.aggregate = null;
    feed.aggId++;
    if (!feed.aggTrade.active) return;
    feed.aggTrade.publish(encodeAggTrade({
      eventTimeMs: this.#clock(),
      symbol: feed.name,
      aggId: feed.aggId,
      price: feed.format.price(aggregate.tick),
      qty: feed.format.qty(aggregate.qtySteps),
      firstTradeId: aggregate.firstTradeId,
      lastTradeId: aggregate.lastTradeId,
      tradeTimeMs: aggregate.timeMs,
      buyerIsMaker: aggregate.buyerIsMaker,
    }));
  }

  #flushDepth(feed: SymbolFeed, fast: boolean, now: number): void {
    const stream = fast ? feed.fast : feed.slow;
    if (!stream.window.empty) {
      const diff = stream.window.take();
      if (stream.channel.active) {
        if (stream.dropsPending > 0) {
          stream.dropsPending--;
        } else {
          const payload = encodeDepthUpdate({
            eventTimeMs: now,
            symbol: feed.name,
            firstUpdateId: diff.firstId,
            lastUpdateId: diff.lastId,
            bids: encodeLevels(this.#levelStrings(feed, diff.bids)),
            asks: encodeLevels(this.#levelStrings(feed, diff.asks)),
          });
          stream.channel.publish(payload);
          if (stream.repeatsPending > 0) {
            stream.repeatsPending--;
            stream.channel.publish(payload);
          }
        }
      }
    }
    const book = this.#generator.book(feed.symbol.index);
    for (const partial of feed.partials) {
      if (partial.fast !== fast || !partial.channel.active) continue;
      partial.channel.publish(encodeBookDepth(book.updateId, {
        bids: encodeLevels(this.#levelStrings(feed, book.bids.topLevels(partial.levels))),
        asks: encodeLevels(this.#levelStrings(feed, book.asks.topLevels(partial.levels))),
      }));
    }
  }

  #publishTickers(now: number): void {
    const changedMinis: string[] = [];
    for (const feed of this.#feeds) {
      const wantsMini = feed.stats.changed && this.#allMiniTickers.active;
      if (!feed.ticker.active && !feed.miniTicker.active && !feed.avgPrice.active && !wantsMini) {
        feed.stats.changed = false;
        continue;
      }
      const fields = this.#tickerFields(feed, now);
      if (feed.ticker.active) feed.ticker.publish(encodeTicker(fields));
      if (feed.miniTicker.active) feed.miniTicker.publish(encodeMiniTicker(fields));
      if (feed.avgPrice.active) feed.avgPrice.publish(encodeAvgPrice(fields));
      if (wantsMini) changedMinis.push(encodeMiniTicker(fields));
      feed.stats.changed = false;
    }
    if (changedMinis.length > 0) this.#allMiniTickers.publish(`[${changedMinis.join(",")}]`);
  }

  #tickerFields(feed: SymbolFeed, now: number): TickerFields {
    const s = feed.stats;
    const f = feed.format;
    return {
      eventTimeMs: now,
      symbol: feed.name,
      priceChange: f.priceDelta(s.lastTick - s.openTick),
      priceChangePercent: s.changePercent(),
      weightedAvgPrice: s.volumeSteps === 0
        ? f.price(s.lastTick)
        : f.weightedPrice(s.quoteTickSteps, s.volumeSteps),
      prevClosePrice: f.price(s.prevCloseTick),
      lastPrice: f.price(s.lastTick),
      lastQty: f.qty(s.lastQtySteps),
      bidPrice: f.price(feed.topBidTick),
      bidQty: f.qty(feed.topBidQty),
      askPrice: f.price(feed.topAskTick),
      askQty: f.qty(feed.topAskQty),
      openPrice: f.price(s.openTick),
      highPrice: f.price(s.highTick),
      lowPrice: f.price(s.lowTick),
      volume: f.qty(s.volumeSteps),
      quoteVolume: f.quote(s.quoteTickSteps),
      openTimeMs: Math.max(s.openTimeMs, now - 86_400_000),
      closeTimeMs: now,
      firstTradeId: s.firstTradeId,
      lastTradeId: s.lastTradeId,
      tradeCount: s.tradeCount,
      lastTradeTimeMs: s.lastTradeTimeMs,
    };
  }

  #refreshTop(feed: SymbolFeed): void {
    const book = this.#generator.book(feed.symbol.index);
    feed.topBidTick = book.bids.bestTick();
    feed.topBidQty = book.bids.bestQty();
    feed.topAskTick = book.asks.bestTick();
    feed.topAskQty = book.asks.bestQty();
  }

  #levelStrings(
    feed: SymbolFeed,
    levels: readonly (readonly [number, number])[],
  ): [string, string][] {
    const f = feed.format;
    const out: [string, string][] = new Array(levels.length);
    for (let i = 0; i < levels.length; i++) out[i] = [f.price(levels[i][0]), f.qty(levels[i][1])];
    return out;
  }
}

/** The next due time after `nowMs` on a grid of `periodMs` starting at `previousDue`. */
function nextDue(previousDue: number, periodMs: number, nowMs: number): number {
  const next = previousDue + periodMs;
  // After a stall, skip missed slots instead of firing a burst.
  return next > nowMs ? next : nowMs + periodMs;
}
