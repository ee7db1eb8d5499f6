/**
 * OrderRequest: one consumer's order intent (new order or cancel), pooled from creation until the
 * exchange acknowledges, rejects or times out.
 *
 * Prices and quantities are exact decimal strings and are never parsed into floats: a float
 * would round `0.1` and could send a different quantity to the exchange than the consumer asked.
 *
 * @module
 */

import type { Poolable } from "../pool/poolable.ts";
import type { Side } from "./event_kind.ts";
import {
  isCanonicalSymbol,
  isPositiveDecimalString,
  isProviderName,
  isTimestampMs,
} from "./exact_values.ts";
import { isPoisoned, POISON_NUMBER, POISON_STRING } from "./poison.ts";

/** What the request asks for. */
export type OrderAction = "new" | "cancel" | "";
/** Order type; only plain limit and market orders are routed. */
export type OrderType = "limit" | "market" | "";
/** Time in force of a limit order (market orders have none). */
export type TimeInForce = "GTC" | "IOC" | "FOK" | "";

/** Longest client order id accepted, in characters (see {@linkcode isClientOrderId}). */
export const CLIENT_ORDER_ID_LENGTH_MAX = 36;
/** The client order id rule in words, as error messages state it. */
export const CLIENT_ORDER_ID_RULE = "1..36 of A-Z a-z 0-9 . _ : -";
/** Longest consumer id accepted, in characters. */
export const CONSUMER_ID_LENGTH_MAX = 64;

// The consumer's id lives in the consumer's own namespace and is never sent to an exchange: the
// order gateway derives the exchange's client id itself (`src/orders/venue_client_id.ts`), so
// this rule only has to keep ids printable, log-safe and bounded (a dashed UUID fits).
const CLIENT_ORDER_ID_RE = /^[A-Za-z0-9._:-]{1,36}$/;
const CONSUMER_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

/** The plain-object form of an {@linkcode OrderRequest}. */
export interface OrderRequestData {
  /** Consumer that submitted the order; client order ids are unique per consumer. */
  consumerId: string;
  /** The consumer's id for the order (mandatory; see {@linkcode isClientOrderId}). */
  clientOrderId: string;
  action: OrderAction;
  /** Provider to route to (`binance`). */
  provider: string;
  /** Canonical symbol (`BTC-USDT`). */
  symbol: string;
  side: Side;
  orderType: OrderType;
  /** Limit orders: GTC, IOC or FOK. Market orders and cancels: "". */
  timeInForce: TimeInForce;
  /** Limit price as a decimal string; "" for market orders and cancels. */
  price: string;
  /** Base quantity as a decimal string (> 0); "" for cancels. */
  qty: string;
  /** When the gateway accepted the request, ms since epoch. */
  createdTsMs: number;
  /** Ops-only trace id that follows the order through logs (never sent to exchanges). */
  traceId: string;
}

/** A pooled order request. */
export class OrderRequest implements Poolable, OrderRequestData {
  consumerId = "";
  clientOrderId = "";
  action: OrderAction = "";
  provider = "";
  symbol = "";
  side: Side = "";
  orderType: OrderType = "";
  timeInForce: TimeInForce = "";
  price = "";
  qty = "";
  createdTsMs = 0;
  traceId = "";

  /** Zeroes every field. */
  reset(): void {
    this.consumerId = "";
    this.clientOrderId = "";
    this.action = "";
    this.provider = "";
    this.symbol = "";
    this.side = "";
    this.orderType = "";
    this.timeInForce = "";
    this.price = "";
    this.qty = "";
    this.createdTsMs = 0;
    this.traceId = "";
  }

  /** Debug mode: sentinel values (see `schema/poison.ts`). */
  poison(): void {
    this.consumerId = POISON_STRING;
    this.clientOrderId = POISON_STRING;
    this.provider = POISON_STRING;
    this.symbol = POISON_STRING;
    this.price = POISON_STRING;
    this.qty = POISON_STRING;
    this.createdTsMs = POISON_NUMBER;
    this.traceId = POISON_STRING;
  }

  /** A plain heap copy that the receiver owns. */
  clone(): OrderRequestData {
    return {
      consumerId: this.consumerId,
      clientOrderId: this.clientOrderId,
      action: this.action,
      provider: this.provider,
      symbol: this.symbol,
      side: this.side,
      orderType: this.orderType,
      timeInForce: this.timeInForce,
      price: this.price,
      qty: this.qty,
      createdTsMs: this.createdTsMs,
      traceId: this.traceId,
    };
  }

  /** Copies every field of `src` into this object. */
  copyFrom(src: OrderRequestData): this {
    this.consumerId = src.consumerId;
    this.clientOrderId = src.clientOrderId;
    this.action = src.action;
    this.provider = src.provider;
    this.symbol = src.symbol;
    this.side = src.side;
    this.orderType = src.orderType;
    this.timeInForce = src.timeInForce;
    this.price = src.price;
    this.qty = src.qty;
    this.createdTsMs = src.createdTsMs;
    this.traceId = src.traceId;
    return this;
  }
}

/**
 * True when `value` is a consumer's client order id: 1..36 of `A-Z a-z 0-9 . _ : -`. Unique per
 * consumer; never forwarded to an exchange (the gateway derives the exchange's id).
 *
 * @example
 * ```ts
 * isClientOrderId("strat1order42"); // true
 * isClientOrderId("6d1b345e-2821-40e2-ad83-4ecb18a06876"); // true: a dashed UUID fits
 * isClientOrderId("order 1"); // false: no spaces
 * ```
 */
export function isClientOrderId(value: unknown): value is string {
  return typeof value === "string" && CLIENT_ORDER_ID_RE.test(value);
}

/** True when `value` is a consumer id: 1..64 of `A-Z a-z 0-9 . _ : -`. */
export function isConsumerId(value: unknown): value is string {
  return typeof value === "string" && CONSUMER_ID_RE.test(value);
}

/** The message {@linkcode validateOrderRequest} and the wire parser give for a bad client id. */
export function describeClientOrderIdError(found: string): string {
  return `expected a client order id of ${CLIENT_ORDER_ID_RULE}, found "${found}"`;
}

/**
 * Checks an order request; returns null when valid, else what was expected and what was found.
 * Quantities and prices are compared on their digits, never as floats.
 */
export function validateOrderRequest(o: OrderRequestData): string | null {
  if (!isConsumerId(o.consumerId)) {
    return `expected a consumer id of 1..${CONSUMER_ID_LENGTH_MAX} of A-Z a-z 0-9 . _ : -, found "${o.consumerId}"`;
  }
  if (!isClientOrderId(o.clientOrderId)) return describeClientOrderIdError(o.clientOrderId);
  if (!isProviderName(o.provider)) return `expected a provider name, found "${o.provider}"`;
  if (!isCanonicalSymbol(o.symbol)) return `expected a BASE-QUOTE symbol, found "${o.symbol}"`;
  if (!isTimestampMs(o.createdTsMs) || o.createdTsMs === 0) {
    return `expected createdTsMs as a positive ms timestamp, found ${o.createdTsMs}`;
  }
  if (isPoisoned(o.traceId)) return "expected a trace id, found a poisoned request";
  switch (o.action) {
    case "new":
      return validateNewOrder(o);
    case "cancel":
      return null;
    default:
      return `expected action new or cancel, found "${o.action}"`;
  }
}

function validateNewOrder(o: OrderRequestData): string | null {
  if (o.side !== "buy" && o.side !== "sell") {
    return `expected side buy or sell, found "${o.side}"`;
  }
  if (!isPositiveDecimalString(o.qty)) {
    return `expected qty as a decimal string greater than 0, found "${o.qty}"`;
  }
  switch (o.orderType) {
    case "limit":
      if (!isPositiveDecimalString(o.price)) {
        return `limit order: expected price as a decimal string greater than 0, found "${o.price}"`;
      }
      if (o.timeInForce !== "GTC" && o.timeInForce !== "IOC" && o.timeInForce !== "FOK") {
        return `limit order: expected timeInForce GTC, IOC or FOK, found "${o.timeInForce}"`;
      }
      return null;
    case "market":
      if (o.price !== "") return `market order: expected no price, found "${o.price}"`;
      if (o.timeInForce !== "") {
        return `market order: expected no timeInForce, found "${o.timeInForce}"`;
      }
      return null;
    default:
      return `expected orderType limit or market, found "${o.orderType}"`;
  }
}
