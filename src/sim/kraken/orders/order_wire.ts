/**
 * Encoders of the Kraken order side: order ids, `executions` items (kraken.md §6.3) and REST
 * order records (OpenOrders / ClosedOrders). Numbers are written as JSON number literals from
 * exact decimal strings (the engine's), padded to the pair's precisions; never through a float.
 *
 * @module
 */

import type { SimOrder } from "../../order_engine/sim_order_types.ts";
import { padDecimal } from "../book_checksum.ts";
import type { KrakenPair } from "../kraken_pair.ts";
import { rfc3339Micros } from "../wire_format.ts";

const ORDER_ID_DIGITS = 16;

/**
 * Kraken-looking order id (`OQX3KM-7YBTL-FR2WQP`) of an engine order id; reversible with
 * {@linkcode engineOrderIdOf}.
 */
export function krakenOrderIdOf(orderId: number): string {
  const s = orderId.toString(36).toUpperCase().padStart(ORDER_ID_DIGITS, "0");
  return `O${s.slice(0, 5)}-${s.slice(5, 10)}-${s.slice(10)}`;
}

/** The engine order id of a Kraken-looking order id, or undefined when it is not one. */
export function engineOrderIdOf(text: string): number | undefined {
  if (!/^O[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{6}$/.test(text)) return undefined;
  const n = parseInt(text.slice(1).replaceAll("-", ""), 36);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Kraken-looking trade execution id (`TXA2QF-4NZ7C-3JTDVE`) of an engine trade id. */
export function krakenExecIdOf(tradeId: number): string {
  const s = tradeId.toString(36).toUpperCase().padStart(ORDER_ID_DIGITS, "0");
  return `T${s.slice(0, 5)}-${s.slice(5, 10)}-${s.slice(10)}`;
}

/** A price of `pair` padded to its precision. */
export function priceLiteral(pair: KrakenPair, text: string): string {
  return padDecimal(text, pair.pricePrecision);
}

/** A quantity of `pair` padded to its precision. */
export function qtyLiteral(pair: KrakenPair, text: string): string {
  return padDecimal(text, pair.qtyPrecision);
}

/** A non-negative exact decimal checked to be a JSON number literal. */
export function decimalLiteral(text: string): string {
  if (!/^\d+(\.\d+)?$/.test(text)) {
    throw new RangeError(`decimal: expected a plain non-negative decimal, found "${text}"`);
  }
  return text;
}

/** Average price `cumQuote / cumQty` truncated to the pair's price precision ("0" unfilled). */
export function averagePrice(pair: KrakenPair, cumQuote: string, cumQty: string): string {
  const scale = 18;
  const q = scaled(cumQty, scale);
  if (q === 0n) return padDecimal("0", pair.pricePrecision);
  const quote = scaled(cumQuote, scale);
  const places = pair.pricePrecision;
  const value = (quote * 10n ** BigInt(places)) / q;
  const digits = value.toString().padStart(places + 1, "0");
  return places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(-places)}`;
}

function scaled(text: string, scale: number): bigint {
  const dot = text.indexOf(".");
  const whole = dot === -1 ? text : text.slice(0, dot);
  const fraction = (dot === -1 ? "" : text.slice(dot + 1)).padEnd(scale, "0").slice(0, scale);
  return BigInt(whole + fraction);
}

/** Parts of an `executions` item the caller adds to the `order_id`/`exec_type` head. */
export type ExecFields = Record<string, string>;

/**
 * One `executions` item as JSON text. `fields` values are JSON texts already (numbers as
 * literals, strings quoted), written in the given order after `exec_type`, `order_status` and
 * `order_id`.
 */
export function executionItem(
  execType: string,
  orderStatus: string,
  orderId: string,
  fields: ExecFields,
): string {
  let out = `{"exec_type":"${execType}","order_status":"${orderStatus}","order_id":"${orderId}"`;
  for (const [key, value] of Object.entries(fields)) out += `,"${key}":${value}`;
  return out + "}";
}

/** The full-details fields of an order (pending_new and snapshot items). */
export function orderDetailFields(
  pair: KrakenPair,
  order: SimOrder,
  reportClientId: boolean,
  timeMs: number,
): ExecFields {
  const fields: ExecFields = {};
  if (reportClientId) fields.cl_ord_id = JSON.stringify(order.clientId);
  fields.symbol = JSON.stringify(pair.name);
  fields.side = `"${order.side}"`;
  fields.order_type = `"${order.orderType}"`;
  fields.order_qty = qtyLiteral(pair, order.qty);
  if (order.orderType === "limit") {
    fields.limit_price = priceLiteral(pair, order.price);
    fields.time_in_force = `"${order.timeInForce}"`;
  }
  fields.post_only = order.postOnly ? "true" : "false";
  fields.cum_qty = qtyLiteral(pair, order.cumQty);
  fields.cum_cost = decimalLiteral(order.cumQuote);
  fields.avg_price = averagePrice(pair, order.cumQuote, order.cumQty);
  fields.fee_ccy_pref = `"fciq"`;
  fields.timestamp = `"${rfc3339Micros(timeMs)}"`;
  return fields;
}

/** The `executions` status of an engine order. */
export function orderStatusOf(order: SimOrder): string {
  return order.state;
}

/** REST `status` of an engine order (open | closed | canceled | expired). */
export function restStatusOf(order: SimOrder): string {
  switch (order.state) {
    case "new":
    case "partially_filled":
      return "open";
    case "filled":
      return "closed";
    default:
      return order.state;
  }
}

/** A REST order record (OpenOrders / ClosedOrders value), as a plain object of strings. */
export function restOrderRecord(
  pair: KrakenPair,
  order: SimOrder,
  extra: { fee: string; reason: string; reportClientId: boolean },
): Record<string, unknown> {
  const price = order.orderType === "limit" ? priceLiteral(pair, order.price) : "0";
  const qty = qtyLiteral(pair, order.qty);
  const altname = `${pair.market.base}${pair.market.quote}`;
  const status = restStatusOf(order);
  const record: Record<string, unknown> = {
    refid: null,
    userref: null,
    cl_ord_id: extra.reportClientId ? order.clientId : null,
    status,
    opentm: order.createdMs / 1000,
    starttm: 0,
    expiretm: 0,
    descr: {
      pair: altname,
      type: order.side,
      ordertype: order.orderType,
      price,
      price2: "0",
      leverage: "none",
      order: `${order.side} ${qty} ${altname} @ ${
        order.orderType === "limit" ? `limit ${price}` : "market"
      }`,
      close: "",
    },
    vol: qty,
    vol_exec: qtyLiteral(pair, order.cumQty),
    cost: order.cumQuote,
    fee: extra.fee,
    price: averagePrice(pair, order.cumQuote, order.cumQty),
    stopprice: "0",
    limitprice: "0",
    misc: "",
    oflags: order.postOnly ? "fciq,post" : "fciq",
  };
  if (status !== "open") {
    record.closetm = order.updatedMs / 1000;
    record.reason = extra.reason === "" ? null : extra.reason;
  }
  return record;
}
