/**
 * CanonicalEvent: one normalized market-data event, pooled on the hot path.
 *
 * One flat class for every market kind keeps V8's property access monomorphic; fields that do
 * not apply to a kind keep their zero value. Prices and sizes are the exchange's exact decimal
 * strings. Book levels are flat `[price, qty, price, qty, ...]`.
 *
 * Book level storage: the pooled event keeps its level arrays (`bidStore`, `askStore`) across
 * reuse, with explicit counts (`bidsLength`, `asksLength`) saying how much of each is this event's.
 * Emptying a V8 array (`length = 0`) frees its backing store, so the previous design regrew both
 * arrays on every book event (~350 B per event in the fan-out bench). Consumers never see the
 * storage: `clone()` copies exactly the used prefix into the plain {@linkcode CanonicalEventData}
 * shape (`bids`/`asks` of the used length), so the wire format and docs are unchanged. The pooled
 * class deliberately has no `bids`/`asks` fields, so code that reads a pooled event as plain data
 * does not type-check; such readers take {@linkcode CanonicalEventLike} and read within the counts.
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
import { copyPrefix, LevelSides } from "./level_store.ts";
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

/** Levels per side whose storage a pooled event keeps across `reset()` (see `level_store.ts`). */
export { LEVELS_RETAINED_MAX } from "./level_store.ts";

/** Every field of {@linkcode CanonicalEventData} except the book level arrays. */
export type CanonicalEventScalars = Omit<CanonicalEventData, "bids" | "asks">;

/**
 * A canonical event in either form: the pooled {@linkcode CanonicalEvent} (levels in its stores,
 * within its counts) or the plain {@linkcode CanonicalEventData} (levels in `bids`/`asks`). For
 * code that handles both, such as the dispatcher's fan-out (pooled original or held clone).
 */
export type CanonicalEventLike = CanonicalEvent | CanonicalEventData;

/** A pooled canonical market-data event. */
export class CanonicalEvent extends LevelSides implements Poolable, CanonicalEventScalars {
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

  /**
   * Zeroes every field. Level storage is kept (its used slots set to "", so no stale string stays
   * reachable) and trimmed to {@linkcode LEVELS_RETAINED_MAX} levels per side.
   */
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
    // Out of line, so that reset() stays small enough for V8 to inline into the pool's release.
    // The store lengths are checked too: a count lowered to 0 after a huge snapshot still trims.
    if (this.levelsNeedReset()) this.resetLevelSides();
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
    // One poisoned level per side, inside the counts: a clone or validation after release sees
    // it (a count of NaN would read as an empty side and pass silently).
    this.setBids(POISONED_LEVEL);
    this.setAsks(POISONED_LEVEL);
  }

  /**
   * A plain heap copy that the receiver owns and never releases: `bids`/`asks` are new arrays of
   * exactly the used length.
   */
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
    this.setBids(src.bids);
    this.setAsks(src.asks);
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

const POISONED_LEVEL: readonly string[] = Object.freeze([POISON_STRING, POISON_STRING]);

/**
 * A plain heap copy of any canonical event, pooled or plain: `bids`/`asks` are new arrays of
 * the used levels only. Used for the per-subscriber clones and for the fragments a
 * {@linkcode MergedEvent} holds.
 */
export function cloneCanonicalEventData(src: CanonicalEventLike): CanonicalEventData {
  let bids: string[];
  let asks: string[];
  if (src instanceof CanonicalEvent) {
    bids = copyPrefix(src.bidStore, src.bidsLength);
    asks = copyPrefix(src.askStore, src.asksLength);
  } else {
    bids = src.bids.slice();
    asks = src.asks.slice();
  }
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
    bids,
    asks,
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
export function validateCanonicalEvent(e: CanonicalEventLike): string | null {
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
      if (e instanceof CanonicalEvent) {
        return validateLevels("bids", e.bidStore, e.bidsLength) ??
          validateLevels("asks", e.askStore, e.asksLength);
      }
      return validateLevels("bids", e.bids, e.bids.length) ??
        validateLevels("asks", e.asks, e.asks.length);
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

/** Checks the first `length` values of flat `levels`. */
function validateLevels(side: string, levels: readonly string[], length: number): string | null {
  if (length % 2 !== 0) {
    return `book: expected ${side} as price/qty pairs, found ${length} values`;
  }
  for (let i = 0; i < length; i++) {
    if (!isDecimalString(levels[i])) {
      return `book: expected decimal at ${side}[${i}], found "${levels[i]}"`;
    }
  }
  return null;
}
