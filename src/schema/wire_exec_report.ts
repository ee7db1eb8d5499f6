/**
 * Wire form of an execution report (`type: "exec_report"`): report data to a plain snake_case
 * object and back. The ops-only `traceId` is not on the wire.
 *
 * @module
 */

import type { Side } from "./event_kind.ts";
import { SCHEMA_VERSION } from "./event_kind.ts";
import {
  EXEC_STATES,
  type ExecReportData,
  type ExecState,
  validateExecReport,
} from "./exec_report.ts";
import { isSequenceNumber } from "./exact_values.ts";
import { CLIENT_ORDER_ID_RULE, isClientOrderId, isConsumerId } from "./order_request.ts";
import {
  ANY_STRING,
  DECIMAL_OR_EMPTY,
  describeFound,
  enumRule,
  type FieldRule,
  PROVIDER,
  SYMBOL,
  TIMESTAMP_MS,
  WireReader,
} from "./wire_fields.ts";

/** An execution report on the wire. */
export interface WireExecReport {
  v: number;
  type: "exec_report";
  /** Per-consumer delivery sequence: 1, 2, 3, ... without gaps. */
  seq: number;
  consumer_id: string;
  provider: string;
  symbol: string;
  client_order_id: string;
  exchange_order_id: string;
  side: Side;
  order_type: "limit" | "market" | "";
  state: Exclude<ExecState, "">;
  price: string;
  qty: string;
  cum_qty: string;
  last_qty: string;
  last_px: string;
  cum_quote: string;
  fee: string;
  fee_asset: string;
  exchange_trade_id: string;
  reason_code: string;
  reason_text: string;
  /** Exchange time of the change, ms since epoch (0 when not reported). */
  ts_exchange: number;
  /** Gateway receive time, ms since epoch. */
  ts_recv: number;
}

const CONSUMER_ID: FieldRule<string> = {
  expected: "1..64 of A-Z a-z 0-9 . _ : -",
  test: isConsumerId,
};
const CLIENT_ORDER_ID: FieldRule<string> = {
  expected: CLIENT_ORDER_ID_RULE,
  test: isClientOrderId,
};
const DELIVERY_SEQ: FieldRule<number> = {
  expected: "a positive integer (the delivery sequence is assigned before sending)",
  test: (v): v is number => isSequenceNumber(v) && v >= 1,
};
const SIDE_OR_EMPTY = enumRule(["buy", "sell", ""] as const);
const ORDER_TYPE_OR_EMPTY = enumRule(["limit", "market", ""] as const);
const STATE = enumRule(EXEC_STATES);

/** The wire object of an execution report (does not validate; see `validateExecReport`). */
export function execReportToWire(r: ExecReportData): WireExecReport {
  if (r.state === "") throw new Error("execReportToWire: expected a state, found none");
  return {
    v: SCHEMA_VERSION,
    type: "exec_report",
    seq: r.seq,
    consumer_id: r.consumerId,
    provider: r.provider,
    symbol: r.symbol,
    client_order_id: r.clientOrderId,
    exchange_order_id: r.exchangeOrderId,
    side: r.side,
    order_type: r.orderType,
    state: r.state,
    price: r.price,
    qty: r.qty,
    cum_qty: r.cumQty,
    last_qty: r.lastQty,
    last_px: r.lastPx,
    cum_quote: r.cumQuote,
    fee: r.fee,
    fee_asset: r.feeAsset,
    exchange_trade_id: r.exchangeTradeId,
    reason_code: r.reasonCode,
    reason_text: r.reasonText,
    ts_exchange: r.exchangeTsMs,
    ts_recv: r.recvTsMs,
  };
}

/**
 * Reads and validates a wire execution report (fields and `validateExecReport`'s state rules);
 * throws a `WireFormatError` naming the field. `traceId` reads as "". Unknown fields are ignored.
 */
export function execReportFromWire(value: unknown): ExecReportData {
  const w = new WireReader(value, { context: "exec_report" });
  w.version();
  const type = w.raw("type");
  if (type !== "exec_report") {
    w.fail("unknown_type", "type", `expected type "exec_report", found ${describeFound(type)}`);
  }
  const r: ExecReportData = {
    seq: w.read("seq", DELIVERY_SEQ),
    consumerId: w.read("consumer_id", CONSUMER_ID),
    provider: w.read("provider", PROVIDER),
    symbol: w.read("symbol", SYMBOL),
    clientOrderId: w.read("client_order_id", CLIENT_ORDER_ID),
    exchangeOrderId: w.read("exchange_order_id", ANY_STRING),
    side: w.read("side", SIDE_OR_EMPTY),
    orderType: w.read("order_type", ORDER_TYPE_OR_EMPTY),
    state: w.read("state", STATE),
    price: w.read("price", DECIMAL_OR_EMPTY),
    qty: w.read("qty", DECIMAL_OR_EMPTY),
    cumQty: w.read("cum_qty", DECIMAL_OR_EMPTY),
    lastQty: w.read("last_qty", DECIMAL_OR_EMPTY),
    lastPx: w.read("last_px", DECIMAL_OR_EMPTY),
    cumQuote: w.read("cum_quote", DECIMAL_OR_EMPTY),
    fee: w.read("fee", DECIMAL_OR_EMPTY),
    feeAsset: w.read("fee_asset", ANY_STRING),
    exchangeTradeId: w.read("exchange_trade_id", ANY_STRING),
    reasonCode: w.read("reason_code", ANY_STRING),
    reasonText: w.read("reason_text", ANY_STRING),
    exchangeTsMs: w.read("ts_exchange", TIMESTAMP_MS),
    recvTsMs: w.read("ts_recv", TIMESTAMP_MS),
    traceId: "",
  };
  const error = validateExecReport(r);
  if (error !== null) w.fail("invalid_field", "", error);
  return r;
}
