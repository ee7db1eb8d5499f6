/**
 * Binance normalizer: maps a decoded {@linkcode ProviderRaw} (Binance's names and symbols) onto a
 * pooled {@linkcode CanonicalEvent}. Knows Binance semantics: `m` (buyer is maker) means the
 * taker sold; diff depth carries `U..u`; bookTicker and partial depth have no event time.
 *
 * @module
 */

import type { CanonicalEvent } from "../../schema/canonical_event.ts";
import type { ProviderRaw } from "../../schema/provider_raw.ts";

/** Exchange symbol (`BTCUSDT`) to canonical symbol (`BTC-USDT`), built from exchangeInfo. */
export type SymbolMap = ReadonlyMap<string, string>;

/** Why a raw message produced no canonical event. */
export type NormalizeSkip = "not_market_data" | "unknown_symbol";

/**
 * Fills `out` from `raw`. Returns null when `out` now holds an event, or the reason it does not
 * (control frames, errors, unknown symbols: the caller counts and logs them and releases `out`).
 */
export function normalizeBinance(
  raw: ProviderRaw,
  out: CanonicalEvent,
  symbols: SymbolMap,
): NormalizeSkip | null {
  const symbol = symbols.get(raw.symbol);
  switch (raw.eventType) {
    case "trade":
    case "aggTrade":
      if (symbol === undefined) return "unknown_symbol";
      out.kind = "trade";
      out.tradeId = raw.tradeId;
      out.price = raw.price;
      out.qty = raw.qty;
      out.side = raw.buyerMaker ? "sell" : "buy";
      out.seq = raw.lastId;
      // aggTrade: `a` (aggregate id) is the stream sequence; `f`/`l` are plain trade ids.
      out.seqFirst = raw.lastId;
      out.exchangeTsMs = raw.tradeTimeMs || raw.eventTimeMs;
      break;
    case "depthUpdate":
      if (symbol === undefined) return "unknown_symbol";
      out.kind = "book_update";
      out.seq = raw.lastId;
      out.seqFirst = raw.firstId;
      out.exchangeTsMs = raw.eventTimeMs;
      out.setBids(raw.bidStore, raw.bidsLength);
      out.setAsks(raw.askStore, raw.asksLength);
      break;
    case "depthPartial":
      if (symbol === undefined) return "unknown_symbol";
      out.kind = "book_snapshot";
      out.seq = raw.lastId;
      out.seqFirst = raw.lastId;
      out.exchangeTsMs = raw.eventTimeMs;
      out.setBids(raw.bidStore, raw.bidsLength);
      out.setAsks(raw.askStore, raw.asksLength);
      break;
    case "bookTicker":
      if (symbol === undefined) return "unknown_symbol";
      out.kind = "ticker";
      out.seq = raw.lastId;
      out.seqFirst = raw.lastId;
      out.bidPx = raw.bidPx;
      out.bidQty = raw.bidQty;
      out.askPx = raw.askPx;
      out.askQty = raw.askQty;
      break;
    case "24hrTicker":
    case "24hrMiniTicker":
      if (symbol === undefined) return "unknown_symbol";
      out.kind = "ticker";
      out.seq = raw.lastId;
      out.seqFirst = raw.lastId;
      out.exchangeTsMs = raw.eventTimeMs;
      out.price = raw.close;
      out.qty = raw.qty;
      out.bidPx = raw.bidPx;
      out.bidQty = raw.bidQty;
      out.askPx = raw.askPx;
      out.askQty = raw.askQty;
      out.open = raw.open;
      out.high = raw.high;
      out.low = raw.low;
      out.volume = raw.volume;
      out.quoteVolume = raw.quoteVolume;
      out.tradeCount = raw.tradeCount;
      break;
    case "kline":
      if (symbol === undefined) return "unknown_symbol";
      out.kind = "kline";
      out.seq = raw.lastId;
      out.seqFirst = raw.firstId;
      out.exchangeTsMs = raw.eventTimeMs;
      out.interval = raw.interval;
      out.openTimeMs = raw.openTimeMs;
      out.closeTimeMs = raw.closeTimeMs;
      out.open = raw.open;
      out.high = raw.high;
      out.low = raw.low;
      out.price = raw.close;
      out.volume = raw.volume;
      out.quoteVolume = raw.quoteVolume;
      out.tradeCount = raw.tradeCount;
      out.closed = raw.closed;
      break;
    default:
      return "not_market_data";
  }
  out.provider = "binance";
  out.symbol = symbol;
  out.recvTsMs = raw.recvTsMs;
  return null;
}
