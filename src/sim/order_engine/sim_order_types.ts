/**
 * Types of the simulators' shared order side: one exchange-neutral matching engine
 * ({@linkcode SimOrderEngine} in `sim_order_engine.ts`) that each exchange simulator wraps
 * with its own wire protocol, signatures, error codes and update messages.
 *
 * Decimals cross this API as exact strings; the engine works in integer atoms inside.
 *
 * @module
 */

/** Side of a simulated order. */
export type SimSide = "buy" | "sell";

/** Order types the engine matches. */
export type SimOrderType = "limit" | "market";

/** Time in force; market orders behave as IOC. */
export type SimTimeInForce = "GTC" | "IOC" | "FOK";

/** Lifecycle state of a simulated order. */
export type SimOrderState =
  | "new"
  | "partially_filled"
  | "filled"
  | "canceled"
  | "expired";

/** One tradable instrument and its filters. */
export interface SimInstrument {
  /** Canonical symbol (`BTC-USDT`). */
  symbol: string;
  base: string;
  quote: string;
  /** Price increment, e.g. `"0.01"`. */
  tickSize: string;
  /** Quantity increment, e.g. `"0.00001"`. */
  stepSize: string;
  /** Smallest quantity. */
  minQty: string;
  /** Smallest price × quantity in the quote asset ("0": none). */
  minNotional: string;
}

/** A new order. */
export interface SimOrderInput {
  /** Account (API key) the order belongs to. */
  account: string;
  /** The client's id for the order (exchange rules on its format are the wrapper's job). */
  clientId: string;
  symbol: string;
  side: SimSide;
  orderType: SimOrderType;
  timeInForce: SimTimeInForce;
  /** Post-only: rejected (canceled) instead of taking liquidity. */
  postOnly: boolean;
  /** Limit price; "" for market orders. */
  price: string;
  /** Base quantity. */
  qty: string;
}

/** Why the engine refused an order before it existed. */
export type SimRejectReason =
  | "unknown_symbol"
  | "invalid_parameter"
  | "filter_tick_size"
  | "filter_step_size"
  | "filter_min_qty"
  | "filter_min_notional"
  | "insufficient_balance"
  | "duplicate_client_id";

/** Why an order ended without filling completely. */
export type SimEndReason =
  /** The owner canceled it. */
  | "user"
  /** IOC or market remainder. */
  | "ioc_remainder"
  /** FOK that could not fill completely. */
  | "fok_unfilled"
  /** Post-only that would have taken liquidity. */
  | "post_only_would_take"
  /** Expired by the engine (admin knob / time limit). */
  | "expired";

/** An order as the engine keeps it (a snapshot copy when returned). */
export interface SimOrder {
  /** Engine-wide increasing order id. */
  orderId: number;
  account: string;
  clientId: string;
  symbol: string;
  side: SimSide;
  orderType: SimOrderType;
  timeInForce: SimTimeInForce;
  postOnly: boolean;
  price: string;
  qty: string;
  state: SimOrderState;
  /** Cumulative filled base quantity. */
  cumQty: string;
  /** Cumulative quote quantity. */
  cumQuote: string;
  /** Why it ended (canceled/expired), "" otherwise. */
  endReason: SimEndReason | "";
  createdMs: number;
  updatedMs: number;
}

/** What the engine tells an account's listeners, in order. */
export type SimOrderEvent =
  /** The order is accepted and (for GTC) resting. */
  | { kind: "new"; order: SimOrder }
  /** One fill; `order` is the state after it. */
  | {
    kind: "trade";
    order: SimOrder;
    tradeId: number;
    qty: string;
    price: string;
    /** price × qty. */
    quote: string;
    fee: string;
    feeAsset: string;
    /** True when the order was the resting (maker) side. */
    maker: boolean;
  }
  /** Ended without filling completely (see `order.endReason`). */
  | { kind: "canceled"; order: SimOrder }
  | { kind: "expired"; order: SimOrder };

/** Listener of one account's order events. */
export type SimOrderListener = (event: SimOrderEvent) => void;

/** Result of {@linkcode SimOrderEngine.place}. */
export type SimPlaceResult =
  | { ok: true; order: SimOrder }
  | { ok: false; reason: SimRejectReason; detail: string };

/** Result of {@linkcode SimOrderEngine.cancel}. */
export type SimCancelResult =
  | { ok: true; order: SimOrder }
  | { ok: false; reason: "unknown_order"; detail: string };

/** How to find an order: by client id (among the account's open, then recent orders) or id. */
export type SimOrderRef = { clientId: string } | { orderId: number };

/** A price level the engine can take liquidity from. */
export interface SimBookLevel {
  price: string;
  qty: string;
}

/** Read access to the simulated public book (the market generator's). */
export interface SimBookSource {
  /** Best levels of one side, best first, at most `levelsMax`; [] when the symbol is unknown. */
  levels(symbol: string, side: "bid" | "ask", levelsMax: number): SimBookLevel[];
}
