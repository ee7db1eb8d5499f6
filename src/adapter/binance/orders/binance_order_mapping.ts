/**
 * Binance order messages → exchange-neutral venue types: `executionReport` events (protocol
 * notes §6.4) into {@linkcode VenueExecUpdate}s, and order query results (§5.3) into
 * {@linkcode VenueOrderStatus}es.
 *
 * @module
 */

import type {
  VenueExecUpdate,
  VenueOrderState,
  VenueOrderStatus,
} from "../../../orders/order_venue.ts";

/** Binance order status (`X` / `status`) → venue state; undefined for an unknown status. */
export function venueStateOf(status: string): VenueOrderState | undefined {
  switch (status) {
    case "NEW":
    case "PENDING_NEW":
      return "new";
    case "PARTIALLY_FILLED":
      return "partially_filled";
    case "FILLED":
      return "filled";
    case "CANCELED":
    case "PENDING_CANCEL":
      return "canceled";
    case "REJECTED":
      return "rejected";
    case "EXPIRED":
    case "EXPIRED_IN_MATCH":
      return "expired";
    default:
      return undefined;
  }
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function idText(value: unknown): string {
  return typeof value === "number" || typeof value === "string" ? String(value) : "";
}

/**
 * Maps one `executionReport` payload (the `event` of the WS API wrapper). `symbolOf` turns the
 * exchange symbol into the canonical one (unknown: returned unchanged). Returns null when the
 * payload lacks the fields every report carries.
 */
export function execUpdateFromReport(
  report: Record<string, unknown>,
  symbolOf: (exchangeSymbol: string) => string,
): VenueExecUpdate | null {
  const state = venueStateOf(str(report.X));
  const execType = str(report.x);
  if (state === undefined || execType === "" || typeof report.s !== "string") return null;
  // On a cancel `c` is the cancel request's id and `C` the order's own (protocol notes §6.4).
  const original = str(report.C);
  const venueClientId = original !== "" ? original : str(report.c);
  if (venueClientId === "") return null;
  const isTrade = execType === "TRADE";
  let reasonCode = "";
  let reasonText = "";
  if (execType === "EXPIRED" || state === "expired") {
    reasonCode = str(report.eR);
    reasonText = reasonCode === "" ? "" : `expired: ${reasonCode}`;
  } else if (str(report.r) !== "" && report.r !== "NONE") {
    reasonCode = str(report.r);
    reasonText = `rejected: ${reasonCode}`;
  }
  return {
    venueClientId,
    exchangeOrderId: idText(report.i),
    symbol: symbolOf(report.s),
    state,
    cumQty: str(report.z),
    cumQuote: str(report.Z),
    lastQty: isTrade ? str(report.l) : "0",
    lastPrice: isTrade ? str(report.L) : "",
    fee: isTrade ? str(report.n) : "",
    feeAsset: isTrade ? str(report.N) : "",
    tradeId: isTrade ? idText(report.t) : "",
    reasonCode,
    reasonText,
    exchangeTsMs: typeof report.E === "number" ? report.E : 0,
  };
}

/**
 * Maps one order object of `order.status` / `openOrders.status` (the REST §5.3 shape). Returns
 * null when it lacks an id, a symbol or a known status.
 */
export function orderStatusFromQuery(
  order: Record<string, unknown>,
  symbolOf: (exchangeSymbol: string) => string,
): VenueOrderStatus | null {
  const state = venueStateOf(str(order.status));
  if (state === undefined || typeof order.symbol !== "string") return null;
  const venueClientId = str(order.clientOrderId);
  if (venueClientId === "") return null;
  const cumQty = str(order.executedQty);
  const cumQuote = str(order.cummulativeQuoteQty);
  const reason = str(order.expiryReason);
  return {
    venueClientId,
    exchangeOrderId: idText(order.orderId),
    symbol: symbolOf(order.symbol),
    state,
    cumQty,
    cumQuote,
    avgPrice: averagePrice(cumQuote, cumQty),
    reasonCode: reason === "NONE" ? "" : reason,
    reasonText: reason === "" || reason === "NONE" ? "" : `expired: ${reason}`,
    updateTsMs: typeof order.updateTime === "number" ? order.updateTime : 0,
  };
}

const DECIMAL_RE = /^(\d+)(?:\.(\d+))?$/;
/** Decimals of a computed average price. */
const AVERAGE_DECIMALS = 8;

/**
 * `quote / qty` truncated to 8 decimals, exact (BigInt); "" when nothing filled or a value is
 * not a plain decimal.
 */
export function averagePrice(quote: string, qty: string): string {
  const q = DECIMAL_RE.exec(quote);
  const b = DECIMAL_RE.exec(qty);
  if (q === null || b === null) return "";
  const qDec = q[2] ?? "";
  const bDec = b[2] ?? "";
  const scale = Math.max(qDec.length, bDec.length);
  const quoteInt = BigInt(q[1] + qDec.padEnd(scale, "0"));
  const qtyInt = BigInt(b[1] + bDec.padEnd(scale, "0"));
  if (qtyInt === 0n) return "";
  const scaled = (quoteInt * 10n ** BigInt(AVERAGE_DECIMALS)) / qtyInt;
  const digits = scaled.toString().padStart(AVERAGE_DECIMALS + 1, "0");
  return `${digits.slice(0, -AVERAGE_DECIMALS)}.${digits.slice(-AVERAGE_DECIMALS)}`;
}
