/**
 * The Binance simulator's order side, transport-neutral: it owns the shared matching engine,
 * validates Binance order parameters (§5.1-§5.4) and maps engine results onto Binance answers
 * and error codes, turns engine events into `executionReport` + `outboundAccountPosition`
 * events for the subscribed WS API sessions, counts requests for tests and offers the admin
 * knobs (fill, expire). REST (`rest_orders.ts`) and the WS API (`ws_api_session.ts`) parse and
 * authenticate, then call {@linkcode BinanceSimOrders.execute}.
 *
 * Differences from Binance: LIMIT, LIMIT_MAKER and MARKET (by `quantity`) only; a rejected
 * LIMIT_MAKER stays queryable as EXPIRED; no order-count rate limits; STP fields constant.
 *
 * @module
 */

import {
  parseAtoms,
  type SimBookSource,
  type SimInstrument,
  type SimOrder,
  SimOrderEngine,
  type SimOrderEvent,
  type SimRejectReason,
} from "../../order_engine/mod.ts";
import { BinanceSimOrderFaults } from "./order_faults.ts";
import {
  accountPosition,
  cancelResponse,
  dec8,
  executionReport,
  placeResponse,
  queryResponse,
  type WireFill,
  type WireSymbol,
} from "./order_wire.ts";
import { BinanceApiError, type BinanceSimAccount, mandatory } from "./request_auth.ts";

/** One instrument as the simulator lists it in exchangeInfo. */
export interface BinanceSimInstrument {
  /** `BTCUSDT`. */
  readonly exchange: string;
  readonly base: string;
  readonly quote: string;
  /** exchangeInfo filter values (decimal strings). */
  readonly tickSize: string;
  readonly minPrice: string;
  readonly maxPrice: string;
  readonly stepSize: string;
  readonly minQty: string;
  readonly maxQty: string;
  readonly minNotional: string;
}

/** Options of {@linkcode BinanceSimOrders}. */
export interface BinanceSimOrdersOptions {
  readonly accounts: readonly BinanceSimAccount[];
  readonly instruments: readonly BinanceSimInstrument[];
  readonly book: SimBookSource;
  /** Wall clock of the simulator (without the fault skew), ms. */
  readonly clock: () => number;
  /** Starting balances of every account. */
  readonly initialBalances: Record<string, string>;
  /** Closes WS API connections for the `dropWsApi` fault; returns how many. */
  readonly dropWsApi: (abrupt: boolean) => number;
}

/** The order requests both transports serve. */
export type OrderMethod = "order.place" | "order.cancel" | "order.status" | "openOrders.status";

/** A user-data event for one account, ready to wrap and send. */
export type UserEvent = Record<string, unknown>;

/** The result of one request: answer plus the events it caused (not yet delivered). */
export interface OrderOutcome {
  /** 200 or the error's status. */
  status: number;
  /** The result body, or `{code,msg}`. */
  body: unknown;
  /** Events caused by the request, in order; deliver with {@linkcode BinanceSimOrders.deliver}. */
  events: { account: string; event: UserEvent }[];
  /** Unknown-status fault for this answer (place only), or null. */
  unknown: "http5xx" | "code1007" | "drop" | null;
  /** Send the events before the answer (fault). */
  reportFirst: boolean;
  /** Hold the answer back this long (fault), ms. */
  delayMs: number;
}

/** `GET /_sim/orders/stats`. */
export interface BinanceSimOrderStats {
  place_requests: number;
  accepted: number;
  rejected: number;
  place_requests_by_client_id: Record<string, number>;
}

/** Subscriber of one account's user-data events. */
export type UserEventSink = (event: UserEvent) => void;

const CLIENT_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;
const DECIMAL_RE = /^([0-9]{1,20})(\.[0-9]{1,20})?$/;
const RESP_TYPES = new Set(["ACK", "RESULT", "FULL"]);

/** See the module documentation. */
export class BinanceSimOrders {
  /** Fault knobs. */
  readonly faults: BinanceSimOrderFaults;
  /** The matching engine (tests may read it). */
  readonly engine: SimOrderEngine;
  /** Accepted key pairs by API key. */
  readonly accounts: ReadonlyMap<string, BinanceSimAccount>;
  readonly #clock: () => number;
  readonly #byExchange = new Map<string, BinanceSimInstrument>();
  readonly #byCanonical = new Map<string, BinanceSimInstrument>();
  readonly #sinks = new Map<string, Set<UserEventSink>>();
  readonly #unsubscribe: (() => void)[] = [];
  /** Events captured while a request runs; null outside requests (then delivered at once). */
  #capture: { account: string; event: UserEvent }[] | null = null;
  /** Trades captured for a FULL response. */
  #fills: WireFill[] = [];
  /** Cancel client id of an order being canceled by the user. */
  #cancelIds = new Map<number, string>();
  #executionId = 0;
  #generatedIds = 0;
  #placeRequests = 0;
  #accepted = 0;
  #rejected = 0;
  readonly #placeByClientId = new Map<string, number>();

  /** The order side over `options.book`. */
  constructor(options: BinanceSimOrdersOptions) {
    if (options.accounts.length === 0) {
      throw new RangeError("accounts: expected at least one account, found none");
    }
    this.accounts = new Map(options.accounts.map((a) => [a.apiKey, a]));
    this.#clock = options.clock;
    const specs: SimInstrument[] = [];
    for (const instrument of options.instruments) {
      const canonical = `${instrument.base}-${instrument.quote}`;
      this.#byExchange.set(instrument.exchange, instrument);
      this.#byCanonical.set(canonical, instrument);
      specs.push({
        symbol: canonical,
        base: instrument.base,
        quote: instrument.quote,
        tickSize: instrument.tickSize,
        stepSize: instrument.stepSize,
        minQty: instrument.minQty,
        minNotional: instrument.minNotional,
      });
    }
    this.engine = new SimOrderEngine({
      instruments: specs,
      book: options.book,
      clock: options.clock,
      initialBalances: options.initialBalances,
    });
    this.faults = new BinanceSimOrderFaults({ dropWsApi: options.dropWsApi });
    for (const account of this.accounts.keys()) {
      this.#unsubscribe.push(
        this.engine.subscribe(account, (event) => this.#onEngineEvent(account, event)),
      );
    }
  }

  /** The server clock: the simulator's clock plus the fault skew. */
  serverTimeMs(): number {
    return this.#clock() + this.faults.clockSkewMs;
  }

  /** Counts a place request as it arrives (before any check), for {@linkcode stats}. */
  countPlaceRequest(clientId: string | undefined): void {
    this.#placeRequests++;
    if (clientId !== undefined && clientId !== "") {
      this.#placeByClientId.set(clientId, (this.#placeByClientId.get(clientId) ?? 0) + 1);
    }
  }

  /** Request counters. */
  stats(): BinanceSimOrderStats {
    return {
      place_requests: this.#placeRequests,
      accepted: this.#accepted,
      rejected: this.#rejected,
      place_requests_by_client_id: Object.fromEntries(this.#placeByClientId),
    };
  }

  /** Subscribes `sink` to `account`'s user-data events; returns the unsubscribe function. */
  subscribe(account: string, sink: UserEventSink): () => void {
    let sinks = this.#sinks.get(account);
    if (sinks === undefined) {
      sinks = new Set();
      this.#sinks.set(account, sinks);
    }
    sinks.add(sink);
    return () => {
      sinks.delete(sink);
    };
  }

  /** Delivers captured events to the subscribed sinks (repeating reports when the fault says). */
  deliver(events: readonly { account: string; event: UserEvent }[]): void {
    for (const { account, event } of events) {
      const sinks = this.#sinks.get(account);
      if (sinks === undefined) continue;
      const times = event.e === "executionReport" && this.faults.takeRepeat() ? 2 : 1;
      for (let i = 0; i < times; i++) {
        for (const sink of [...sinks]) sink(event);
      }
    }
  }

  /**
   * Runs one authenticated request of `account` with string `params`. Never throws for a
   * Binance-level refusal: it becomes the outcome's status and `{code,msg}` body.
   */
  execute(
    method: OrderMethod,
    request: { account: string; params: ReadonlyMap<string, string> },
  ): OrderOutcome {
    const { account, params } = request;
    const outcome: OrderOutcome = {
      status: 200,
      body: null,
      events: [],
      unknown: null,
      reportFirst: false,
      delayMs: 0,
    };
    this.#capture = [];
    this.#fills = [];
    try {
      switch (method) {
        case "order.place":
          outcome.body = this.#place(account, params);
          outcome.unknown = this.faults.takeUnknownStatus();
          break;
        case "order.cancel":
          outcome.body = this.#cancel(account, params);
          break;
        case "order.status":
          outcome.body = this.#status(account, params);
          break;
        case "openOrders.status":
          outcome.body = this.#openOrders(account, params);
          break;
      }
    } catch (err) {
      if (!(err instanceof BinanceApiError)) throw err;
      outcome.status = err.status;
      outcome.body = { code: err.code, msg: err.msg };
    } finally {
      outcome.events = this.#capture;
      this.#capture = null;
    }
    if (method === "order.place") {
      if (outcome.status === 200) this.#accepted++;
      else this.#rejected++;
    }
    if (method === "order.place" || method === "order.cancel") {
      outcome.reportFirst = this.faults.takeReportFirst();
      outcome.delayMs = this.faults.takeResponseDelayMs();
    }
    return outcome;
  }

  /** Admin: fills an open order (all that is left, or `qty`) at `price` (default its own). */
  fill(
    clientId: string,
    options: { qty?: string; price?: string; account?: string } = {},
  ): SimOrder | undefined {
    return this.engine.fillResting(
      options.account ?? this.#defaultAccount(),
      { clientId },
      options.qty,
      options.price,
    );
  }

  /** Admin: expires an open order. */
  expire(clientId: string, options: { account?: string } = {}): SimOrder | undefined {
    return this.engine.expire(options.account ?? this.#defaultAccount(), { clientId });
  }

  /** A public trade of exchange symbol `symbol` (resting orders it crosses fill as maker). */
  onMarketTrade(symbol: string, price: string, qty: string): void {
    const instrument = this.#byExchange.get(symbol);
    if (instrument === undefined) return;
    this.engine.onMarketTrade(`${instrument.base}-${instrument.quote}`, price, qty);
  }

  /** Detaches from the engine. */
  close(): void {
    for (const off of this.#unsubscribe) off();
    this.#sinks.clear();
  }

  // ---- requests ----------------------------------------------------------------------------

  #place(account: string, params: ReadonlyMap<string, string>): unknown {
    const instrument = this.#instrument(params);
    const side = params.get("side");
    if (side !== "BUY" && side !== "SELL") {
      throw side === undefined
        ? mandatory("side")
        : new BinanceApiError(400, -1117, "Invalid side.");
    }
    const type = params.get("type");
    if (type === undefined) throw mandatory("type");
    if (type !== "LIMIT" && type !== "MARKET" && type !== "LIMIT_MAKER") {
      throw new BinanceApiError(400, -1116, "Invalid orderType.");
    }
    const tif = params.get("timeInForce");
    if (type === "LIMIT") {
      if (tif === undefined) throw mandatory("timeInForce");
      if (tif !== "GTC" && tif !== "IOC" && tif !== "FOK") {
        throw new BinanceApiError(400, -1115, "Invalid timeInForce.");
      }
    } else if (tif !== undefined) {
      throw new BinanceApiError(400, -1106, "Parameter 'timeInForce' sent when not required.");
    }
    const quantity = decimalParam(params, "quantity", true)!;
    const price = decimalParam(params, "price", type !== "MARKET");
    if (type === "MARKET" && price !== undefined) {
      throw new BinanceApiError(400, -1106, "Parameter 'price' sent when not required.");
    }
    let clientId = params.get("newClientOrderId");
    if (clientId !== undefined && !CLIENT_ID_RE.test(clientId)) {
      throw illegal("newClientOrderId", "^[\\.A-Z\\:/a-z0-9_-]{1,36}$");
    }
    clientId ??= this.#generateClientId();
    const respType = params.get("newOrderRespType") ?? (type === "LIMIT_MAKER" ? "ACK" : "FULL");
    if (!RESP_TYPES.has(respType)) throw illegal("newOrderRespType", "ACK|RESULT|FULL");
    this.#checkBounds(instrument, price, quantity);
    const events = this.#capture!;
    const result = this.engine.place({
      account,
      clientId,
      symbol: `${instrument.base}-${instrument.quote}`,
      side: side === "BUY" ? "buy" : "sell",
      orderType: type === "MARKET" ? "market" : "limit",
      timeInForce: type === "LIMIT"
        ? tif as "GTC" | "IOC" | "FOK"
        : type === "MARKET"
        ? "IOC"
        : "GTC",
      postOnly: type === "LIMIT_MAKER",
      price: price ?? "",
      qty: quantity,
    });
    if (!result.ok) throw rejectError(result.reason);
    if (result.order.endReason === "post_only_would_take") {
      // Binance refuses a taking LIMIT_MAKER at the API: no executionReport at all.
      events.length = 0;
      throw new BinanceApiError(400, -2010, "Order would immediately match and take.");
    }
    return placeResponse(result.order, {
      symbol: wireSymbol(instrument),
      respType,
      transactTimeMs: result.order.createdMs,
      fills: this.#fills,
    });
  }

  #cancel(account: string, params: ReadonlyMap<string, string>): unknown {
    const instrument = this.#instrument(params);
    const ref = orderRef(params);
    let cancelId = params.get("newClientOrderId");
    if (cancelId !== undefined && !CLIENT_ID_RE.test(cancelId)) {
      throw illegal("newClientOrderId", "^[\\.A-Z\\:/a-z0-9_-]{1,36}$");
    }
    cancelId ??= this.#generateClientId();
    const open = this.engine.get(account, ref);
    if (
      open === undefined || open.symbol !== `${instrument.base}-${instrument.quote}` ||
      !(open.state === "new" || open.state === "partially_filled") ||
      !matchesBoth(open, params)
    ) {
      throw new BinanceApiError(400, -2011, "Unknown order sent.");
    }
    this.#cancelIds.set(open.orderId, cancelId);
    try {
      const result = this.engine.cancel(account, { orderId: open.orderId });
      if (!result.ok) throw new BinanceApiError(400, -2011, "Unknown order sent.");
      return cancelResponse(result.order, {
        symbol: wireSymbol(instrument),
        cancelClientId: cancelId,
        transactTimeMs: result.order.updatedMs,
      });
    } finally {
      this.#cancelIds.delete(open.orderId);
    }
  }

  #status(account: string, params: ReadonlyMap<string, string>): unknown {
    const instrument = this.#instrument(params);
    const order = this.engine.get(account, orderRef(params));
    if (
      order === undefined || order.symbol !== `${instrument.base}-${instrument.quote}` ||
      !matchesBoth(order, params)
    ) {
      throw new BinanceApiError(400, -2013, "Order does not exist.");
    }
    return queryResponse(order, wireSymbol(instrument));
  }

  #openOrders(account: string, params: ReadonlyMap<string, string>): unknown {
    const symbol = params.has("symbol") ? this.#instrument(params) : undefined;
    const orders = this.engine.openOrders(
      account,
      symbol === undefined ? undefined : `${symbol.base}-${symbol.quote}`,
    );
    return orders.map((o) => queryResponse(o, wireSymbol(this.#byCanonical.get(o.symbol)!)));
  }

  #instrument(params: ReadonlyMap<string, string>): BinanceSimInstrument {
    const symbol = params.get("symbol");
    if (symbol === undefined || symbol === "") throw mandatory("symbol");
    const instrument = this.#byExchange.get(symbol);
    if (instrument === undefined) throw new BinanceApiError(400, -1121, "Invalid symbol.");
    return instrument;
  }

  /** PRICE_FILTER min/max and LOT_SIZE max (the engine checks tick, step, minQty, notional). */
  #checkBounds(instrument: BinanceSimInstrument, price: string | undefined, qty: string): void {
    if (price !== undefined) {
      const p = parseAtoms(price);
      const min = parseAtoms(instrument.minPrice) ?? 0n;
      const max = parseAtoms(instrument.maxPrice) ?? 0n;
      if (p === undefined || p < min || (max > 0n && p > max)) {
        throw new BinanceApiError(400, -1013, "Filter failure: PRICE_FILTER");
      }
    }
    const q = parseAtoms(qty);
    const maxQty = parseAtoms(instrument.maxQty) ?? 0n;
    if (q === undefined || (maxQty > 0n && q > maxQty)) {
      throw new BinanceApiError(400, -1013, "Filter failure: LOT_SIZE");
    }
  }

  #generateClientId(): string {
    this.#generatedIds++;
    return `sim${String(this.#generatedIds).padStart(19, "0")}`;
  }

  #defaultAccount(): string {
    return this.accounts.keys().next().value!;
  }

  // ---- engine events -------------------------------------------------------------------

  #onEngineEvent(account: string, event: SimOrderEvent): void {
    const instrument = this.#byCanonical.get(event.order.symbol);
    if (instrument === undefined) return;
    const now = this.serverTimeMs();
    if (event.kind === "trade") {
      this.#fills.push({
        price: dec8(event.price),
        qty: dec8(event.qty),
        commission: dec8(event.fee),
        commissionAsset: event.feeAsset,
        tradeId: event.tradeId,
      });
    }
    const report = executionReport(event, {
      symbol: wireSymbol(instrument),
      eventTimeMs: now,
      executionId: ++this.#executionId,
      cancelClientId: this.#cancelIds.get(event.order.orderId) ?? "",
    });
    const position = accountPosition(this.engine.balances(account), {
      assets: [instrument.base, instrument.quote],
      eventTimeMs: now,
      updateTimeMs: event.order.updatedMs,
    });
    const out = [{ account, event: report }, { account, event: position }];
    if (this.#capture !== null) this.#capture.push(...out);
    else this.deliver(out);
  }
}

function wireSymbol(instrument: BinanceSimInstrument): WireSymbol {
  return { exchange: instrument.exchange, base: instrument.base, quote: instrument.quote };
}

function illegal(name: string, range: string): BinanceApiError {
  return new BinanceApiError(
    400,
    -1100,
    `Illegal characters found in parameter '${name}'; legal range is '${range}'.`,
  );
}

function decimalParam(
  params: ReadonlyMap<string, string>,
  name: string,
  required: boolean,
): string | undefined {
  const value = params.get(name);
  if (value === undefined || value === "") {
    if (required) throw mandatory(name);
    return undefined;
  }
  if (!DECIMAL_RE.test(value)) throw illegal(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$");
  const fraction = value.split(".")[1] ?? "";
  if (fraction.length > 8 && /[1-9]/.test(fraction.slice(8))) {
    throw new BinanceApiError(400, -1111, `Parameter '${name}' has too much precision.`);
  }
  if (/^0*(\.0*)?$/.test(value)) throw illegal(name, "greater than 0");
  return value;
}

function orderRef(params: ReadonlyMap<string, string>): { clientId: string } | { orderId: number } {
  const orderId = params.get("orderId");
  const clientId = params.get("origClientOrderId");
  if (orderId !== undefined && orderId !== "") {
    if (!/^[0-9]{1,18}$/.test(orderId)) throw illegal("orderId", "^[0-9]{1,18}$");
    return { orderId: Number(orderId) };
  }
  if (clientId !== undefined && clientId !== "") return { clientId };
  throw new BinanceApiError(
    400,
    -1102,
    "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
  );
}

/** With both ids sent, the client id must match the order found by id (§5.2). */
function matchesBoth(order: SimOrder, params: ReadonlyMap<string, string>): boolean {
  const clientId = params.get("origClientOrderId");
  return !(params.has("orderId") && clientId !== undefined && clientId !== order.clientId);
}

function rejectError(reason: SimRejectReason): BinanceApiError {
  switch (reason) {
    case "unknown_symbol":
      return new BinanceApiError(400, -1121, "Invalid symbol.");
    case "invalid_parameter":
      return new BinanceApiError(400, -1013, "Invalid quantity.");
    case "filter_tick_size":
      return new BinanceApiError(400, -1013, "Filter failure: PRICE_FILTER");
    case "filter_step_size":
    case "filter_min_qty":
      return new BinanceApiError(400, -1013, "Filter failure: LOT_SIZE");
    case "filter_min_notional":
      return new BinanceApiError(400, -1013, "Filter failure: NOTIONAL");
    case "insufficient_balance":
      return new BinanceApiError(
        400,
        -2010,
        "Account has insufficient balance for requested action.",
      );
    case "duplicate_client_id":
      return new BinanceApiError(400, -2010, "Duplicate order sent.");
  }
}
