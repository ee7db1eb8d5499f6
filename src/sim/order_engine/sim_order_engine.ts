/**
 * The simulators' shared, exchange-neutral matching engine. Orders take liquidity from the
 * public simulated book without consuming it (the book belongs to the market generator), rest
 * when they do not fill, and fill as maker when a public trade print crosses them or when a test
 * uses the `fillResting` knob. Each exchange simulator wraps it with its own wire protocol.
 *
 * All amounts are exact: decimal strings at the edges, `bigint` atoms (10^-8) inside. Strings
 * the engine produces are in minimal form (`"0.5"`, `"100"`, `"0"`).
 *
 * @module
 */

import type {
  SimBookLevel,
  SimBookSource,
  SimCancelResult,
  SimEndReason,
  SimInstrument,
  SimOrder,
  SimOrderEvent,
  SimOrderInput,
  SimOrderListener,
  SimOrderRef,
  SimOrderState,
  SimOrderType,
  SimPlaceResult,
  SimRejectReason,
  SimSide,
  SimTimeInForce,
} from "./sim_order_types.ts";
import { formatAtomsMinimal, mulAtomsCeil, mulAtomsFloor, parseAtoms } from "./sim_atoms.ts";

/** Options of {@linkcode SimOrderEngine}. */
export interface SimOrderEngineOptions {
  /** Tradable instruments and their filters. */
  instruments: SimInstrument[];
  /** Read-only public book (the market generator's). */
  book: SimBookSource;
  /** Clock in ms (default `Date.now`). */
  clock?: () => number;
  /** Starting balances of every account, per asset, e.g. `{USDT: "1000000", BTC: "100"}`. */
  initialBalances?: Record<string, string>;
  /** Fee as a fraction of the quote amount of each fill (default `"0.001"`). */
  feeRate?: string;
  /** Closed orders kept per account for queries (default 10_000; oldest evicted first). */
  closedOrdersMax?: number;
}

/** Most public book levels one taker order walks. */
export const SIM_TAKE_LEVELS_MAX = 1000;

const CLOSED_ORDERS_MAX_DEFAULT = 10_000;
const FEE_RATE_DEFAULT = "0.001";

interface Instrument {
  readonly spec: SimInstrument;
  readonly tick: bigint;
  readonly step: bigint;
  readonly minQty: bigint;
  readonly minNotional: bigint;
}

interface Balance {
  free: bigint;
  locked: bigint;
}

/** The engine's mutable order; snapshots of it are what callers see. */
interface LiveOrder {
  readonly orderId: number;
  readonly account: string;
  readonly clientId: string;
  readonly instrument: Instrument;
  readonly side: SimSide;
  readonly orderType: SimOrderType;
  readonly timeInForce: SimTimeInForce;
  readonly postOnly: boolean;
  /** Limit price in atoms; 0 for market orders. */
  readonly price: bigint;
  readonly qty: bigint;
  state: SimOrderState;
  cumQty: bigint;
  cumQuote: bigint;
  endReason: SimEndReason | "";
  readonly createdMs: number;
  updatedMs: number;
  /** Amount still locked for this order (quote for buys, base for sells). */
  locked: bigint;
}

interface Account {
  readonly balances: Map<string, Balance>;
  readonly listeners: Set<SimOrderListener>;
  readonly open: Map<number, LiveOrder>;
  readonly openByClientId: Map<string, LiveOrder>;
  /** Closed orders, oldest first (insertion order of the Map). */
  readonly closed: Map<number, LiveOrder>;
  /** The most recent closed order of each client id still kept. */
  readonly closedByClientId: Map<string, LiveOrder>;
}

interface Fill {
  price: bigint;
  qty: bigint;
}

type Reject = { ok: false; reason: SimRejectReason; detail: string };

/**
 * The matching engine. See the module documentation.
 *
 * @example
 * ```ts
 * const engine = new SimOrderEngine({ instruments, book: new MarketBookSource(market) });
 * engine.subscribe("key", (event) => console.log(event.kind));
 * engine.place({ account: "key", clientId: "a1", symbol: "BTC-USDT", side: "buy",
 *   orderType: "limit", timeInForce: "GTC", postOnly: false, price: "100", qty: "0.1" });
 * ```
 */
export class SimOrderEngine {
  readonly #instruments = new Map<string, Instrument>();
  readonly #book: SimBookSource;
  readonly #clock: () => number;
  readonly #initialBalances: [string, bigint][];
  readonly #feeRate: bigint;
  readonly #closedOrdersMax: number;
  readonly #accounts = new Map<string, Account>();
  /** Resting orders per symbol, in time priority (order ids increase with insertion). */
  readonly #resting = new Map<string, Map<number, LiveOrder>>();
  #lastOrderId = 0;
  #lastTradeId = 0;
  /** Events waiting for delivery; drained at the end of each public operation. */
  readonly #pending: { account: Account; event: SimOrderEvent }[] = [];
  #delivering = false;

  /** An engine with no orders; throws on malformed instruments or options. */
  constructor(opts: SimOrderEngineOptions) {
    for (const spec of opts.instruments) {
      const tick = parseAtoms(spec.tickSize);
      const step = parseAtoms(spec.stepSize);
      const minQty = parseAtoms(spec.minQty);
      const minNotional = parseAtoms(spec.minNotional);
      if (
        tick === undefined || tick === 0n || step === undefined || step === 0n ||
        minQty === undefined || minNotional === undefined
      ) {
        throw new RangeError(
          `instrument ${spec.symbol}: expected positive tickSize/stepSize and decimal ` +
            `minQty/minNotional with at most 8 fraction digits, found ${JSON.stringify(spec)}`,
        );
      }
      if (this.#instruments.has(spec.symbol)) {
        throw new RangeError(`instruments: expected unique symbols, found ${spec.symbol} twice`);
      }
      this.#instruments.set(spec.symbol, { spec: { ...spec }, tick, step, minQty, minNotional });
      this.#resting.set(spec.symbol, new Map());
    }
    this.#book = opts.book;
    this.#clock = opts.clock ?? Date.now;
    this.#initialBalances = Object.entries(opts.initialBalances ?? {}).map(([asset, text]) => {
      const atoms = parseAtoms(text);
      if (atoms === undefined) {
        throw new RangeError(
          `initialBalances.${asset}: expected a non-negative decimal, found ${
            JSON.stringify(text)
          }`,
        );
      }
      return [asset, atoms];
    });
    const feeRate = parseAtoms(opts.feeRate ?? FEE_RATE_DEFAULT);
    if (feeRate === undefined) {
      throw new RangeError(
        `feeRate: expected a non-negative decimal, found ${JSON.stringify(opts.feeRate)}`,
      );
    }
    this.#feeRate = feeRate;
    const closedOrdersMax = opts.closedOrdersMax ?? CLOSED_ORDERS_MAX_DEFAULT;
    if (!(Number.isSafeInteger(closedOrdersMax) && closedOrdersMax >= 0)) {
      throw new RangeError(
        `closedOrdersMax: expected a non-negative integer, found ${closedOrdersMax}`,
      );
    }
    this.#closedOrdersMax = closedOrdersMax;
  }

  /** The instrument named `symbol` (a copy), or undefined. */
  instrument(symbol: string): SimInstrument | undefined {
    const instrument = this.#instruments.get(symbol);
    return instrument === undefined ? undefined : { ...instrument.spec };
  }

  /**
   * Validates and places an order. Events (`new`, then `trade`s, then `canceled` when an
   * IOC/FOK/market/post-only order ends early) reach the account's listeners before this
   * returns. Rejects emit nothing.
   */
  place(input: SimOrderInput): SimPlaceResult {
    const checked = this.#validate(input);
    if ("ok" in checked) return checked;
    const { instrument, price, qty, fills, lock } = checked;
    const account = this.#account(input.account);
    const now = this.#clock();
    const order: LiveOrder = {
      orderId: ++this.#lastOrderId,
      account: input.account,
      clientId: input.clientId,
      instrument,
      side: input.side,
      orderType: input.orderType,
      timeInForce: input.timeInForce,
      postOnly: input.postOnly,
      price,
      qty,
      state: "new",
      cumQty: 0n,
      cumQuote: 0n,
      endReason: "",
      createdMs: now,
      updatedMs: now,
      locked: lock,
    };
    const balance = this.#balance(account, this.#lockAsset(order));
    balance.free -= lock;
    balance.locked += lock;
    account.open.set(order.orderId, order);
    account.openByClientId.set(order.clientId, order);
    this.#emit(account, { kind: "new", order: snapshot(order) });

    const filledQty = fills.reduce((sum, fill) => sum + fill.qty, 0n);
    if (order.postOnly && fills.length > 0) {
      this.#close(account, order, "canceled", "post_only_would_take");
    } else if (order.timeInForce === "FOK" && filledQty < qty) {
      this.#close(account, order, "canceled", "fok_unfilled");
    } else {
      for (const fill of fills) this.#trade(account, order, fill.price, fill.qty, false);
      if (order.cumQty === order.qty) {
        // #trade closed it as filled.
      } else if (order.orderType === "market" || order.timeInForce !== "GTC") {
        this.#close(account, order, "canceled", "ioc_remainder");
      } else {
        this.#resting.get(instrument.spec.symbol)!.set(order.orderId, order);
      }
    }
    this.#deliver();
    return { ok: true, order: snapshot(order) };
  }

  /** Cancels an open order (emits `canceled` with endReason `user`). */
  cancel(account: string, ref: SimOrderRef): SimCancelResult {
    const state = this.#accounts.get(account);
    const order = state === undefined ? undefined : findOpen(state, ref);
    if (state === undefined || order === undefined) {
      return { ok: false, reason: "unknown_order", detail: unknownDetail(state, ref) };
    }
    this.#close(state, order, "canceled", "user");
    this.#deliver();
    return { ok: true, order: snapshot(order) };
  }

  /** The account's order by ref: its open order first, then the most recent kept closed one. */
  get(account: string, ref: SimOrderRef): SimOrder | undefined {
    const state = this.#accounts.get(account);
    if (state === undefined) return undefined;
    const order = findOpen(state, ref) ?? findClosed(state, ref);
    return order === undefined ? undefined : snapshot(order);
  }

  /** The account's open orders (optionally of one symbol), oldest first. */
  openOrders(account: string, symbol?: string): SimOrder[] {
    const state = this.#accounts.get(account);
    if (state === undefined) return [];
    const out: SimOrder[] = [];
    for (const order of state.open.values()) {
      if (symbol === undefined || order.instrument.spec.symbol === symbol) {
        out.push(snapshot(order));
      }
    }
    return out;
  }

  /**
   * A public trade printed at `price` for `qty`: resting buys priced at or above it and resting
   * sells priced at or below it fill as maker at their own price, in time priority, each side
   * up to `qty` in total. Throws on malformed decimals.
   */
  onMarketTrade(symbol: string, price: string, qty: string): void {
    const priceAtoms = requireAtoms("price", price);
    const qtyAtoms = requireAtoms("qty", qty);
    const resting = this.#resting.get(symbol);
    if (resting === undefined) return;
    let buyLeft = qtyAtoms;
    let sellLeft = qtyAtoms;
    // Copy first: fills remove orders from the map while we walk it.
    for (const order of [...resting.values()]) {
      if (buyLeft === 0n && sellLeft === 0n) break;
      if (order.side === "buy" && order.price >= priceAtoms && buyLeft > 0n) {
        const take = min(buyLeft, order.qty - order.cumQty);
        buyLeft -= take;
        this.#trade(this.#accounts.get(order.account)!, order, order.price, take, true);
      } else if (order.side === "sell" && order.price <= priceAtoms && sellLeft > 0n) {
        const take = min(sellLeft, order.qty - order.cumQty);
        sellLeft -= take;
        this.#trade(this.#accounts.get(order.account)!, order, order.price, take, true);
      }
    }
    this.#deliver();
  }

  /**
   * Test knob: fills an open order as maker for up to `qty` (default: all that is left) at
   * `price` (default: the order's own price). Returns the order after, or undefined when no
   * open order matches. Throws on malformed decimals.
   */
  fillResting(
    account: string,
    ref: SimOrderRef,
    qty?: string,
    price?: string,
  ): SimOrder | undefined {
    const state = this.#accounts.get(account);
    const order = state === undefined ? undefined : findOpen(state, ref);
    if (state === undefined || order === undefined) return undefined;
    const left = order.qty - order.cumQty;
    const take = qty === undefined ? left : min(left, requireAtoms("qty", qty));
    const at = price === undefined ? order.price : requireAtoms("price", price);
    if (order.side === "buy" ? at > order.price : at < order.price) {
      throw new RangeError(
        `price: expected a price at or better than the ${order.side} limit ${
          formatAtomsMinimal(order.price)
        }, found ${price}`,
      );
    }
    if (take > 0n) this.#trade(state, order, at, take, true);
    this.#deliver();
    return snapshot(order);
  }

  /** Test knob: ends an open order as `expired` (endReason `expired`). */
  expire(account: string, ref: SimOrderRef): SimOrder | undefined {
    const state = this.#accounts.get(account);
    const order = state === undefined ? undefined : findOpen(state, ref);
    if (state === undefined || order === undefined) return undefined;
    this.#close(state, order, "expired", "expired");
    this.#deliver();
    return snapshot(order);
  }

  /** Adds a listener of the account's events; returns the function that removes it. */
  subscribe(account: string, listener: SimOrderListener): () => void {
    const listeners = this.#account(account).listeners;
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  /** The account's balances per asset (every asset it ever held or was given). */
  balances(account: string): Record<string, { free: string; locked: string }> {
    const out: Record<string, { free: string; locked: string }> = {};
    for (const [asset, balance] of this.#account(account).balances) {
      out[asset] = {
        free: formatAtomsMinimal(balance.free),
        locked: formatAtomsMinimal(balance.locked),
      };
    }
    return out;
  }

  // ---- internals ------------------------------------------------------------------------

  #validate(
    input: SimOrderInput,
  ): Reject | {
    instrument: Instrument;
    price: bigint;
    qty: bigint;
    fills: Fill[];
    lock: bigint;
  } {
    const instrument = this.#instruments.get(input.symbol);
    if (instrument === undefined) {
      return reject(
        "unknown_symbol",
        `symbol: expected one of ${[...this.#instruments.keys()].join(", ")}, found ${
          JSON.stringify(input.symbol)
        }`,
      );
    }
    const invalid = invalidParameter(input);
    if (invalid !== "") return reject("invalid_parameter", invalid);
    const spec = instrument.spec;
    const qty = parseAtoms(input.qty)!;
    const isMarket = input.orderType === "market";
    const price = isMarket ? 0n : parseAtoms(input.price)!;
    if (!isMarket && price % instrument.tick !== 0n) {
      return reject(
        "filter_tick_size",
        `price: expected a multiple of tickSize ${spec.tickSize}, found ${input.price}`,
      );
    }
    if (qty % instrument.step !== 0n) {
      return reject(
        "filter_step_size",
        `qty: expected a multiple of stepSize ${spec.stepSize}, found ${input.qty}`,
      );
    }
    if (qty < instrument.minQty) {
      return reject("filter_min_qty", `qty: expected at least ${spec.minQty}, found ${input.qty}`);
    }
    const levels = this.#book.levels(
      spec.symbol,
      input.side === "buy" ? "ask" : "bid",
      SIM_TAKE_LEVELS_MAX,
    );
    const parsedLevels = levels.map(parseLevel);
    // Market orders are valued at the best opposite price; with an empty book there is no
    // price to check against and the order simply ends unfilled.
    const notionalPrice = isMarket ? (parsedLevels[0]?.price ?? -1n) : price;
    if (notionalPrice >= 0n && notionalPrice * qty < instrument.minNotional * 100_000_000n) {
      return reject(
        "filter_min_notional",
        `price × qty: expected at least ${spec.minNotional}, found ${
          formatAtomsMinimal(mulAtomsFloor(notionalPrice, qty))
        }`,
      );
    }
    const account = this.#accounts.get(input.account);
    if (account !== undefined && account.openByClientId.has(input.clientId)) {
      const open = account.openByClientId.get(input.clientId)!;
      return reject(
        "duplicate_client_id",
        `clientId: expected no open order with ${JSON.stringify(input.clientId)}, found ` +
          `order ${open.orderId} (${open.state})`,
      );
    }
    const fills = takeFills(input.side, isMarket ? undefined : price, qty, parsedLevels);
    let lock: bigint;
    let lockAsset: string;
    if (input.side === "sell") {
      lock = qty;
      lockAsset = spec.base;
    } else if (isMarket) {
      lock = 0n;
      for (const fill of fills) {
        const quote = mulAtomsFloor(fill.price, fill.qty);
        lock += quote + mulAtomsFloor(quote, this.#feeRate);
      }
      lockAsset = spec.quote;
    } else {
      // Enough for the whole quantity at the limit price plus the fee on it.
      lock = mulAtomsCeil(mulAtomsCeil(price, qty), 100_000_000n + this.#feeRate);
      lockAsset = spec.quote;
    }
    const free = account === undefined
      ? (this.#initialBalances.find(([asset]) => asset === lockAsset)?.[1] ?? 0n)
      : (account.balances.get(lockAsset)?.free ?? 0n);
    if (free < lock) {
      return reject(
        "insufficient_balance",
        `${lockAsset}: expected a free balance of at least ${formatAtomsMinimal(lock)}, found ${
          formatAtomsMinimal(free)
        }`,
      );
    }
    return { instrument, price, qty, fills, lock };
  }

  #account(name: string): Account {
    let account = this.#accounts.get(name);
    if (account === undefined) {
      account = {
        balances: new Map(),
        listeners: new Set(),
        open: new Map(),
        openByClientId: new Map(),
        closed: new Map(),
        closedByClientId: new Map(),
      };
      for (const [asset, atoms] of this.#initialBalances) {
        account.balances.set(asset, { free: atoms, locked: 0n });
      }
      this.#accounts.set(name, account);
    }
    return account;
  }

  #balance(account: Account, asset: string): Balance {
    let balance = account.balances.get(asset);
    if (balance === undefined) {
      balance = { free: 0n, locked: 0n };
      account.balances.set(asset, balance);
    }
    return balance;
  }

  #lockAsset(order: LiveOrder): string {
    return order.side === "buy" ? order.instrument.spec.quote : order.instrument.spec.base;
  }

  /** Applies one fill: balances, cumulative amounts, state; emits `trade`; closes when full. */
  #trade(account: Account, order: LiveOrder, price: bigint, qty: bigint, maker: boolean): void {
    const left = order.qty - order.cumQty;
    if (!(qty > 0n && qty <= left)) {
      throw new Error(`fill: expected a quantity in (0, ${left}] atoms, found ${qty}`);
    }
    const spec = order.instrument.spec;
    const quote = mulAtomsFloor(price, qty);
    const fee = mulAtomsFloor(quote, this.#feeRate);
    const base = this.#balance(account, spec.base);
    const quoteBalance = this.#balance(account, spec.quote);
    if (order.side === "buy") {
      quoteBalance.locked -= quote + fee;
      order.locked -= quote + fee;
      base.free += qty;
    } else {
      base.locked -= qty;
      order.locked -= qty;
      quoteBalance.free += quote - fee;
    }
    // The buy lock covers the limit price plus fee, so fills can never overdraw it.
    if (order.locked < 0n) {
      throw new Error(
        `order ${order.orderId}: expected a non-negative lock, found ${order.locked}`,
      );
    }
    order.cumQty += qty;
    order.cumQuote += quote;
    order.updatedMs = this.#clock();
    order.state = order.cumQty === order.qty ? "filled" : "partially_filled";
    this.#emit(account, {
      kind: "trade",
      order: snapshot(order),
      tradeId: ++this.#lastTradeId,
      qty: formatAtomsMinimal(qty),
      price: formatAtomsMinimal(price),
      quote: formatAtomsMinimal(quote),
      fee: formatAtomsMinimal(fee),
      feeAsset: spec.quote,
      maker,
    });
    if (order.state === "filled") this.#retire(account, order);
  }

  /** Ends an open order early (`canceled` or `expired`) and emits the matching event. */
  #close(
    account: Account,
    order: LiveOrder,
    state: "canceled" | "expired",
    reason: SimEndReason,
  ): void {
    order.state = state;
    order.endReason = reason;
    order.updatedMs = this.#clock();
    this.#retire(account, order);
    this.#emit(
      account,
      state === "canceled"
        ? { kind: "canceled", order: snapshot(order) }
        : { kind: "expired", order: snapshot(order) },
    );
  }

  /** Moves a finished order to the closed list, releases its lock, evicts the oldest closed. */
  #retire(account: Account, order: LiveOrder): void {
    const balance = this.#balance(account, this.#lockAsset(order));
    balance.locked -= order.locked;
    balance.free += order.locked;
    order.locked = 0n;
    account.open.delete(order.orderId);
    if (account.openByClientId.get(order.clientId) === order) {
      account.openByClientId.delete(order.clientId);
    }
    this.#resting.get(order.instrument.spec.symbol)!.delete(order.orderId);
    account.closed.set(order.orderId, order);
    account.closedByClientId.set(order.clientId, order);
    while (account.closed.size > this.#closedOrdersMax) {
      const oldest: LiveOrder = account.closed.values().next().value!;
      account.closed.delete(oldest.orderId);
      // FIFO eviction: a newer order with the same client id is never evicted before this one.
      if (account.closedByClientId.get(oldest.clientId) === oldest) {
        account.closedByClientId.delete(oldest.clientId);
      }
    }
  }

  #emit(account: Account, event: SimOrderEvent): void {
    this.#pending.push({ account, event });
  }

  /**
   * Delivers queued events in order. State is complete before any listener runs, and a
   * listener that calls back into the engine only appends to the queue (order is kept).
   * The first listener error is rethrown after every event went out.
   */
  #deliver(): void {
    if (this.#delivering) return;
    this.#delivering = true;
    let failure: { error: unknown } | undefined;
    try {
      for (let i = 0; i < this.#pending.length; i++) {
        const { account, event } = this.#pending[i];
        for (const listener of [...account.listeners]) {
          try {
            listener(event);
          } catch (error) {
            failure ??= { error };
          }
        }
      }
    } finally {
      this.#pending.length = 0;
      this.#delivering = false;
    }
    if (failure !== undefined) throw failure.error;
  }
}

function reject(reason: SimRejectReason, detail: string): Reject {
  return { ok: false, reason, detail };
}

/** Why the input's own fields are invalid ("" when they are fine). */
function invalidParameter(input: SimOrderInput): string {
  if (typeof input.clientId !== "string" || input.clientId === "") {
    return `clientId: expected a non-empty string, found ${JSON.stringify(input.clientId)}`;
  }
  if (input.side !== "buy" && input.side !== "sell") {
    return `side: expected buy or sell, found ${JSON.stringify(input.side)}`;
  }
  if (input.orderType !== "limit" && input.orderType !== "market") {
    return `orderType: expected limit or market, found ${JSON.stringify(input.orderType)}`;
  }
  const tif = input.timeInForce;
  if (tif !== "GTC" && tif !== "IOC" && tif !== "FOK") {
    return `timeInForce: expected GTC, IOC or FOK, found ${JSON.stringify(tif)}`;
  }
  const qty = parseAtoms(input.qty);
  if (qty === undefined || qty === 0n) {
    return `qty: expected a positive decimal with at most 8 fraction digits, found ${
      JSON.stringify(input.qty)
    }`;
  }
  if (input.orderType === "market") {
    if (input.price !== "") {
      return `price: expected "" for a market order, found ${JSON.stringify(input.price)}`;
    }
    if (input.postOnly) return "postOnly: expected false for a market order, found true";
    return "";
  }
  const price = parseAtoms(input.price);
  if (price === undefined || price === 0n) {
    return `price: expected a positive decimal with at most 8 fraction digits for a limit ` +
      `order, found ${JSON.stringify(input.price)}`;
  }
  return "";
}

function parseLevel(level: SimBookLevel): Fill {
  const price = parseAtoms(level.price);
  const qty = parseAtoms(level.qty);
  if (price === undefined || qty === undefined) {
    throw new RangeError(
      `book level: expected decimal price and qty, found ${JSON.stringify(level)}`,
    );
  }
  return { price, qty };
}

/**
 * The taker fills an order would get from `levels` (best first): one per level, each taking
 * min(level qty, remaining), only at prices at or better than `limit` (undefined: market).
 */
function takeFills(side: SimSide, limit: bigint | undefined, qty: bigint, levels: Fill[]): Fill[] {
  const fills: Fill[] = [];
  let left = qty;
  for (const level of levels) {
    if (left === 0n) break;
    if (limit !== undefined && (side === "buy" ? level.price > limit : level.price < limit)) {
      break;
    }
    if (level.qty === 0n) continue;
    const take = min(level.qty, left);
    fills.push({ price: level.price, qty: take });
    left -= take;
  }
  return fills;
}

function findOpen(account: Account, ref: SimOrderRef): LiveOrder | undefined {
  return "clientId" in ref
    ? account.openByClientId.get(ref.clientId)
    : account.open.get(ref.orderId);
}

function findClosed(account: Account, ref: SimOrderRef): LiveOrder | undefined {
  return "clientId" in ref
    ? account.closedByClientId.get(ref.clientId)
    : account.closed.get(ref.orderId);
}

function unknownDetail(account: Account | undefined, ref: SimOrderRef): string {
  const what = "clientId" in ref
    ? `clientId ${JSON.stringify(ref.clientId)}`
    : `orderId ${ref.orderId}`;
  const closed = account === undefined ? undefined : findClosed(account, ref);
  return closed === undefined
    ? `expected an open order with ${what}, found none`
    : `expected an open order with ${what}, found it already ${closed.state}`;
}

function requireAtoms(name: string, text: string): bigint {
  const atoms = parseAtoms(text);
  if (atoms === undefined) {
    throw new RangeError(
      `${name}: expected a non-negative decimal with at most 8 fraction digits, found ${
        JSON.stringify(text)
      }`,
    );
  }
  return atoms;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function snapshot(order: LiveOrder): SimOrder {
  return {
    orderId: order.orderId,
    account: order.account,
    clientId: order.clientId,
    symbol: order.instrument.spec.symbol,
    side: order.side,
    orderType: order.orderType,
    timeInForce: order.timeInForce,
    postOnly: order.postOnly,
    price: order.orderType === "market" ? "" : formatAtomsMinimal(order.price),
    qty: formatAtomsMinimal(order.qty),
    state: order.state,
    cumQty: formatAtomsMinimal(order.cumQty),
    cumQuote: formatAtomsMinimal(order.cumQuote),
    endReason: order.endReason,
    createdMs: order.createdMs,
    updatedMs: order.updatedMs,
  };
}
