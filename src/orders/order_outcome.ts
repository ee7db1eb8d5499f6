/**
 * What the order gateway answers to a submit or cancel, synchronously, and the consumer-facing
 * view of a journaled order (what `GET` of a consumer's orders returns).
 *
 * @module
 */

import type { IntentRow, IntentState } from "./intent_journal.ts";

/** Why the gateway refused a request locally (nothing was sent to an exchange). */
export type OrderRefusalCode =
  | "trading_disabled"
  | "duplicate_client_order_id"
  | "unknown_provider"
  | "unknown_symbol"
  | "filter_violation"
  | "venue_unavailable"
  | "unknown_order"
  | "order_closed"
  | "invalid_order";

/**
 * The synchronous answer to a submit or cancel. `ok: true` means the request was journaled (a
 * submit) and handed to the exchange; its outcome arrives as execution reports.
 */
export type OrderOutcome =
  | { ok: true }
  | {
    ok: false;
    code: OrderRefusalCode;
    /** What was expected and what was found. */
    message: string;
    /** The journaled order, for `duplicate_client_order_id`, `order_closed`. */
    existing?: IntentView;
  };

/** One order as the gateway knows it (a plain copy; no ops-only fields). */
export interface IntentView {
  consumerId: string;
  clientOrderId: string;
  provider: string;
  symbol: string;
  side: string;
  orderType: string;
  timeInForce: string;
  price: string;
  qty: string;
  /** The client id the gateway sent to the exchange. */
  venueClientId: string;
  /** The exchange's order id; "" until known. */
  exchangeOrderId: string;
  /** PENDING (not answered yet), SENT (answer lost, being settled) or a canonical state. */
  state: IntentState;
  cumQty: string;
  cumQuote: string;
  reasonCode: string;
  reasonText: string;
  createdMs: number;
  updatedMs: number;
}

/** The view of a journal row (drops the row id and the trace id). */
export function intentViewOf(row: IntentRow): IntentView {
  return {
    consumerId: row.consumerId,
    clientOrderId: row.clientOrderId,
    provider: row.provider,
    symbol: row.symbol,
    side: row.side,
    orderType: row.orderType,
    timeInForce: row.timeInForce,
    price: row.price,
    qty: row.qty,
    venueClientId: row.venueClientId,
    exchangeOrderId: row.exchangeOrderId,
    state: row.state,
    cumQty: row.cumQty,
    cumQuote: row.cumQuote,
    reasonCode: row.reasonCode,
    reasonText: row.reasonText,
    createdMs: row.createdMs,
    updatedMs: row.updatedMs,
  };
}
