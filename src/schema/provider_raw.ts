/**
 * ProviderRaw: one decoded exchange message in the exchange's own terms (exchange symbol,
 * exchange event name, exchange ids), pooled from decode until normalization.
 *
 * Decoders write straight into it; the adapter's normalizer maps it onto a
 * {@linkcode CanonicalEvent}. Shapes without typed fields (control acks, errors) are kept
 * as a generic parse in `body`.
 *
 * @module
 */

import type { Poolable } from "../pool/poolable.ts";
import { copyPrefix, LevelSides, prefixIncludes } from "./level_store.ts";
import { isPoisoned, POISON_NUMBER, POISON_STRING } from "./poison.ts";

/** Plain-object form of a {@linkcode ProviderRaw}. */
export interface ProviderRawData {
  provider: string;
  /** Combined-stream name (`btcusdt@trade`) when the frame was wrapped, else "". */
  stream: string;
  /** The exchange's event name (`trade`, `depthUpdate`, `bookTicker`, ...) or a decoder tag. */
  eventType: string;
  /** Exchange symbol as sent (`BTCUSDT`). */
  symbol: string;
  eventTimeMs: number;
  recvTsMs: number;
  /** First id covered (depth `U`, aggTrade `f`). */
  firstId: number;
  /** Last id covered (depth `u`, trade `t`, aggTrade `a`, bookTicker `u`). */
  lastId: number;
  tradeId: string;
  tradeTimeMs: number;
  price: string;
  qty: string;
  /** Binance `m`: the buyer was the maker (so the taker sold). */
  buyerMaker: boolean;
  /** Depth: flat bid levels as sent, `[price, qty, ...]`. */
  bids: string[];
  /** Depth: flat ask levels, as `bids`. */
  asks: string[];
  bidPx: string;
  bidQty: string;
  askPx: string;
  askQty: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  quoteVolume: string;
  interval: string;
  openTimeMs: number;
  closeTimeMs: number;
  tradeCount: number;
  closed: boolean;
  /** Generic parse of a frame that has no typed mapping (acks, errors); null otherwise. */
  body: unknown;
}

/** Every field of {@linkcode ProviderRawData} except the book level arrays. */
export type ProviderRawScalars = Omit<ProviderRawData, "bids" | "asks">;

/**
 * A decoded message in either form: the pooled {@linkcode ProviderRaw} (levels in its stores,
 * within its counts) or the plain {@linkcode ProviderRawData} (levels in `bids`/`asks`).
 */
export type ProviderRawLike = ProviderRaw | ProviderRawData;

/** A pooled decoded exchange message. Owner: the adapter; released after normalization. */
export class ProviderRaw extends LevelSides implements Poolable, ProviderRawScalars {
  provider = "";
  stream = "";
  eventType = "";
  symbol = "";
  eventTimeMs = 0;
  recvTsMs = 0;
  firstId = 0;
  lastId = 0;
  tradeId = "";
  tradeTimeMs = 0;
  price = "";
  qty = "";
  buyerMaker = false;
  bidPx = "";
  bidQty = "";
  askPx = "";
  askQty = "";
  open = "";
  high = "";
  low = "";
  close = "";
  volume = "";
  quoteVolume = "";
  interval = "";
  openTimeMs = 0;
  closeTimeMs = 0;
  tradeCount = 0;
  closed = false;
  body: unknown = null;

  /**
   * Zeroes every field. Level storage is kept (its used slots set to "") and trimmed to
   * `LEVELS_RETAINED_MAX` levels per side, as {@linkcode CanonicalEvent.reset}.
   */
  reset(): void {
    this.provider = "";
    this.stream = "";
    this.eventType = "";
    this.symbol = "";
    this.eventTimeMs = 0;
    this.recvTsMs = 0;
    this.firstId = 0;
    this.lastId = 0;
    this.tradeId = "";
    this.tradeTimeMs = 0;
    this.price = "";
    this.qty = "";
    this.buyerMaker = false;
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
    this.close = "";
    this.volume = "";
    this.quoteVolume = "";
    this.interval = "";
    this.openTimeMs = 0;
    this.closeTimeMs = 0;
    this.tradeCount = 0;
    this.closed = false;
    this.body = null;
  }

  /** Debug mode: sentinel values. */
  poison(): void {
    this.provider = POISON_STRING;
    this.eventType = POISON_STRING;
    this.symbol = POISON_STRING;
    this.firstId = POISON_NUMBER;
    this.lastId = POISON_NUMBER;
    this.price = POISON_STRING;
    this.qty = POISON_STRING;
    // One poisoned level per side, inside the counts, as CanonicalEvent.poison().
    this.setBids(POISONED_LEVEL);
    this.setAsks(POISONED_LEVEL);
  }

  /**
   * Plain heap copy (`bids`/`asks` new arrays of exactly the used length; `body` shared, it is
   * never mutated).
   */
  clone(): ProviderRawData {
    return {
      provider: this.provider,
      stream: this.stream,
      eventType: this.eventType,
      symbol: this.symbol,
      eventTimeMs: this.eventTimeMs,
      recvTsMs: this.recvTsMs,
      firstId: this.firstId,
      lastId: this.lastId,
      tradeId: this.tradeId,
      tradeTimeMs: this.tradeTimeMs,
      price: this.price,
      qty: this.qty,
      buyerMaker: this.buyerMaker,
      bids: copyPrefix(this.bidStore, this.bidsLength),
      asks: copyPrefix(this.askStore, this.asksLength),
      bidPx: this.bidPx,
      bidQty: this.bidQty,
      askPx: this.askPx,
      askQty: this.askQty,
      open: this.open,
      high: this.high,
      low: this.low,
      close: this.close,
      volume: this.volume,
      quoteVolume: this.quoteVolume,
      interval: this.interval,
      openTimeMs: this.openTimeMs,
      closeTimeMs: this.closeTimeMs,
      tradeCount: this.tradeCount,
      closed: this.closed,
      body: this.body,
    };
  }

  /** Copies every field of `src` into this object (levels copied into the kept storage). */
  copyFrom(src: ProviderRawData): this {
    this.provider = src.provider;
    this.stream = src.stream;
    this.eventType = src.eventType;
    this.symbol = src.symbol;
    this.eventTimeMs = src.eventTimeMs;
    this.recvTsMs = src.recvTsMs;
    this.firstId = src.firstId;
    this.lastId = src.lastId;
    this.tradeId = src.tradeId;
    this.tradeTimeMs = src.tradeTimeMs;
    this.price = src.price;
    this.qty = src.qty;
    this.buyerMaker = src.buyerMaker;
    this.setBids(src.bids);
    this.setAsks(src.asks);
    this.bidPx = src.bidPx;
    this.bidQty = src.bidQty;
    this.askPx = src.askPx;
    this.askQty = src.askQty;
    this.open = src.open;
    this.high = src.high;
    this.low = src.low;
    this.close = src.close;
    this.volume = src.volume;
    this.quoteVolume = src.quoteVolume;
    this.interval = src.interval;
    this.openTimeMs = src.openTimeMs;
    this.closeTimeMs = src.closeTimeMs;
    this.tradeCount = src.tradeCount;
    this.closed = src.closed;
    this.body = src.body;
    return this;
  }
}

const POISONED_LEVEL: readonly string[] = Object.freeze([POISON_STRING, POISON_STRING]);

/**
 * Checks the fields every decoded message has; returns null when valid, else what was expected
 * and found. Kind-specific fields are the normalizer's to check (it knows the exchange).
 */
export function validateProviderRaw(r: ProviderRawLike): string | null {
  if (r.provider.length === 0 || isPoisoned(r.provider)) {
    return `expected a provider, found "${r.provider}"`;
  }
  if (r.eventType.length === 0 || isPoisoned(r.eventType)) {
    return `expected an event type, found "${r.eventType}"`;
  }
  if (!Number.isFinite(r.recvTsMs) || !Number.isFinite(r.firstId) || !Number.isFinite(r.lastId)) {
    return `expected finite recvTsMs, firstId and lastId, found ${r.recvTsMs}, ${r.firstId} and ${r.lastId}`;
  }
  for (const v of [r.symbol, r.price, r.qty]) {
    if (isPoisoned(v)) return "expected symbol, price and qty, found a poisoned message";
  }
  const poisoned = r instanceof ProviderRaw
    ? prefixIncludes(r.bidStore, r.bidsLength, POISON_STRING) ||
      prefixIncludes(r.askStore, r.asksLength, POISON_STRING)
    : r.bids.includes(POISON_STRING) || r.asks.includes(POISON_STRING);
  if (poisoned) return "expected book levels, found a poisoned message";
  return null;
}
