/**
 * OrderVenue: what the order gateway needs of one exchange's private (trading) side.
 *
 * Each exchange folder (`src/adapter/<name>/`) provides one implementation that speaks the
 * exchange's own signed protocol (Binance WebSocket API + user-data subscription, OKX login +
 * `order` op + `orders` channel, Kraken token + `add_order` + `executions`). The gateway above
 * it is exchange-neutral: it journals intents, maps consumer ids to venue client ids, checks
 * filters, de-duplicates fills and turns {@linkcode VenueExecUpdate}s into ExecReports.
 *
 * Identity: the gateway gives every order a `venueClientId` it derived itself (letters and digits,
 * at most {@linkcode VENUE_CLIENT_ID_LENGTH_MAX} characters, accepted by all three exchanges).
 * The venue sends it as the exchange's client order id (`newClientOrderId`, `clOrdId`,
 * `cl_ord_id`) and reports every update with it, so the gateway never depends on the exchange's
 * own order id to find an order (which it may not know yet after a timeout).
 *
 * Decimals are exact strings throughout (`"0.00100000"`), in the exchange's precision.
 *
 * @module
 */

/** Longest venue client id the gateway generates (Kraken's free-text limit is 18). */
export const VENUE_CLIENT_ID_LENGTH_MAX = 18;

/** Side of an order. */
export type VenueSide = "buy" | "sell";

/** Order types every venue supports. */
export type VenueOrderType = "limit" | "market";

/** Time in force of a limit order ("" for market orders). */
export type VenueTimeInForce = "GTC" | "IOC" | "FOK" | "";

/** A new order as the gateway hands it to a venue. */
export interface VenueOrder {
  /** The gateway-derived client id (see the module doc). */
  venueClientId: string;
  /** Canonical symbol (`BTC-USDT`). */
  symbol: string;
  side: VenueSide;
  orderType: VenueOrderType;
  timeInForce: VenueTimeInForce;
  /** Limit price; "" for market orders. */
  price: string;
  /** Base quantity. */
  qty: string;
}

/** The trading rules of one instrument, as the exchange publishes them. */
export interface InstrumentRules {
  /** Canonical symbol. */
  symbol: string;
  /** Price increment (`"0.01"`). */
  tickSize: string;
  /** Quantity increment (`"0.00001"`). */
  stepSize: string;
  /** Smallest quantity. */
  minQty: string;
  /** Smallest price × quantity, in the quote asset ("0" when the exchange has none). */
  minNotional: string;
}

/** The answer to a place request. */
export type VenuePlaceResult =
  /** The exchange accepted the request (not necessarily live yet: updates follow). */
  | { kind: "accepted"; exchangeOrderId: string }
  /**
   * The exchange refused it up front; `code` and `text` are the exchange's own (`-2010`
   * "Account has insufficient balance...", `51016` "Duplicated clOrdId", `EOrder:...`).
   */
  | { kind: "rejected"; code: string; text: string };

/** The answer to a cancel request. */
export type VenueCancelResult =
  /** Accepted; the CANCELLED update follows (or already came). */
  | { kind: "accepted" }
  /** Refused by the exchange, e.g. unknown or already closed order. */
  | { kind: "rejected"; code: string; text: string };

/** Exchange-neutral order states (mapped from each exchange's own). */
export type VenueOrderState =
  | "new"
  | "partially_filled"
  | "filled"
  | "canceled"
  | "rejected"
  | "expired";

/** What an exchange says about one order now (from a query or an open-orders listing). */
export interface VenueOrderStatus {
  venueClientId: string;
  exchangeOrderId: string;
  symbol: string;
  state: VenueOrderState;
  /** Cumulative filled base quantity. */
  cumQty: string;
  /** Cumulative quote quantity (price × qty summed); "" when the exchange gives only avgPrice. */
  cumQuote: string;
  /** Average fill price; "" or "0" when nothing filled. */
  avgPrice: string;
  /** Exchange reason for a reject/cancel/expiry, "" when none. */
  reasonCode: string;
  reasonText: string;
  /** Exchange time of the last change, ms since epoch (0 when unknown). */
  updateTsMs: number;
}

/**
 * One order update pushed by the exchange (an executionReport, an `orders` push, an
 * `executions` entry), already normalised. Exactly one fill at most per update.
 */
export interface VenueExecUpdate {
  venueClientId: string;
  exchangeOrderId: string;
  symbol: string;
  state: VenueOrderState;
  /** Cumulative filled base quantity after this update (exact). */
  cumQty: string;
  /** Cumulative quote quantity after this update; "" when unknown. */
  cumQuote: string;
  /** Base quantity of this update's fill; "0" when the update carries no fill. */
  lastQty: string;
  /** Price of this update's fill; "" when no fill. */
  lastPrice: string;
  /** Fee of this fill and its asset ("" when none). */
  fee: string;
  feeAsset: string;
  /** Exchange trade id of this fill; "" when the update carries no fill. */
  tradeId: string;
  /** Exchange reason for a reject/cancel/expiry, "" when none. */
  reasonCode: string;
  reasonText: string;
  /** Exchange event time, ms since epoch. */
  exchangeTsMs: number;
}

/** Thrown by {@linkcode OrderVenue} requests that got no answer within their deadline. */
export class VenueTimeoutError extends Error {
  /** Builds the error; `what` names the request (`place BTC-USDT sy0000001`). */
  constructor(what: string, timeoutMs: number) {
    super(`${what}: no answer within ${timeoutMs} ms`);
    this.name = "VenueTimeoutError";
  }
}

/** Thrown when a venue cannot serve requests (not connected, login refused, closed). */
export class VenueUnavailableError extends Error {
  /** Builds the error with the reason. */
  constructor(message: string) {
    super(message);
    this.name = "VenueUnavailableError";
  }
}

/**
 * The structured logger a venue writes to (a logtape `Logger` fits). Never given keys, secrets,
 * passphrases, tokens or signatures.
 */
export interface VenueLogger {
  /** Detail. */
  debug(message: string, properties?: Record<string, unknown>): void;
  /** Normal operation. */
  info(message: string, properties?: Record<string, unknown>): void;
  /** Something recovered from. */
  warn(message: string, properties?: Record<string, unknown>): void;
  /** Something failed. */
  error(message: string, properties?: Record<string, unknown>): void;
}

/** Callbacks a venue reports to (set once, before {@linkcode OrderVenue.start}). */
export interface VenueListener {
  /** An order update; may repeat (the gateway de-duplicates) and may precede the place answer. */
  onUpdate(update: VenueExecUpdate): void;
  /**
   * The private stream was (re)established after a disconnect: updates may have been missed,
   * so the gateway reconciles (open orders, per-order queries). Not called for the first start.
   */
  onResynced(): void;
}

/** Options of every request. */
export interface VenueRequestOptions {
  /** Deadline of the request, in ms; on expiry the request rejects with VenueTimeoutError. */
  timeoutMs: number;
}

/**
 * One exchange's trading side. Implementations must never send a request on their own
 * initiative twice: a request that timed out is the gateway's to reconcile (it queries first).
 * They must never log API keys, secrets, passphrases, tokens or signatures.
 */
export interface OrderVenue {
  /** Provider name (`binance`, `okx`, `kraken`). */
  readonly provider: string;
  /** Sets the listener. Must be called before start. */
  setListener(listener: VenueListener): void;
  /** Connects, authenticates and subscribes to order updates; loads instrument rules. */
  start(): Promise<void>;
  /** True while requests can be sent (connected and authenticated). */
  readonly ready: boolean;
  /** Trading rules of a canonical symbol, or undefined when the venue does not list it. */
  rules(symbol: string): InstrumentRules | undefined;
  /** Sends a new order. */
  place(order: VenueOrder, opts: VenueRequestOptions): Promise<VenuePlaceResult>;
  /** Cancels an order by its venue client id. */
  cancel(
    ref: { venueClientId: string; symbol: string },
    opts: VenueRequestOptions,
  ): Promise<VenueCancelResult>;
  /** Queries an order by its venue client id; null when the exchange does not know it. */
  query(
    ref: { venueClientId: string; symbol: string },
    opts: VenueRequestOptions,
  ): Promise<VenueOrderStatus | null>;
  /** Every open order of the account (all symbols the venue trades). */
  openOrders(opts: VenueRequestOptions): Promise<VenueOrderStatus[]>;
  /** Closes connections; pending requests reject with VenueUnavailableError. Bounded. */
  close(): Promise<void>;
}
