/**
 * OrderDesk: the narrow face of the order gateway that the control plane (WebSocket commands and
 * HTTP routes) talks to. The server never sees journals, venues or pools; the gateway adapts its
 * order machinery to these five calls.
 *
 * `submit` and `cancel` are synchronous on purpose: they answer once the intent is journaled
 * (or refused), which is what a command's `ack` reports. What the exchange then does arrives
 * later as execution reports on the consumer's durable log.
 *
 * Refusal codes the server gives a meaning to (anything else is passed through as a refusal):
 *
 * | code | meaning | HTTP status |
 * | --- | --- | --- |
 * | `duplicate_client_order_id` | the id is already used in this consumer's namespace; `existing` describes that order | 409 |
 * | `trading_disabled` | the consumer's trading switch is off | 403 |
 * | `unknown_order` | a cancel names no order of this consumer | 404 |
 * | `busy` | every order-request slot is in flight: back off and retry with the same client_order_id | 429 |
 * | `venue_unavailable`, `not_supported` | the provider cannot take orders now / at all | 503 |
 * | any other (`invalid_order`, filter violations, ...) | the order is refused as asked | 400 |
 *
 * @module
 */

import type { OrderCancelCommand, OrderSubmitCommand } from "../schema/mod.ts";

/** What the desk answers to a submit or cancel. */
export type OrderOutcome =
  | { ok: true }
  | {
    ok: false;
    /** `snake_case` refusal code (see the module table). */
    code: string;
    /** What was expected and what was found. */
    message: string;
    /** For `duplicate_client_order_id`: a JSON-ready view of the order already under that id. */
    existing?: Record<string, unknown>;
  };

/** Who sent an order command, for the desk. */
export interface OrderCommandContext {
  /** The authenticated consumer (its namespace of client order ids). */
  consumerId: string;
  /** Ops-only trace id of the command's flow. */
  traceId: string;
}

/** What the control plane needs of the order gateway. */
export interface OrderDesk {
  /** Journals a new order (ok) or refuses it; never throws for a client mistake. */
  submit(cmd: OrderSubmitCommand, ctx: OrderCommandContext): OrderOutcome;
  /** Journals a cancel request (ok) or refuses it. */
  cancel(cmd: OrderCancelCommand, ctx: OrderCommandContext): OrderOutcome;
  /** Sets a consumer's trading switch (takes effect for the next order). */
  setTrading(consumerId: string, enabled: boolean): void;
  /** A consumer's trading switch. */
  tradingEnabled(consumerId: string): boolean;
  /** The consumer's most recent orders, newest first, at most `limit`, as JSON-ready objects. */
  orders(consumerId: string, limit: number): unknown[];
}

/** Refusal codes with a meaning of their own to the server (see the module table). */
export const ORDER_CODES = {
  duplicate: "duplicate_client_order_id",
  tradingDisabled: "trading_disabled",
  unknownOrder: "unknown_order",
  venueUnavailable: "venue_unavailable",
  busy: "busy",
  notSupported: "not_supported",
  unauthorized: "unauthorized",
  forbidden: "forbidden",
  internalError: "internal_error",
} as const;
