/**
 * ExecReport: one state change of an order, as reported by the exchange and delivered to the
 * consumer that owns the order. Pooled: acquired when the exchange reports, released once
 * by the dispatcher after fan-out. ExecReports are never dropped or coalesced.
 *
 * @module
 */

import type { Poolable } from "../pool/poolable.ts";
import type { Side } from "./event_kind.ts";
import {
  isCanonicalSymbol,
  isDecimalOrEmpty,
  isPositiveDecimalString,
  isProviderName,
  isSequenceNumber,
  isTimestampMs,
} from "./exact_values.ts";
import {
  describeClientOrderIdError,
  isClientOrderId,
  isConsumerId,
  type OrderType,
} from "./order_request.ts";
import { isPoisoned, POISON_NUMBER, POISON_STRING } from "./poison.ts";

/** The lifecycle states an execution report carries. */
export const EXEC_STATES = [
  "ACK",
  "PARTIAL",
  "FILLED",
  "CANCELLED",
  "REJECTED",
  "EXPIRED",
] as const;

/** An order lifecycle state; "" only in a reset object. */
export type ExecState = typeof EXEC_STATES[number] | "";

/** True when `value` names a lifecycle state. */
export function isExecState(value: unknown): value is Exclude<ExecState, ""> {
  return (EXEC_STATES as readonly unknown[]).includes(value);
}

/** True for the states after which an order can change no more. */
export function isTerminalExecState(state: ExecState): boolean {
  return state === "FILLED" || state === "CANCELLED" || state === "REJECTED" ||
    state === "EXPIRED";
}

/** The plain-object form of an {@linkcode ExecReport}: what consumers receive (a clone). */
export interface ExecReportData {
  /** Per-consumer delivery sequence, 1, 2, 3, ... without gaps; 0 until the dispatcher assigns it. */
  seq: number;
  /** Consumer that owns the order. */
  consumerId: string;
  provider: string;
  /** Canonical symbol. */
  symbol: string;
  /** The consumer's id for the order. */
  clientOrderId: string;
  /** The exchange's id for the order; "" when the exchange rejected it before assigning one. */
  exchangeOrderId: string;
  side: Side;
  orderType: OrderType;
  state: ExecState;
  /** Order limit price ("" for market orders or when not reported). */
  price: string;
  /** Order quantity ("" when not reported). */
  qty: string;
  /** Filled quantity so far ("" when not reported). */
  cumQty: string;
  /** Quantity of this fill (PARTIAL and FILLED). */
  lastQty: string;
  /** Price of this fill (PARTIAL and FILLED). */
  lastPx: string;
  /** Filled quote amount so far ("" when not reported). */
  cumQuote: string;
  /** Fee of this fill, signed as the exchange reports it ("" when none). */
  fee: string;
  feeAsset: string;
  exchangeTradeId: string;
  /** REJECTED (and others when given): the exchange's error code, verbatim (`-2010`, `51016`). */
  reasonCode: string;
  /** REJECTED (and others when given): the exchange's error text, verbatim. */
  reasonText: string;
  /** Exchange time of the state change, ms since epoch (0 when not reported). */
  exchangeTsMs: number;
  /** Gateway receive time, ms since epoch. */
  recvTsMs: number;
  /** Ops-only trace id (not on the consumer wire). */
  traceId: string;
}

/** A pooled execution report. */
export class ExecReport implements Poolable, ExecReportData {
  seq = 0;
  consumerId = "";
  provider = "";
  symbol = "";
  clientOrderId = "";
  exchangeOrderId = "";
  side: Side = "";
  orderType: OrderType = "";
  state: ExecState = "";
  price = "";
  qty = "";
  cumQty = "";
  lastQty = "";
  lastPx = "";
  cumQuote = "";
  fee = "";
  feeAsset = "";
  exchangeTradeId = "";
  reasonCode = "";
  reasonText = "";
  exchangeTsMs = 0;
  recvTsMs = 0;
  traceId = "";

  /** Zeroes every field. */
  reset(): void {
    this.seq = 0;
    this.consumerId = "";
    this.provider = "";
    this.symbol = "";
    this.clientOrderId = "";
    this.exchangeOrderId = "";
    this.side = "";
    this.orderType = "";
    this.state = "";
    this.price = "";
    this.qty = "";
    this.cumQty = "";
    this.lastQty = "";
    this.lastPx = "";
    this.cumQuote = "";
    this.fee = "";
    this.feeAsset = "";
    this.exchangeTradeId = "";
    this.reasonCode = "";
    this.reasonText = "";
    this.exchangeTsMs = 0;
    this.recvTsMs = 0;
    this.traceId = "";
  }

  /** Debug mode: sentinel values (see `schema/poison.ts`). */
  poison(): void {
    this.seq = POISON_NUMBER;
    this.consumerId = POISON_STRING;
    this.provider = POISON_STRING;
    this.symbol = POISON_STRING;
    this.clientOrderId = POISON_STRING;
    this.exchangeOrderId = POISON_STRING;
    this.price = POISON_STRING;
    this.qty = POISON_STRING;
    this.cumQty = POISON_STRING;
    this.lastQty = POISON_STRING;
    this.lastPx = POISON_STRING;
    this.exchangeTsMs = POISON_NUMBER;
    this.recvTsMs = POISON_NUMBER;
  }

  /** A plain heap copy that the receiver owns and never releases. */
  clone(): ExecReportData {
    return {
      seq: this.seq,
      consumerId: this.consumerId,
      provider: this.provider,
      symbol: this.symbol,
      clientOrderId: this.clientOrderId,
      exchangeOrderId: this.exchangeOrderId,
      side: this.side,
      orderType: this.orderType,
      state: this.state,
      price: this.price,
      qty: this.qty,
      cumQty: this.cumQty,
      lastQty: this.lastQty,
      lastPx: this.lastPx,
      cumQuote: this.cumQuote,
      fee: this.fee,
      feeAsset: this.feeAsset,
      exchangeTradeId: this.exchangeTradeId,
      reasonCode: this.reasonCode,
      reasonText: this.reasonText,
      exchangeTsMs: this.exchangeTsMs,
      recvTsMs: this.recvTsMs,
      traceId: this.traceId,
    };
  }

  /** Copies every field of `src` into this object. */
  copyFrom(src: ExecReportData): this {
    this.seq = src.seq;
    this.consumerId = src.consumerId;
    this.provider = src.provider;
    this.symbol = src.symbol;
    this.clientOrderId = src.clientOrderId;
    this.exchangeOrderId = src.exchangeOrderId;
    this.side = src.side;
    this.orderType = src.orderType;
    this.state = src.state;
    this.price = src.price;
    this.qty = src.qty;
    this.cumQty = src.cumQty;
    this.lastQty = src.lastQty;
    this.lastPx = src.lastPx;
    this.cumQuote = src.cumQuote;
    this.fee = src.fee;
    this.feeAsset = src.feeAsset;
    this.exchangeTradeId = src.exchangeTradeId;
    this.reasonCode = src.reasonCode;
    this.reasonText = src.reasonText;
    this.exchangeTsMs = src.exchangeTsMs;
    this.recvTsMs = src.recvTsMs;
    this.traceId = src.traceId;
    return this;
  }
}

/**
 * Checks an execution report; returns null when valid, else what was expected and what was found.
 * REJECTED needs the exchange's reason (code or text); PARTIAL and FILLED need the fill's
 * `lastQty` and `lastPx` as decimals greater than 0.
 */
export function validateExecReport(r: ExecReportData): string | null {
  if (!isSequenceNumber(r.seq)) return `expected seq as a non-negative integer, found ${r.seq}`;
  if (!isConsumerId(r.consumerId)) return `expected a consumer id, found "${r.consumerId}"`;
  if (!isProviderName(r.provider)) return `expected a provider name, found "${r.provider}"`;
  if (!isCanonicalSymbol(r.symbol)) return `expected a BASE-QUOTE symbol, found "${r.symbol}"`;
  if (!isClientOrderId(r.clientOrderId)) return describeClientOrderIdError(r.clientOrderId);
  if (!isExecState(r.state)) {
    return `expected state one of ${EXEC_STATES.join(", ")}, found "${r.state}"`;
  }
  if (r.side !== "buy" && r.side !== "sell" && r.side !== "") {
    return `expected side buy, sell or empty, found "${r.side}"`;
  }
  if (r.orderType !== "limit" && r.orderType !== "market" && r.orderType !== "") {
    return `expected orderType limit, market or empty, found "${r.orderType}"`;
  }
  if (!isTimestampMs(r.exchangeTsMs) || !isTimestampMs(r.recvTsMs)) {
    return `expected exchangeTsMs and recvTsMs as ms timestamps, found ${r.exchangeTsMs} and ${r.recvTsMs}`;
  }
  const decimalError = validateDecimals(r);
  if (decimalError !== null) return decimalError;
  for (const v of [r.exchangeOrderId, r.exchangeTradeId, r.feeAsset, r.traceId]) {
    if (isPoisoned(v)) {
      return "expected exchange ids, fee asset and trace id, found a poisoned report";
    }
  }
  return validateState(r);
}

function validateDecimals(r: ExecReportData): string | null {
  const fields = [
    ["price", r.price],
    ["qty", r.qty],
    ["cumQty", r.cumQty],
    ["lastQty", r.lastQty],
    ["lastPx", r.lastPx],
    ["cumQuote", r.cumQuote],
    ["fee", r.fee],
  ] as const;
  for (const [name, v] of fields) {
    if (!isDecimalOrEmpty(v)) return `expected ${name} as a decimal string or empty, found "${v}"`;
  }
  return null;
}

function validateState(r: ExecReportData): string | null {
  switch (r.state) {
    case "REJECTED":
      if (r.reasonCode === "" && r.reasonText === "") {
        return "REJECTED: expected the exchange's reason code or text, found neither";
      }
      return null;
    case "PARTIAL":
    case "FILLED":
      if (!isPositiveDecimalString(r.lastQty) || !isPositiveDecimalString(r.lastPx)) {
        return `${r.state}: expected lastQty and lastPx as decimals greater than 0, found "${r.lastQty}" and "${r.lastPx}"`;
      }
      return null;
    default:
      return null;
  }
}
