/**
 * Binance's wire shapes of the simulated order side (protocol notes §5, §6.4, §6.5): order
 * responses (ACK / RESULT / FULL, cancel, query), `executionReport` and
 * `outboundAccountPosition`, built from the shared engine's orders and events. Decimals go out
 * with 8 fraction digits, and `cummulativeQuoteQty` keeps Binance's spelling.
 *
 * @module
 */

import type { SimOrder, SimOrderEvent } from "../../order_engine/mod.ts";

/** Names of an instrument on Binance. */
export interface WireSymbol {
  /** `BTCUSDT`. */
  readonly exchange: string;
  readonly base: string;
  readonly quote: string;
}

const ZERO8 = "0.00000000";

/** `"0.5"` → `"0.50000000"`: a decimal with exactly 8 fraction digits (never rounds). */
export function dec8(value: string): string {
  const negative = value.startsWith("-");
  const text = negative ? value.slice(1) : value;
  const [whole, fraction = ""] = text.split(".");
  if (fraction.length > 8 && /[1-9]/.test(fraction.slice(8))) {
    throw new RangeError(`decimal: expected at most 8 fraction digits, found ${value}`);
  }
  return `${negative ? "-" : ""}${whole === "" ? "0" : whole}.${
    fraction.slice(0, 8).padEnd(8, "0")
  }`;
}

/** Binance order status of an engine order. */
export function binanceStatusOf(order: SimOrder): string {
  switch (order.state) {
    case "new":
      return "NEW";
    case "partially_filled":
      return "PARTIALLY_FILLED";
    case "filled":
      return "FILLED";
    case "expired":
      return "EXPIRED";
    case "canceled":
      // IOC / FOK / market remainders are EXPIRED on Binance; only user cancels are CANCELED.
      return order.endReason === "user" ? "CANCELED" : "EXPIRED";
  }
}

/** Binance `expiryReason` / `eR` of an engine order, "" when it did not expire. */
export function expiryReasonOf(order: SimOrder): string {
  if (binanceStatusOf(order) !== "EXPIRED") return "";
  switch (order.endReason) {
    case "ioc_remainder":
      return order.orderType === "market"
        ? "INSUFFICIENT_LIQUIDITY"
        : "UNFILLED_IOC_QUANTITY_EXPIRED";
    case "fok_unfilled":
      return "UNFILLED_FOK_ORDER_EXPIRED";
    default:
      return "EXCHANGE_CANCELED";
  }
}

/** Binance order type of an engine order. */
export function binanceTypeOf(order: SimOrder): string {
  if (order.orderType === "market") return "MARKET";
  return order.postOnly ? "LIMIT_MAKER" : "LIMIT";
}

/** Binance time in force (MARKET and LIMIT_MAKER show GTC). */
function timeInForceOf(order: SimOrder): string {
  return order.orderType === "market" || order.postOnly ? "GTC" : order.timeInForce;
}

function priceOf(order: SimOrder): string {
  return order.orderType === "market" ? ZERO8 : dec8(order.price);
}

function isWorking(order: SimOrder): boolean {
  return (order.state === "new" || order.state === "partially_filled") &&
    order.orderType === "limit" && order.timeInForce === "GTC";
}

/** One entry of a FULL response's `fills`. */
export interface WireFill {
  price: string;
  qty: string;
  commission: string;
  commissionAsset: string;
  tradeId: number;
}

/** The response of a new order in the requested `newOrderRespType`. */
export function placeResponse(
  order: SimOrder,
  options: { symbol: WireSymbol; respType: string; transactTimeMs: number; fills: WireFill[] },
): Record<string, unknown> {
  const ack: Record<string, unknown> = {
    symbol: options.symbol.exchange,
    orderId: order.orderId,
    orderListId: -1,
    clientOrderId: order.clientId,
    transactTime: options.transactTimeMs,
  };
  if (options.respType === "ACK") return ack;
  const result: Record<string, unknown> = {
    ...ack,
    price: priceOf(order),
    origQty: dec8(order.qty),
    executedQty: dec8(order.cumQty),
    origQuoteOrderQty: ZERO8,
    cummulativeQuoteQty: dec8(order.cumQuote),
    status: binanceStatusOf(order),
    timeInForce: timeInForceOf(order),
    type: binanceTypeOf(order),
    side: order.side === "buy" ? "BUY" : "SELL",
    workingTime: order.createdMs,
    selfTradePreventionMode: "NONE",
  };
  const expiry = expiryReasonOf(order);
  if (expiry !== "") result.expiryReason = expiry;
  if (options.respType === "FULL") result.fills = options.fills;
  return result;
}

/** The response of a successful cancel (§5.2). */
export function cancelResponse(
  order: SimOrder,
  options: { symbol: WireSymbol; cancelClientId: string; transactTimeMs: number },
): Record<string, unknown> {
  return {
    symbol: options.symbol.exchange,
    origClientOrderId: order.clientId,
    orderId: order.orderId,
    orderListId: -1,
    clientOrderId: options.cancelClientId,
    transactTime: options.transactTimeMs,
    price: priceOf(order),
    origQty: dec8(order.qty),
    executedQty: dec8(order.cumQty),
    origQuoteOrderQty: ZERO8,
    cummulativeQuoteQty: dec8(order.cumQuote),
    status: binanceStatusOf(order),
    timeInForce: timeInForceOf(order),
    type: binanceTypeOf(order),
    side: order.side === "buy" ? "BUY" : "SELL",
    selfTradePreventionMode: "NONE",
  };
}

/** An order as `GET /api/v3/order` and `openOrders` show it (§5.3). */
export function queryResponse(order: SimOrder, symbol: WireSymbol): Record<string, unknown> {
  const out: Record<string, unknown> = {
    symbol: symbol.exchange,
    orderId: order.orderId,
    orderListId: -1,
    clientOrderId: order.clientId,
    price: priceOf(order),
    origQty: dec8(order.qty),
    executedQty: dec8(order.cumQty),
    cummulativeQuoteQty: dec8(order.cumQuote),
    status: binanceStatusOf(order),
    timeInForce: timeInForceOf(order),
    type: binanceTypeOf(order),
    side: order.side === "buy" ? "BUY" : "SELL",
    stopPrice: ZERO8,
    icebergQty: ZERO8,
    time: order.createdMs,
    updateTime: order.updatedMs,
    isWorking: isWorking(order),
    workingTime: order.createdMs,
    origQuoteOrderQty: ZERO8,
    selfTradePreventionMode: "NONE",
  };
  const expiry = expiryReasonOf(order);
  if (expiry !== "") out.expiryReason = expiry;
  return out;
}

/** What an executionReport needs besides the engine event. */
export interface ReportContext {
  readonly symbol: WireSymbol;
  /** Event time (`E`), ms. */
  readonly eventTimeMs: number;
  /** Execution id (`I`), increasing. */
  readonly executionId: number;
  /** The cancel request's client id for a user cancel (becomes `c`; the order's id goes to `C`). */
  readonly cancelClientId: string;
}

/** The `executionReport` of one engine event, field for field as in §6.4. */
export function executionReport(
  event: SimOrderEvent,
  ctx: ReportContext,
): Record<string, unknown> {
  const order = event.order;
  const status = binanceStatusOf(order);
  let execType: string;
  if (event.kind === "new") execType = "NEW";
  else if (event.kind === "trade") execType = "TRADE";
  else execType = status === "CANCELED" ? "CANCELED" : "EXPIRED";
  const userCancel = execType === "CANCELED";
  const trade = event.kind === "trade" ? event : null;
  const report: Record<string, unknown> = {
    e: "executionReport",
    E: ctx.eventTimeMs,
    s: ctx.symbol.exchange,
    c: userCancel ? ctx.cancelClientId : order.clientId,
    S: order.side === "buy" ? "BUY" : "SELL",
    o: binanceTypeOf(order),
    f: timeInForceOf(order),
    q: dec8(order.qty),
    p: priceOf(order),
    P: ZERO8,
    F: ZERO8,
    g: -1,
    C: userCancel ? order.clientId : "",
    x: execType,
    X: status,
    r: "NONE",
    i: order.orderId,
    l: trade === null ? ZERO8 : dec8(trade.qty),
    z: dec8(order.cumQty),
    L: trade === null ? ZERO8 : dec8(trade.price),
    n: trade === null ? "0" : dec8(trade.fee),
    N: trade === null ? null : trade.feeAsset,
    T: order.updatedMs,
    t: trade === null ? -1 : trade.tradeId,
    I: ctx.executionId,
    w: isWorking(order),
    m: trade === null ? false : trade.maker,
    M: trade !== null,
    O: order.createdMs,
    Z: dec8(order.cumQuote),
    Y: trade === null ? ZERO8 : dec8(trade.quote),
    Q: ZERO8,
    W: order.createdMs,
    V: "NONE",
  };
  const expiry = expiryReasonOf(order);
  if (execType === "EXPIRED" && expiry !== "") report.eR = expiry;
  return report;
}

/** `outboundAccountPosition` listing `assets` (§6.5). */
export function accountPosition(
  balances: Record<string, { free: string; locked: string }>,
  options: { assets: readonly string[]; eventTimeMs: number; updateTimeMs: number },
): Record<string, unknown> {
  return {
    e: "outboundAccountPosition",
    E: options.eventTimeMs,
    u: options.updateTimeMs,
    B: options.assets.map((a) => ({
      a,
      f: dec8(balances[a]?.free ?? "0"),
      l: dec8(balances[a]?.locked ?? "0"),
    })),
  };
}
