/**
 * Turns market-generator events into OKX public pushes: `books` (400-level view with a
 * `seqId`/`prevSeqId` chain, idle keep-alives and sequence resets), `trades` (aggregated per
 * taker order and price), `tickers` and `candle1m`. One chain per instrument, shared by every
 * subscriber and by the REST book, as on the venue.
 *
 * @module
 */

import {
  formatAtoms,
  formatBigAtoms,
  type MarketEvent,
  type MarketGenerator,
  type MarketSymbol,
  SeededRandom,
  trimDecimal,
} from "../market/mod.ts";
import { okxChecksum } from "./okx_checksum.ts";

/** Levels per side of the `books` channel and the deepest REST answer. */
export const BOOK_DEPTH = 400;

/** A wire level: `[price, size, "0", numOrders]`. */
export type OkxLevel = [string, string, string, string];

/** Something that receives pushes (a connection). */
export interface OkxSubscriber {
  /** Sends one text frame. */
  send(text: string): void;
}

/** How the `checksum` field is filled. */
export type ChecksumMode = "current" | "legacy";

/**
 * How a `books` subscription starts: `"snapshot"` (today's venue: an `action:"snapshot"` with
 * `prevSeqId:-1` first) or `"no-snapshot"` (OKX's announced change, protocol notes §0/§8: only
 * updates; clients bootstrap from REST `GET /api/v5/market/books`, §4.4).
 */
export type BooksMode = "snapshot" | "no-snapshot";

/** The published book of one instrument at a `seqId`. */
export interface OkxBookSnapshot {
  /** Instrument (`BTC-USDT`). */
  readonly instId: string;
  /** Sequence id the levels reflect. */
  readonly seqId: number;
  /** Bids, best first. */
  readonly bids: OkxLevel[];
  /** Asks, best first. */
  readonly asks: OkxLevel[];
  /** Book time, ms since the epoch. */
  readonly ts: number;
}

/** Timing and mode settings of {@link OkxMarketFeed}. */
export interface OkxFeedSettings {
  /** `books` push cadence. */
  readonly booksIntervalMs: number;
  /** An empty update with `seqId == prevSeqId` after this long without book changes. */
  readonly booksHeartbeatMs: number;
  /** `tickers` push cadence (pushes only on change). */
  readonly tickersIntervalMs: number;
  /** `candle1m` push cadence. */
  readonly candlePushMs: number;
  /** Bar length of `candle1m` (60000 on the venue; shorter in tests). */
  readonly candleBarMs: number;
  /** Checksum mode. */
  readonly checksumMode: ChecksumMode;
  /** Whether a `books` subscription starts with a snapshot. */
  readonly booksMode: BooksMode;
  /** Wall clock, ms since the epoch. */
  readonly clock: () => number;
}

/** One-shot book faults armed per instrument. */
interface BookFaults {
  gap: number;
  corrupt: number;
  reset: number;
  /** REST answers still to serve from `staleBook` instead of the current book. */
  staleRest: number;
  /** The book captured when the stale-REST fault was armed. */
  staleBook: OkxBookSnapshot | null;
}

interface Aggregate {
  takerOrderId: number;
  tick: number;
  steps: number;
  count: number;
  tradeId: number;
  side: "buy" | "sell";
  timeMs: number;
}

interface Bar {
  openMs: number;
  o: number;
  h: number;
  l: number;
  c: number;
  volAtoms: bigint;
  quoteAtoms: bigint;
}

interface InstrumentState {
  readonly symbol: MarketSymbol;
  readonly instId: string;
  readonly priceDecimals: number;
  readonly bids: Map<number, number>;
  readonly asks: Map<number, number>;
  seqId: number;
  dirty: boolean;
  lastBookPushMs: number;
  readonly faults: BookFaults;
  readonly trades: Aggregate[];
  lastTick: number;
  lastSteps: number;
  readonly openTick: number;
  highTick: number;
  lowTick: number;
  volAtoms: bigint;
  quoteAtoms: bigint;
  tickerDirty: boolean;
  tickerKey: string;
  bar: Bar;
}

/** Counters of the feed. */
export interface OkxFeedStats {
  /** `books` update messages built (including keep-alives and suppressed ones). */
  readonly bookUpdates: number;
  /** Update messages withheld by the gap fault. */
  readonly gapsInjected: number;
  /** Updates whose checksum was corrupted. */
  readonly checksumsCorrupted: number;
  /** Sequence resets emitted. */
  readonly sequenceResets: number;
  /** REST book answers served from an older, captured book (stale-REST fault). */
  readonly staleRestBooks: number;
}

/**
 * The feed. Call {@link OkxMarketFeed.onEvent} from the generator sink,
 * {@link OkxMarketFeed.endBatch} after each batch and {@link OkxMarketFeed.onTick} from the timer.
 */
export class OkxMarketFeed {
  /** Instrument ids, in generator order. */
  readonly instIds: readonly string[];
  readonly #generator: MarketGenerator;
  readonly #settings: OkxFeedSettings;
  readonly #states: InstrumentState[];
  readonly #byInstId = new Map<string, InstrumentState>();
  readonly #subscribers = new Map<string, Set<OkxSubscriber>>();
  readonly #random: SeededRandom;
  #nextBooksMs = 0;
  #nextTickersMs = 0;
  #nextCandleMs = 0;
  #bookUpdates = 0;
  #gapsInjected = 0;
  #checksumsCorrupted = 0;
  #sequenceResets = 0;
  #staleRestBooks = 0;

  /** A feed over `generator`; `seed` drives the seqId jumps. */
  constructor(generator: MarketGenerator, settings: OkxFeedSettings, seed: number) {
    this.#generator = generator;
    this.#settings = settings;
    this.#random = new SeededRandom(seed ^ 0x5eed0c5);
    const nowMs = settings.clock();
    this.#states = generator.symbols.map((symbol) => {
      const startTick = generator.referenceTick(symbol.index);
      const state: InstrumentState = {
        symbol,
        instId: symbol.canonical,
        priceDecimals: decimalsOf(symbol.spec.tickSize),
        bids: new Map(),
        asks: new Map(),
        seqId: 1_000_000 + this.#random.below(9_000_000),
        dirty: true,
        lastBookPushMs: nowMs,
        faults: { gap: 0, corrupt: 0, reset: 0, staleRest: 0, staleBook: null },
        trades: [],
        lastTick: startTick,
        lastSteps: 0,
        openTick: startTick,
        highTick: startTick,
        lowTick: startTick,
        volAtoms: 0n,
        quoteAtoms: 0n,
        tickerDirty: true,
        tickerKey: "",
        bar: newBar(barOpen(nowMs, settings.candleBarMs), startTick),
      };
      // The published view starts equal to the generator's book: no update is owed for it.
      this.#diffBook(state);
      state.dirty = false;
      return state;
    });
    for (const state of this.#states) this.#byInstId.set(state.instId, state);
    this.instIds = this.#states.map((s) => s.instId);
    this.onEvent = this.onEvent.bind(this);
  }

  /** Whether `instId` is served. */
  has(instId: string): boolean {
    return this.#byInstId.has(instId);
  }

  /** The generator's resolved symbol of `instId` (for the instruments endpoint). */
  symbolOf(instId: string): MarketSymbol {
    return this.#state(instId).symbol;
  }

  /** Generator sink. */
  onEvent(event: MarketEvent): void {
    const state = this.#states[event.symbolIndex];
    if (event.kind === "level") {
      state.dirty = true;
      return;
    }
    const last = state.trades[state.trades.length - 1];
    if (
      last !== undefined && last.takerOrderId === event.takerOrderId && last.tick === event.tick
    ) {
      last.steps += event.qtySteps;
      last.count++;
      last.tradeId = event.tradeId;
    } else {
      state.trades.push({
        takerOrderId: event.takerOrderId,
        tick: event.tick,
        steps: event.qtySteps,
        count: 1,
        tradeId: event.tradeId,
        side: event.takerSide,
        timeMs: event.timeMs,
      });
    }
  }

  /** Publishes the trades of the batch just generated. */
  endBatch(): void {
    for (const state of this.#states) {
      if (state.trades.length === 0) continue;
      const subscribers = this.#subscribers.get(key("trades", state.instId));
      for (const trade of state.trades) {
        this.#recordTrade(state, trade);
        if (subscribers === undefined || subscribers.size === 0) continue;
        const text = JSON.stringify({
          arg: { channel: "trades", instId: state.instId },
          data: [{
            instId: state.instId,
            tradeId: String(trade.tradeId),
            px: this.#price(state, trade.tick),
            sz: this.#size(state, trade.steps),
            side: trade.side,
            ts: String(trade.timeMs),
            count: String(trade.count),
            source: "0",
            seqId: state.seqId,
          }],
        });
        for (const subscriber of subscribers) subscriber.send(text);
      }
      state.trades.length = 0;
    }
  }

  /** Periodic pushes; `nowMs` is the wall clock. */
  onTick(nowMs: number): void {
    const settings = this.#settings;
    if (nowMs >= this.#nextBooksMs) {
      this.#nextBooksMs = nowMs + settings.booksIntervalMs;
      for (const state of this.#states) this.#flushBook(state, nowMs, false);
    }
    if (nowMs >= this.#nextTickersMs) {
      this.#nextTickersMs = nowMs + settings.tickersIntervalMs;
      for (const state of this.#states) this.#pushTicker(state, nowMs);
    }
    if (nowMs >= this.#nextCandleMs) {
      this.#nextCandleMs = nowMs + settings.candlePushMs;
      for (const state of this.#states) this.#pushCandle(state, nowMs);
    }
  }

  /**
   * Adds `subscriber` to `channel` of `instId`. For `books` the pending changes are first
   * published to the existing subscribers, then the newcomer gets the snapshot at that seqId.
   */
  subscribe(subscriber: OkxSubscriber, channel: string, instId: string): void {
    const state = this.#state(instId);
    const k = key(channel, instId);
    let set = this.#subscribers.get(k);
    if (set === undefined) {
      set = new Set();
      this.#subscribers.set(k, set);
    }
    if (set.has(subscriber)) return;
    // No-snapshot mode: the newcomer just joins the chain; its first push is the next update.
    if (channel === "books" && this.#settings.booksMode === "snapshot") {
      const snapshot = this.book(instId, BOOK_DEPTH);
      subscriber.send(JSON.stringify({
        arg: { channel, instId },
        action: "snapshot",
        data: [{
          asks: snapshot.asks,
          bids: snapshot.bids,
          ts: String(snapshot.ts),
          checksum: this.#checksum(state, false),
          prevSeqId: -1,
          seqId: snapshot.seqId,
        }],
      }));
    }
    set.add(subscriber);
    if (channel === "tickers") state.tickerDirty = true;
  }

  /** Removes `subscriber` from `channel` of `instId`; false when it was not subscribed. */
  unsubscribe(subscriber: OkxSubscriber, channel: string, instId: string): boolean {
    return this.#subscribers.get(key(channel, instId))?.delete(subscriber) ?? false;
  }

  /** Subscriptions over all channels and connections. */
  subscriptionCount(): number {
    let total = 0;
    for (const set of this.#subscribers.values()) total += set.size;
    return total;
  }

  /**
   * The published book after publishing any pending change (so `seqId` is one the subscribers
   * have seen or are about to see), up to `levelsMax` per side.
   */
  book(instId: string, levelsMax: number): OkxBookSnapshot {
    const state = this.#state(instId);
    const nowMs = this.#settings.clock();
    if (state.dirty) this.#flushBook(state, nowMs, true);
    return {
      instId,
      seqId: state.seqId,
      bids: this.#levels(state, state.bids, "bid").slice(0, levelsMax),
      asks: this.#levels(state, state.asks, "ask").slice(0, levelsMax),
      ts: nowMs,
    };
  }

  /**
   * What REST `GET /api/v5/market/books` answers: the published book, or, while the stale-REST
   * fault is armed, the book captured when it was armed (an older `seqId`).
   */
  restBook(instId: string, levelsMax: number): OkxBookSnapshot {
    const faults = this.#state(instId).faults;
    if (faults.staleRest > 0 && faults.staleBook !== null) {
      faults.staleRest--;
      this.#staleRestBooks++;
      const stale = faults.staleBook;
      if (faults.staleRest === 0) faults.staleBook = null;
      return {
        ...stale,
        bids: stale.bids.slice(0, levelsMax),
        asks: stale.asks.slice(0, levelsMax),
      };
    }
    return this.book(instId, levelsMax);
  }

  /**
   * Makes the next `count` REST book answers of `instId` return the book as published now; once
   * the chain has moved on, their `seqId` is older than any update a new subscriber buffers.
   */
  armStaleRestBook(instId: string, count: number): void {
    const faults = this.#state(instId).faults;
    if (faults.staleBook === null) faults.staleBook = this.book(instId, BOOK_DEPTH);
    faults.staleRest += count;
  }

  /** Arms a one-shot fault on the next book update of `instId`. */
  armBookFault(instId: string, kind: "gap" | "corrupt" | "reset"): void {
    this.#state(instId).faults[kind]++;
  }

  /** Counters. */
  stats(): OkxFeedStats {
    return {
      bookUpdates: this.#bookUpdates,
      gapsInjected: this.#gapsInjected,
      checksumsCorrupted: this.#checksumsCorrupted,
      sequenceResets: this.#sequenceResets,
      staleRestBooks: this.#staleRestBooks,
    };
  }

  #state(instId: string): InstrumentState {
    const state = this.#byInstId.get(instId);
    if (state === undefined) {
      throw new RangeError(`instId: expected a simulated instrument, found ${instId}`);
    }
    return state;
  }

  #flushBook(state: InstrumentState, nowMs: number, force: boolean): void {
    let changes: { bids: [number, number][]; asks: [number, number][] } | null = null;
    if (state.dirty) {
      state.dirty = false;
      changes = this.#diffBook(state);
      if (changes.bids.length === 0 && changes.asks.length === 0) changes = null;
    }
    const faults = state.faults;
    const heartbeat = changes === null && !force &&
      nowMs - state.lastBookPushMs >= this.#settings.booksHeartbeatMs;
    if (changes === null && !heartbeat && faults.reset === 0) return;
    const prevSeqId = state.seqId;
    if (faults.reset > 0) {
      faults.reset--;
      this.#sequenceResets++;
      // Maintenance restarts the counter lower; prevSeqId still names the last id sent.
      state.seqId = 1 + this.#random.below(Math.max(1, Math.min(prevSeqId - 1, 1000)));
    } else if (changes !== null) {
      state.seqId = prevSeqId + 1 + this.#random.below(16);
    }
    state.lastBookPushMs = nowMs;
    this.#bookUpdates++;
    let checksum = this.#checksum(state, false);
    if (faults.corrupt > 0) {
      faults.corrupt--;
      this.#checksumsCorrupted++;
      checksum = this.#checksum(state, true);
    }
    if (faults.gap > 0 && changes !== null) {
      faults.gap--;
      this.#gapsInjected++;
      return;
    }
    const subscribers = this.#subscribers.get(key("books", state.instId));
    if (subscribers === undefined || subscribers.size === 0) return;
    const text = JSON.stringify({
      arg: { channel: "books", instId: state.instId },
      action: "update",
      data: [{
        asks: (changes?.asks ?? []).map(([t, q]) => this.#level(state, t, q)),
        bids: (changes?.bids ?? []).map(([t, q]) => this.#level(state, t, q)),
        ts: String(nowMs),
        checksum,
        prevSeqId,
        seqId: state.seqId,
      }],
    });
    for (const subscriber of subscribers) subscriber.send(text);
  }

  /** Updates the published view to the generator's top levels; returns the changes, wire order. */
  #diffBook(state: InstrumentState): { bids: [number, number][]; asks: [number, number][] } {
    const book = this.#generator.book(state.symbol.index);
    return {
      bids: diffSide(state.bids, book.bids.topLevels(BOOK_DEPTH), -1),
      asks: diffSide(state.asks, book.asks.topLevels(BOOK_DEPTH), 1),
    };
  }

  #checksum(state: InstrumentState, corrupt: boolean): number {
    const value = this.#settings.checksumMode === "legacy"
      ? okxChecksum(
        this.#levels(state, state.bids, "bid").slice(0, 25),
        this.#levels(state, state.asks, "ask").slice(0, 25),
      )
      : 0;
    return corrupt ? (value ^ 1) | 0 : value;
  }

  #levels(state: InstrumentState, side: Map<number, number>, name: "bid" | "ask"): OkxLevel[] {
    const ticks = [...side.keys()].sort((a, b) => name === "bid" ? b - a : a - b);
    return ticks.map((t) => this.#level(state, t, side.get(t)!));
  }

  #level(state: InstrumentState, tick: number, steps: number): OkxLevel {
    if (steps === 0) return [this.#price(state, tick), "0", "0", "0"];
    // A stable function of the size, so snapshot and deltas agree on the order count.
    return [this.#price(state, tick), this.#size(state, steps), "0", String(1 + (steps % 7))];
  }

  #price(state: InstrumentState, tick: number): string {
    const text = formatAtoms(tick * state.symbol.tickAtoms);
    const cut = 8 - state.priceDecimals;
    // Fixed tick decimals keep trailing zeros ("87250.10"), which clients must not normalise.
    return state.priceDecimals === 0 ? text.slice(0, -9) : text.slice(0, text.length - cut);
  }

  #size(state: InstrumentState, steps: number): string {
    return trimDecimal(formatAtoms(steps * state.symbol.stepAtoms));
  }

  #recordTrade(state: InstrumentState, trade: Aggregate): void {
    const volAtoms = BigInt(trade.steps * state.symbol.stepAtoms);
    const quoteAtoms = (BigInt(trade.tick * state.symbol.tickAtoms) * volAtoms) / 100_000_000n;
    state.lastTick = trade.tick;
    state.lastSteps = trade.steps;
    state.highTick = Math.max(state.highTick, trade.tick);
    state.lowTick = Math.min(state.lowTick, trade.tick);
    state.volAtoms += volAtoms;
    state.quoteAtoms += quoteAtoms;
    state.tickerDirty = true;
    this.#rollBar(state, trade.timeMs);
    const bar = state.bar;
    bar.h = Math.max(bar.h, trade.tick);
    bar.l = Math.min(bar.l, trade.tick);
    bar.c = trade.tick;
    bar.volAtoms += volAtoms;
    bar.quoteAtoms += quoteAtoms;
  }

  /** Starts a new bar when `nowMs` is past the current one; returns the closed bar, if any. */
  #rollBar(state: InstrumentState, nowMs: number): Bar | null {
    const openMs = barOpen(nowMs, this.#settings.candleBarMs);
    if (openMs <= state.bar.openMs) return null;
    const closed = state.bar;
    state.bar = newBar(openMs, closed.c);
    return closed;
  }

  #pushTicker(state: InstrumentState, nowMs: number): void {
    const book = this.#generator.book(state.symbol.index);
    const bbo =
      `${book.bids.bestTick()}/${book.bids.bestQty()}/${book.asks.bestTick()}/${book.asks.bestQty()}`;
    if (!state.tickerDirty && bbo === state.tickerKey) return;
    state.tickerDirty = false;
    state.tickerKey = bbo;
    const subscribers = this.#subscribers.get(key("tickers", state.instId));
    if (subscribers === undefined || subscribers.size === 0) return;
    const open = this.#price(state, state.openTick);
    const text = JSON.stringify({
      arg: { channel: "tickers", instId: state.instId },
      data: [{
        instType: "SPOT",
        instId: state.instId,
        last: this.#price(state, state.lastTick),
        lastSz: this.#size(state, state.lastSteps),
        askPx: this.#price(state, book.asks.bestTick()),
        askSz: this.#size(state, book.asks.bestQty()),
        bidPx: this.#price(state, book.bids.bestTick()),
        bidSz: this.#size(state, book.bids.bestQty()),
        open24h: open,
        high24h: this.#price(state, state.highTick),
        low24h: this.#price(state, state.lowTick),
        volCcy24h: trimDecimal(formatBigAtoms(state.quoteAtoms)),
        vol24h: trimDecimal(formatBigAtoms(state.volAtoms)),
        sodUtc0: open,
        sodUtc8: open,
        ts: String(nowMs),
      }],
    });
    for (const subscriber of subscribers) subscriber.send(text);
  }

  #pushCandle(state: InstrumentState, nowMs: number): void {
    const closed = this.#rollBar(state, nowMs);
    const subscribers = this.#subscribers.get(key("candle1m", state.instId));
    if (subscribers === undefined || subscribers.size === 0) return;
    const rows = closed === null ? [] : [this.#candleRow(state, closed, "1")];
    rows.push(this.#candleRow(state, state.bar, "0"));
    for (const row of rows) {
      const text = JSON.stringify({
        arg: { channel: "candle1m", instId: state.instId },
        data: [row],
      });
      for (const subscriber of subscribers) subscriber.send(text);
    }
  }

  #candleRow(state: InstrumentState, bar: Bar, confirm: string): string[] {
    const quote = trimDecimal(formatBigAtoms(bar.quoteAtoms));
    return [
      String(bar.openMs),
      this.#price(state, bar.o),
      this.#price(state, bar.h),
      this.#price(state, bar.l),
      this.#price(state, bar.c),
      trimDecimal(formatBigAtoms(bar.volAtoms)),
      quote,
      quote,
      confirm,
    ];
  }
}

function key(channel: string, instId: string): string {
  return `${channel}\u0000${instId}`;
}

function decimalsOf(text: string): number {
  const dot = text.indexOf(".");
  return dot === -1 ? 0 : text.length - dot - 1;
}

function barOpen(nowMs: number, barMs: number): number {
  return Math.floor(nowMs / barMs) * barMs;
}

function newBar(openMs: number, tick: number): Bar {
  return { openMs, o: tick, h: tick, l: tick, c: tick, volAtoms: 0n, quoteAtoms: 0n };
}

/**
 * Makes `published` equal `top` and returns the changed levels (0 = removed), best first
 * (`direction` -1 sorts ticks descending for bids, 1 ascending for asks).
 */
function diffSide(
  published: Map<number, number>,
  top: [number, number][],
  direction: number,
): [number, number][] {
  const changes: [number, number][] = [];
  const seen = new Set<number>();
  for (const [tick, qty] of top) {
    seen.add(tick);
    if (published.get(tick) !== qty) {
      published.set(tick, qty);
      changes.push([tick, qty]);
    }
  }
  for (const tick of published.keys()) {
    if (!seen.has(tick)) {
      published.delete(tick);
      changes.push([tick, 0]);
    }
  }
  changes.sort((a, b) => direction * (a[0] - b[0]));
  return changes;
}
