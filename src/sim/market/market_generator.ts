/**
 * Deterministic seeded market: one reference price random walk and one real order book per
 * symbol. Makers add and cancel liquidity around the reference price, takers sweep the best
 * levels (every fill reduces or removes the level it hits). The same seed and the same call
 * sequence yield the same events, byte for byte; time only stamps events.
 *
 * @module
 */

import { SeededRandom } from "./prng.ts";
import {
  DEFAULT_SYMBOL_SPECS,
  type MarketSymbol,
  resolveSymbolSpec,
  type SymbolSpec,
} from "./symbol_spec.ts";
import {
  assertBookNotCrossed,
  type BookLevels,
  copyBookLevels,
  OrderBook,
  type ReadonlyOrderBook,
} from "./order_book.ts";
import type { BookSide, BookSideName } from "./book_side.ts";
import type { LevelChangeReason, MarketSink } from "./market_event.ts";

/** Options of {@link MarketGenerator}. */
export interface MarketGeneratorOptions {
  /** Seed of the random walk (default 1). */
  readonly seed?: number;
  /** Instruments (default {@link DEFAULT_SYMBOL_SPECS}). */
  readonly symbols?: readonly SymbolSpec[];
  /** Shifts every starting price by this many basis points (per-venue offset; default 0). */
  readonly priceOffsetBps?: number;
  /** Levels per side in the initial book (default 100). */
  readonly levelsInitial?: number;
  /** Most levels per side; beyond it the farthest level is removed (default 1000). */
  readonly levelsMax?: number;
  /** Checks "never crossed" after every action (default true; costs little). */
  readonly checkInvariants?: boolean;
}

/** Fewest levels a side keeps: cancels and sweeps never go below it. */
const LEVELS_MIN = 10;
/** Most levels one taker order sweeps. */
const SWEEP_LEVELS_MAX = 4;

interface SymbolState {
  readonly symbol: MarketSymbol;
  readonly book: OrderBook;
  refTick: number;
  tradeId: number;
  takerOrderId: number;
}

/**
 * The generator. Drive it with {@link MarketGenerator.generate}; read books through
 * {@link MarketGenerator.book}.
 *
 * @example
 * ```ts
 * const market = new MarketGenerator({ seed: 7 });
 * const events: MarketEvent[] = [];
 * market.generate(100, Date.now(), (e) => events.push(e));
 * ```
 */
export class MarketGenerator {
  /** Resolved instruments, in the order given. */
  readonly symbols: readonly MarketSymbol[];
  readonly #states: SymbolState[];
  readonly #random: SeededRandom;
  readonly #weightTotal: number;
  readonly #levelsMax: number;
  readonly #levelsTarget: number;
  readonly #checkInvariants: boolean;
  #eventsGenerated = 0;

  /** Builds the initial books (no events are emitted for them). */
  constructor(options: MarketGeneratorOptions = {}) {
    const specs = options.symbols ?? DEFAULT_SYMBOL_SPECS;
    if (specs.length === 0) {
      throw new RangeError("symbols: expected at least one symbol, found none");
    }
    const levelsInitial = options.levelsInitial ?? 100;
    const levelsMax = options.levelsMax ?? 1000;
    if (!(Number.isInteger(levelsInitial) && levelsInitial >= LEVELS_MIN)) {
      throw new RangeError(
        `levelsInitial: expected an integer >= ${LEVELS_MIN}, found ${levelsInitial}`,
      );
    }
    if (!(Number.isInteger(levelsMax) && levelsMax >= levelsInitial)) {
      throw new RangeError(`levelsMax: expected an integer >= levelsInitial, found ${levelsMax}`);
    }
    this.#levelsMax = levelsMax;
    this.#levelsTarget = levelsInitial;
    this.#checkInvariants = options.checkInvariants ?? true;
    this.#random = new SeededRandom(options.seed ?? 1);
    this.symbols = specs.map((spec, index) =>
      resolveSymbolSpec(spec, { index, priceOffsetBps: options.priceOffsetBps })
    );
    const names = new Set(this.symbols.map((s) => s.canonical));
    if (names.size !== this.symbols.length) {
      throw new RangeError("symbols: expected unique base/quote pairs");
    }
    this.#weightTotal = this.symbols.reduce((sum, s) => sum + s.weight, 0);
    this.#states = this.symbols.map((symbol) => this.#initialState(symbol, levelsInitial));
  }

  /** Total events emitted so far. */
  get eventsGenerated(): number {
    return this.#eventsGenerated;
  }

  /** Index of the symbol whose canonical name is `canonical` (`BTC-USDT`), or -1. */
  indexOf(canonical: string): number {
    return this.symbols.findIndex((s) => s.canonical === canonical);
  }

  /** The live book of symbol `index` (read-only; it changes as the generator runs). */
  book(index: number): ReadonlyOrderBook {
    return this.#state(index).book;
  }

  /** A copy of up to `levelsMax` levels per side of symbol `index`'s book. */
  snapshot(index: number, levelsMax: number): BookLevels {
    return copyBookLevels(this.#state(index).book, levelsMax);
  }

  /** Id of the last trade of symbol `index` (the first trade gets this + 1). */
  lastTradeId(index: number): number {
    return this.#state(index).tradeId;
  }

  /** Current reference (fair) price of symbol `index`, in ticks. */
  referenceTick(index: number): number {
    return this.#state(index).refTick;
  }

  /**
   * Runs whole market actions until at least `eventsMin` events went to `sink` and returns how
   * many did (an action emits 1 to ~16 events, so the count can exceed `eventsMin` a little).
   */
  generate(eventsMin: number, timeMs: number, sink: MarketSink): number {
    if (!(Number.isSafeInteger(eventsMin) && eventsMin >= 0)) {
      throw new RangeError(`eventsMin: expected a non-negative integer, found ${eventsMin}`);
    }
    let emitted = 0;
    while (emitted < eventsMin) {
      const state = this.#pickSymbol();
      emitted += this.#act(state, timeMs, sink);
      if (this.#checkInvariants) assertBookNotCrossed(state.book);
    }
    this.#eventsGenerated += emitted;
    return emitted;
  }

  #state(index: number): SymbolState {
    const state = this.#states[index];
    if (state === undefined) {
      throw new RangeError(`symbol index: expected 0..${this.#states.length - 1}, found ${index}`);
    }
    return state;
  }

  #initialState(symbol: MarketSymbol, levels: number): SymbolState {
    const random = this.#random;
    // Ids start high and differ per symbol, like a venue that has been running for a while.
    const book = new OrderBook(
      1_000_000_000 + symbol.index * 100_000_000 + random.below(10_000_000),
    );
    const state: SymbolState = {
      symbol,
      book,
      refTick: symbol.startTick,
      tradeId: 500_000_000 + symbol.index * 10_000_000 + random.below(1_000_000),
      takerOrderId: 0,
    };
    let bid = symbol.startTick - 1;
    let ask = symbol.startTick + 1;
    for (let i = 0; i < levels; i++) {
      // Cheap instruments run out of room below the price before `levels` bids.
      if (bid >= 1) book.bids.set(bid, this.#size(symbol));
      book.asks.set(ask, this.#size(symbol));
      bid -= 1 + random.below(symbol.bandTicks * 2);
      ask += 1 + random.below(symbol.bandTicks * 2);
    }
    return state;
  }

  #pickSymbol(): SymbolState {
    let pick = this.#random.below(this.#weightTotal);
    for (const state of this.#states) {
      pick -= state.symbol.weight;
      if (pick < 0) return state;
    }
    return this.#states[this.#states.length - 1];
  }

  /** One market action on `state`; returns the number of events emitted. */
  #act(state: SymbolState, timeMs: number, sink: MarketSink): number {
    const roll = this.#random.below(100);
    if (roll < 6) {
      this.#moveReference(state);
      return 0;
    }
    if (roll < 50) return this.#makerAdd(state, timeMs, sink);
    if (roll < 80) return this.#cancel(state, timeMs, sink);
    return this.#taker(state, timeMs, sink);
  }

  #moveReference(state: SymbolState): void {
    const random = this.#random;
    const step = 1 + random.below(state.symbol.bandTicks * 3);
    const floor = 100 * state.symbol.bandTicks + 100;
    state.refTick = Math.max(floor, state.refTick + (random.percent(50) ? step : -step));
  }

  #makerAdd(state: SymbolState, timeMs: number, sink: MarketSink): number {
    const random = this.#random;
    const book = state.book;
    const isBid = random.percent(50);
    const distance = this.#distance(state.symbol);
    let tick: number;
    let side: BookSide;
    if (isBid) {
      side = book.bids;
      tick = Math.max(1, state.refTick - distance);
      const ask = book.asks.bestTick();
      // A resting bid must stay below the best ask, or the book would cross.
      if (ask !== 0 && tick >= ask) tick = ask - 1;
    } else {
      side = book.asks;
      tick = state.refTick + distance;
      const bid = book.bids.bestTick();
      if (bid !== 0 && tick <= bid) tick = bid + 1;
    }
    const qty = side.qtyAt(tick) + this.#size(state.symbol);
    let emitted = this.#setLevel(state, side, tick, qty, "add", timeMs, sink);
    if (side.levelCount > this.#levelsMax) {
      const farthest = side.tickAtRank(side.levelCount - 1);
      emitted += this.#setLevel(state, side, farthest, 0, "trim", timeMs, sink);
    }
    return emitted;
  }

  #cancel(state: SymbolState, timeMs: number, sink: MarketSink): number {
    const random = this.#random;
    const side = random.percent(50) ? state.book.bids : state.book.asks;
    // Below the target depth most cancels become adds, which keeps books near their size.
    if (
      side.levelCount <= LEVELS_MIN || (side.levelCount < this.#levelsTarget && random.percent(70))
    ) {
      return this.#makerAdd(state, timeMs, sink);
    }
    const count = side.levelCount;
    const rank = random.percent(60) ? random.below(Math.min(count, 10)) : random.below(count);
    const tick = side.tickAtRank(rank);
    const previous = side.qtyAt(tick);
    const next = random.percent(40) ? 0 : Math.max(0, previous - this.#size(state.symbol));
    return this.#setLevel(state, side, tick, next, "cancel", timeMs, sink);
  }

  #taker(state: SymbolState, timeMs: number, sink: MarketSink): number {
    const random = this.#random;
    const book = state.book;
    const bid = book.bids.bestTick();
    const ask = book.asks.bestTick();
    // Takers lean towards the reference price, which is what drags the book along the walk.
    const buyPercent = state.refTick > ask ? 75 : state.refTick < bid ? 25 : 50;
    const buy = random.percent(buyPercent);
    const side = buy ? book.asks : book.bids;
    let remaining = this.#size(state.symbol) * (1 + random.below(3));
    let emitted = 0;
    let swept = 0;
    state.takerOrderId++;
    while (remaining > 0 && swept < SWEEP_LEVELS_MAX && side.levelCount > LEVELS_MIN) {
      const tick = side.bestTick();
      const level = side.bestQty();
      const fill = Math.min(remaining, level);
      // One level holds several resting orders: split the fill into 1-3 trades.
      const makers = Math.min(fill, 1 + random.below(3));
      const part = Math.floor(fill / makers);
      for (let m = 0; m < makers; m++) {
        const qty = m === makers - 1 ? fill - part * (makers - 1) : part;
        state.tradeId++;
        sink({
          kind: "trade",
          symbolIndex: state.symbol.index,
          tradeId: state.tradeId,
          takerOrderId: state.takerOrderId,
          tick,
          qtySteps: qty,
          takerSide: buy ? "buy" : "sell",
          timeMs,
        });
        emitted++;
      }
      emitted += this.#setLevel(state, side, tick, level - fill, "fill", timeMs, sink);
      remaining -= fill;
      swept++;
    }
    return emitted;
  }

  #setLevel(
    state: SymbolState,
    side: BookSide,
    tick: number,
    qtySteps: number,
    reason: LevelChangeReason,
    timeMs: number,
    sink: MarketSink,
  ): number {
    const previous = side.set(tick, qtySteps);
    state.book.updateId++;
    const sideName: BookSideName = side.side;
    sink({
      kind: "level",
      symbolIndex: state.symbol.index,
      updateId: state.book.updateId,
      side: sideName,
      tick,
      qtySteps,
      prevQtySteps: previous,
      reason,
      timeMs,
    });
    return 1;
  }

  /** Distance in ticks from the reference price for a new maker order: mostly close. */
  #distance(symbol: MarketSymbol): number {
    const random = this.#random;
    const roll = random.below(100);
    if (roll < 55) return 1 + random.below(3);
    if (roll < 85) return 1 + random.below(symbol.bandTicks * 8);
    return 1 + random.below(symbol.bandTicks * 100);
  }

  /** An order size in steps: mostly around the typical size, with a fat tail. */
  #size(symbol: MarketSymbol): number {
    const random = this.#random;
    const typical = symbol.typicalSteps;
    const roll = random.below(100);
    if (roll < 50) return 1 + random.below(typical);
    if (roll < 85) return typical * (1 + random.below(5));
    if (roll < 97) return typical * (5 + random.below(20));
    return typical * (25 + random.below(100));
  }
}
