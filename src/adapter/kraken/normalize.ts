/**
 * Kraken v2 `trade` and `ticker` items onto pooled canonical events, and the symbol mapping
 * (`BTC/USDT` <-> `BTC-USDT`). Prices and quantities are padded to the pair's precisions, so
 * they read exactly as the exchange's fixed-precision values.
 *
 * @module
 */

import type { CanonicalEvent } from "../../schema/canonical_event.ts";
import { decimalText } from "./book_checksum.ts";
import { type KrakenPrecision, rfc3339Ms } from "./kraken_book.ts";

/**
 * Kraken v2 symbol of a canonical one (`BTC-USDT` -> `BTC/USDT`), or null when `canonical` is
 * not `BASE-QUOTE` with exactly one dash.
 */
export function krakenSymbolOf(canonical: string): string | null {
  const parts = canonical.split("-");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") return null;
  return `${parts[0]}/${parts[1]}`;
}

/** Canonical symbol of a Kraken v2 one (`BTC/USDT` -> `BTC-USDT`). */
export function canonicalSymbolOf(kraken: string): string {
  return kraken.replace("/", "-");
}

/**
 * Fills `ev` from one `trade` item; false (ev left partly written) when a field is malformed.
 * `seq` is the `trade_id`, sequential per pair.
 */
export function normalizeKrakenTrade(
  item: Record<string, unknown>,
  ev: CanonicalEvent,
  ctx: { provider: string; canonicalSymbol: string; precision: KrakenPrecision; recvTsMs: number },
): boolean {
  const price = decimalText(item.price, ctx.precision.price);
  const qty = decimalText(item.qty, ctx.precision.qty);
  const id = item.trade_id;
  if (price === null || qty === null || !(Number.isSafeInteger(id) && (id as number) >= 0)) {
    return false;
  }
  ev.kind = "trade";
  ev.provider = ctx.provider;
  ev.symbol = ctx.canonicalSymbol;
  ev.seq = id as number;
  ev.seqFirst = id as number;
  ev.tradeId = String(id);
  ev.price = price;
  ev.qty = qty;
  ev.side = item.side === "buy" ? "buy" : item.side === "sell" ? "sell" : "";
  ev.exchangeTsMs = rfc3339Ms(item.timestamp);
  ev.recvTsMs = ctx.recvTsMs;
  return true;
}

/**
 * Fills `ev` from one `ticker` item; false when a field is malformed. Kraken's ticker has no
 * sequence: `seq` is 0. `price` is `last`, `volume` the 24 h base volume.
 */
export function normalizeKrakenTicker(
  item: Record<string, unknown>,
  ev: CanonicalEvent,
  ctx: { provider: string; canonicalSymbol: string; precision: KrakenPrecision; recvTsMs: number },
): boolean {
  const p = ctx.precision;
  const bid = decimalText(item.bid, p.price);
  const bidQty = decimalText(item.bid_qty, p.qty);
  const ask = decimalText(item.ask, p.price);
  const askQty = decimalText(item.ask_qty, p.qty);
  const last = decimalText(item.last, p.price);
  if (bid === null || bidQty === null || ask === null || askQty === null || last === null) {
    return false;
  }
  ev.kind = "ticker";
  ev.provider = ctx.provider;
  ev.symbol = ctx.canonicalSymbol;
  ev.price = last;
  ev.bidPx = bid;
  ev.bidQty = bidQty;
  ev.askPx = ask;
  ev.askQty = askQty;
  // Optional 24 h fields: left "" when absent or malformed.
  ev.high = decimalText(item.high, p.price) ?? "";
  ev.low = decimalText(item.low, p.price) ?? "";
  ev.volume = decimalText(item.volume, p.qty) ?? "";
  ev.exchangeTsMs = rfc3339Ms(item.timestamp);
  ev.recvTsMs = ctx.recvTsMs;
  return true;
}
