/**
 * Maps OKX order rows (the `orders` channel push and the REST order row share field names) to
 * the gateway's {@linkcode VenueExecUpdate} / {@linkcode VenueOrderStatus}.
 *
 * Decisions (protocol notes §6.3):
 * - state `live` → `new`; `partially_filled`, `filled` as is; `canceled`/`mmp_canceled` →
 *   `expired` when the system ended the order without a user request (cancelSource "0" system,
 *   "13" FOK not filled, "14" IOC remainder, "31" post-only would take, "32" self-trade
 *   prevention), else `canceled` ("1" user and everything else). The reason code is the
 *   cancelSource, the text `cancelSourceReason` (or a built-in text).
 * - A push carries a fill only when `tradeId` is non-empty and `fillSz` > 0 (OKX may push a
 *   market order `filled` with `fillSz:"0"` and no `tradeId`).
 * - `cumQty` = `accFillSz`. OKX sends only `avgPx`, whose rounding is unknown, so `cumQuote` is
 *   the exact sum of `fillSz × fillPx` over the fills this process saw for the order, and only
 *   when their quantities add up to `accFillSz`; otherwise "" (unknown).
 * - `fee` is reported positive when charged: OKX's `fillFee` is negative for a charge, so its
 *   sign is flipped; a rebate comes out negative.
 *
 * @module
 */

import type {
  VenueExecUpdate,
  VenueOrderState,
  VenueOrderStatus,
} from "../../../orders/order_venue.ts";
import {
  decimalAdd,
  decimalCompare,
  decimalIsPositive,
  decimalMul,
  decimalNegate,
  isOkxDecimal,
} from "./okx_order_decimal.ts";

/** cancelSource values that mean "ended by the exchange, not by the user" → `expired`. */
export const OKX_EXPIRED_CANCEL_SOURCES: ReadonlySet<string> = new Set([
  "0",
  "13",
  "14",
  "31",
  "32",
]);

const CANCEL_SOURCE_TEXT: Readonly<Record<string, string>> = {
  "0": "Order canceled by system",
  "1": "Order canceled by user",
  "13": "FOK order canceled due to incompletely filled",
  "14": "IOC order partially canceled due to incompletely filled",
  "31": "The post-only order will take liquidity in maker orders",
  "32": "Self trade prevention",
};

/** Orders whose fills {@linkcode OkxQuoteTracker} remembers (oldest forgotten first). */
export const OKX_TRACKED_ORDERS_MAX = 10_000;

interface Tracked {
  qty: string;
  quote: string;
  tradeIds: Set<string>;
}

/** Exact cumulative quote per order, from the fills seen (see the module doc). */
export class OkxQuoteTracker {
  readonly #orders = new Map<string, Tracked>();

  /** Records a fill once per (ordId, tradeId). */
  addFill(ordId: string, tradeId: string, qty: string, price: string): void {
    let t = this.#orders.get(ordId);
    if (t === undefined) {
      t = { qty: "0", quote: "0", tradeIds: new Set() };
      this.#orders.set(ordId, t);
      if (this.#orders.size > OKX_TRACKED_ORDERS_MAX) {
        const oldest = this.#orders.keys().next().value;
        if (oldest !== undefined) this.#orders.delete(oldest);
      }
    }
    if (t.tradeIds.has(tradeId)) return;
    t.tradeIds.add(tradeId);
    t.qty = decimalAdd(t.qty, qty);
    t.quote = decimalAdd(t.quote, decimalMul(qty, price));
  }

  /** The exact cumulative quote when the seen fills add up to `cumQty`, else "". */
  cumQuote(ordId: string, cumQty: string): string {
    if (!isOkxDecimal(cumQty)) return "";
    if (decimalCompare(cumQty, "0") === 0) return "0";
    const t = this.#orders.get(ordId);
    return t !== undefined && decimalCompare(t.qty, cumQty) === 0 ? t.quote : "";
  }
}

type Row = Record<string, unknown>;

function text(row: Row, key: string): string {
  const v = row[key];
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : "";
}

/** The venue state and reason of an OKX row, or null for a state the gateway cannot use. */
export function okxVenueState(
  row: Row,
): { state: VenueOrderState; reasonCode: string; reasonText: string } | null {
  const state = text(row, "state");
  switch (state) {
    case "live":
      return { state: "new", reasonCode: "", reasonText: "" };
    case "partially_filled":
    case "filled":
      return { state, reasonCode: "", reasonText: "" };
    case "canceled":
    case "mmp_canceled": {
      const source = text(row, "cancelSource");
      const reasonText = text(row, "cancelSourceReason") || CANCEL_SOURCE_TEXT[source] ||
        (state === "mmp_canceled" ? "Order canceled by market maker protection" : "");
      return {
        state: OKX_EXPIRED_CANCEL_SOURCES.has(source) ? "expired" : "canceled",
        reasonCode: source,
        reasonText,
      };
    }
    default:
      return null;
  }
}

/**
 * Maps one `orders` push row; null when it is not usable (unknown instrument or state, no
 * clOrdId — orders placed outside the gateway). Records the fill in `tracker`.
 */
export function mapOkxOrderPush(
  row: Row,
  context: { symbolOf: (instId: string) => string | undefined; tracker: OkxQuoteTracker },
): VenueExecUpdate | null {
  const symbol = context.symbolOf(text(row, "instId"));
  const mapped = okxVenueState(row);
  const venueClientId = text(row, "clOrdId");
  if (symbol === undefined || mapped === null || venueClientId === "") return null;
  const ordId = text(row, "ordId");
  const tradeId = text(row, "tradeId");
  const fillSz = text(row, "fillSz");
  const fillPx = text(row, "fillPx");
  const hasFill = tradeId !== "" && decimalIsPositive(fillSz) && isOkxDecimal(fillPx);
  if (hasFill) context.tracker.addFill(ordId, tradeId, fillSz, fillPx);
  const cumQty = isOkxDecimal(text(row, "accFillSz")) ? text(row, "accFillSz") : "0";
  const fillFee = text(row, "fillFee");
  return {
    venueClientId,
    exchangeOrderId: ordId,
    symbol,
    state: mapped.state,
    cumQty,
    cumQuote: context.tracker.cumQuote(ordId, cumQty),
    lastQty: hasFill ? fillSz : "0",
    lastPrice: hasFill ? fillPx : "",
    fee: hasFill && isOkxDecimal(fillFee) ? decimalNegate(fillFee) : "",
    feeAsset: hasFill && isOkxDecimal(fillFee) ? text(row, "fillFeeCcy") : "",
    tradeId: hasFill ? tradeId : "",
    reasonCode: mapped.reasonCode,
    reasonText: mapped.reasonText,
    exchangeTsMs: Number(text(row, "uTime")) || 0,
  };
}

/** Maps a REST order row (`/trade/order`, `/trade/orders-pending`); null when unusable. */
export function mapOkxOrderStatus(
  row: Row,
  context: { symbolOf: (instId: string) => string | undefined; tracker: OkxQuoteTracker },
): VenueOrderStatus | null {
  const symbol = context.symbolOf(text(row, "instId"));
  const mapped = okxVenueState(row);
  if (symbol === undefined || mapped === null) return null;
  const ordId = text(row, "ordId");
  const cumQty = isOkxDecimal(text(row, "accFillSz")) ? text(row, "accFillSz") : "0";
  return {
    venueClientId: text(row, "clOrdId"),
    exchangeOrderId: ordId,
    symbol,
    state: mapped.state,
    cumQty,
    cumQuote: context.tracker.cumQuote(ordId, cumQty),
    avgPrice: text(row, "avgPx"),
    reasonCode: mapped.reasonCode,
    reasonText: mapped.reasonText,
    updateTsMs: Number(text(row, "uTime")) || 0,
  };
}
