/**
 * CanonicalEvent: one normalized market-data event, pooled on the hot path.
 *
 * One flat class for every market kind keeps V8's property access monomorphic; fields that do
 * not apply to a kind keep their zero value. Prices and sizes are the exchange's exact decimal
 * strings. Book levels are flat arrays `[price, qty, price, qty, ...]` whose capacity survives
 * `reset()`.
 *
 * @module
 */

import type { Poolable } from "../pool/poolable.ts";
import { isMarketEventKind, type MarketEventKind, type Side } from "./event_kind.ts";
import {
  isCanonicalSymbol,
  isDecimalOrEmpty,
  isDecimalString,
  isKlineInterval,
  isProviderName,
  isSequenceNumber,
  isTimestampMs,
} from "./exact_values.ts";
import { POISON_NUMBER, POISON_STRING } from "./poison.ts";

/** The plain-object form of a {@linkcode CanonicalEvent}: what consumers receive (a clone). */
export interface CanonicalEventData {
  kind: MarketEventKind | "";
  provider: string;
  symbol: string;
  /** Provider sequence: trade id, book update id (`u`), kline/ticker update id; 0 when none. */
  seq: number;
  /** First provider sequence covered (book diffs: `U`); equals `seq` otherwise. */
  seqFirst: number;
  /** Exchange event time, ms since epoch (0 when the exchange sends none). */
  exchangeTsMs: number;
  /** Gateway receive time of the frame, ms since epoch with sub-ms fraction. */
  recvTsMs: number;
  /** Trade: exchange trade id (string: some exchanges exceed 2^53). */
  tradeId: string;
  /** Trade: price. Ticker: last price. Kline: close. */
  price: string;
  /** Trade: quantity. Ticker: last quantity. */
  qty: string;
  /** Trade: taker side. */
  side: Side;
  /** Book: flat bid levels, best first for snapshots, `[price, qty, ...]`; qty "0" removes. */
  bids: string[];
  /** Book: flat ask levels, as `bids`. */
  asks: string[];
  /** Ticker: best bid/ask. */
  bidPx: string;
  bidQty: string;
  askPx: string;
  askQty: string;
  /** Ticker (24 h) and kline: open, high, low, base and quote volume. */
  open: string;
  high: string;
  low: string;
  volume: string;
  quoteVolume: string;
  /** Kline: interval (`1m`), bar open and close time, trade count, whether the bar is final. */
  interval: string;
  openTimeMs: number;
  closeTimeMs: number;
  tradeCount: number;
  closed: boolean;
}

/** A pooled canonical market-data event. */
export class CanonicalEvent implements Poolable, CanonicalEventData {
  kind: MarketEventKind | "" = "";
  provider = "";
  symbol = "";
  seq = 0;
  seqFirst = 0;
  exchangeTsMs = 0;
  recvTsMs = 0;
  tradeId = "";
  price = "";
  qty = "";
  side: Side = "";
  bids: string[] = [];
  asks: string[] = [];
  bidPx = "";
  bidQty = "";
  askPx = "";
  askQty = "";
  open = "";
  high = "";
  low = "";
  volume = "";
  quoteVolume = "";
  interval = "";
  openTimeMs = 0;
  closeTimeMs = 0;
  tradeCount = 0;
  closed = false;

  /** Zeroes every field; book arrays are emptied in place. */
  reset(): void {
    this.kind = "";
    this.provider = "";
    this.symbol = "";
    this.seq = 0;
    this.seqFirst = 0;
    this.exchangeTsMs = 0;
    this.recvTsMs = 0;
    this.tradeId = "";
    this.price = "";
    this.qty = "";
    this.side = "";
    if (this.bids.length !== 0) this.bids.length = 0; // guard: a no-op length write costs ~50 ns
    if (this.asks.length !== 0) this.asks.length = 0;
    this.bidPx = "";
    this.bidQty = "";
    this.askPx = "";
    this.askQty = "";
    this.open = "";
    this.high = "";
    this.low = "";
    this.volume = "";
    this.quoteVolume = "";
    this.interval = "";
    this.openTimeMs = 0;
    this.closeTimeMs = 0;
    this.tradeCount = 0;
    this.closed = false;
  }

  /** Debug mode: sentinel values in every field (see `schema/poison.ts`). */
  poison(): void {
    this.provider = POISON_STRING;
    this.symbol = POISON_STRING;
    this.seq = POISON_NUMBER;
    this.seqFirst = POISON_NUMBER;
    this.exchangeTsMs = POISON_NUMBER;
    this.recvTsMs = POISON_NUMBER;
    this.tradeId = POISON_STRING;
    this.price = POISON_STRING;
    this.qty = POISON_STRING;
    this.bids.length = 0;
    this.bids.push(POISON_STRING, POISON_STRING);
    this.asks.length = 0;
    this.asks.push(POISON_STRING, POISON_STRING);
  }

  /** A plain heap copy (arrays copied) that the receiver owns and never releases. */
  clone(): CanonicalEventData {
    return cloneCanonicalEventData(this);
  }

  /** Copies every field of `src` into this object (arrays copied in place). */
  copyFrom(src: CanonicalEventData): this {
    this.kind = src.kind;
    this.provider = src.provider;
    this.symbol = src.symbol;
    this.seq = src.seq;
    this.seqFirst = src.seqFirst;
    this.exchangeTsMs = src.exchangeTsMs;
    this.recvTsMs = src.recvTsMs;
    this.tradeId = src.tradeId;
    this.price = src.price;
    this.qty = src.qty;
    this.side = src.side;
    copyArrayInto(this.bids, src.bids);
    copyArrayInto(this.asks, src.asks);
    this.bidPx = src.bidPx;
    this.bidQty = src.bidQty;
    this.askPx = src.askPx;
    this.askQty = src.askQty;
    this.open = src.open;
    this.high = src.high;
    this.low = src.low;
    this.volume = src.volume;
    this.quoteVolume = src.quoteVolume;
    this.interval = src.interval;
    this.openTimeMs = src.openTimeMs;
    this.closeTimeMs = src.closeTimeMs;
    this.tradeCount = src.tradeCount;
    this.closed = src.closed;
    return this;
  }
}

/**
 * A plain heap copy of any canonical event, pooled or plain (arrays copied). Used for the
 * per-subscriber clones and for the fragments a {@linkcode MergedEvent} holds.
 */
export function cloneCanonicalEventData(src: CanonicalEventData): CanonicalEventData {
  return {
    kind: src.kind,
    provider: src.provider,
    symbol: src.symbol,
    seq: src.seq,
    seqFirst: src.seqFirst,
    exchangeTsMs: src.exchangeTsMs,
    recvTsMs: src.recvTsMs,
    tradeId: src.tradeId,
    price: src.price,
    qty: src.qty,
    side: src.side,
    bids: src.bids.slice(),
    asks: src.asks.slice(),
    bidPx: src.bidPx,
    bidQty: src.bidQty,
    askPx: src.askPx,
    askQty: src.askQty,
    open: src.open,
    high: src.high,
    low: src.low,
    volume: src.volume,
    quoteVolume: src.quoteVolume,
    interval: src.interval,
    openTimeMs: src.openTimeMs,
    closeTimeMs: src.closeTimeMs,
    tradeCount: src.tradeCount,
    closed: src.closed,
  };
}

/** Replaces the contents of `dst` with those of `src`, keeping `dst`'s identity. */
export function copyArrayInto(dst: string[], src: readonly string[]): void {
  if (dst.length !== src.length) dst.length = src.length;
  for (let i = 0; i < src.length; i++) dst[i] = src[i];
}

/**
 * Checks a canonical event; returns null when valid, else a message saying what was expected and
 * what was found. Every event that passes maps onto a wire `event` message that validates against
 * `docs/schema/event.schema.json`.
 */
export function validateCanonicalEvent(e: CanonicalEventData): string | null {
  if (!isMarketEventKind(e.kind)) return `expected a market event kind, found "${e.kind}"`;
  if (!isProviderName(e.provider)) return `expected a provider name, found "${e.provider}"`;
  if (!isCanonicalSymbol(e.symbol)) return `expected a BASE-QUOTE symbol, found "${e.symbol}"`;
  if (!isSequenceNumber(e.seq) || !isSequenceNumber(e.seqFirst)) {
    return `expected seq and seqFirst as non-negative integers, found ${e.seq} and ${e.seqFirst}`;
  }
  if (!isTimestampMs(e.exchangeTsMs) || !isTimestampMs(e.recvTsMs)) {
    return `expected exchangeTsMs and recvTsMs as ms timestamps, found ${e.exchangeTsMs} and ${e.recvTsMs}`;
  }
  switch (e.kind) {
    case "trade":
      if (!isDecimalString(e.price) || !isDecimalString(e.qty)) {
        return `trade: expected decimal price and qty, found "${e.price}" and "${e.qty}"`;
      }
      if (e.side !== "buy" && e.side !== "sell") {
        return `trade: expected side buy or sell, found "${e.side}"`;
      }
      return null;
    case "book_snapshot":
    case "book_update":
      return validateLevels("bids", e.bids) ?? validateLevels("asks", e.asks);
    case "ticker":
      return validateOptionalDecimals("ticker", [
        ["bidPx", e.bidPx],
        ["bidQty", e.bidQty],
        ["askPx", e.askPx],
        ["askQty", e.askQty],
        ["price (last)", e.price],
        ["qty (last)", e.qty],
        ["open", e.open],
        ["high", e.high],
        ["low", e.low],
        ["volume", e.volume],
        ["quoteVolume", e.quoteVolume],
      ]);
    case "kline":
      if (!isKlineInterval(e.interval)) {
        return `kline: expected an interval such as 1m or 4h, found "${e.interval}"`;
      }
      for (const [name, v] of [["open", e.open], ["high", e.high], ["low", e.low]] as const) {
        if (!isDecimalString(v)) return `kline: expected decimal ${name}, found "${v}"`;
      }
      if (!isDecimalString(e.price)) return `kline: expected decimal close, found "${e.price}"`;
      if (!isTimestampMs(e.openTimeMs) || !isTimestampMs(e.closeTimeMs)) {
        return `kline: expected openTimeMs and closeTimeMs as ms timestamps, found ${e.openTimeMs} and ${e.closeTimeMs}`;
      }
      if (!isSequenceNumber(e.tradeCount)) {
        return `kline: expected tradeCount as a non-negative integer, found ${e.tradeCount}`;
      }
      return validateOptionalDecimals("kline", [
        ["volume", e.volume],
        ["quoteVolume", e.quoteVolume],
      ]);
  }
}

function validateOptionalDecimals(
  kind: string,
  fields: readonly (readonly [string, string])[],
): string | null {
  for (const [name, v] of fields) {
    if (!isDecimalOrEmpty(v)) return `${kind}: expected decimal or empty ${name}, found "${v}"`;
  }
  return null;
}

function validateLevels(side: string, levels: readonly string[]): string | null {
  if (levels.length % 2 !== 0) {
    return `book: expected ${side} as price/qty pairs, found ${levels.length} values`;
  }
  for (let i = 0; i < levels.length; i++) {
    if (!isDecimalString(levels[i])) {
      return `book: expected decimal at ${side}[${i}], found "${levels[i]}"`;
    }
  }
  return null;
}
