/**
 * Wire form of a market-data event (`type: "event"`): canonical event data to a plain
 * snake_case object and back. Encoding the object to JSON text is the codec's job.
 *
 * Only the fields of the event's kind are on the wire; the others read back as zero values, so
 * data → wire → data is exact for every valid event.
 *
 * @module
 */

import {
  CanonicalEvent,
  type CanonicalEventData,
  type CanonicalEventLike,
  validateCanonicalEvent,
} from "./canonical_event.ts";
import { type MarketEventKind, SCHEMA_VERSION } from "./event_kind.ts";
import { isDecimalString, isKlineInterval } from "./exact_values.ts";
import {
  ANY_STRING,
  BOOLEAN,
  DECIMAL,
  DECIMAL_OR_EMPTY,
  describeFound,
  enumRule,
  type FieldRule,
  MARKET_KIND,
  PROVIDER,
  SEQUENCE,
  SYMBOL,
  TIMESTAMP_MS,
  WireReader,
} from "./wire_fields.ts";

/** Most price levels per book side on the wire. */
export const BOOK_LEVELS_MAX = 10_000;

/** One price level on the wire: `[price, qty]`, both decimal strings; qty "0" removes. */
export type WireLevel = [price: string, qty: string];

/** Fields every wire event has. */
export interface WireEventHeader {
  v: number;
  type: "event";
  kind: MarketEventKind;
  /** `${provider}:${symbol}:${kind}:${seq}`, the dedup key. */
  id: string;
  provider: string;
  symbol: string;
  seq: number;
  /** First provider sequence covered; present only when it differs from `seq` (book diffs). */
  seq_first?: number;
  /** Exchange event time, ms since epoch (0 when the exchange sends none). */
  ts_exchange: number;
  /** Gateway receive time, ms since epoch (may carry a sub-ms fraction). */
  ts_recv: number;
}

/** A trade on the wire. */
export interface WireTradeEvent extends WireEventHeader {
  kind: "trade";
  trade_id: string;
  price: string;
  qty: string;
  side: "buy" | "sell";
}

/** A book snapshot or diff on the wire. */
export interface WireBookEvent extends WireEventHeader {
  kind: "book_snapshot" | "book_update";
  bids: WireLevel[];
  asks: WireLevel[];
}

/** A ticker on the wire; each value is a decimal string or "" when the source lacks it. */
export interface WireTickerEvent extends WireEventHeader {
  kind: "ticker";
  bid_px: string;
  bid_qty: string;
  ask_px: string;
  ask_qty: string;
  last: string;
  last_qty: string;
  open: string;
  high: string;
  low: string;
  volume: string;
  quote_volume: string;
}

/** A kline (candle) on the wire. */
export interface WireKlineEvent extends WireEventHeader {
  kind: "kline";
  interval: string;
  open_time: number;
  close_time: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  quote_volume: string;
  trades: number;
  closed: boolean;
}

/** Any market-data event on the wire. */
export type WireEvent = WireTradeEvent | WireBookEvent | WireTickerEvent | WireKlineEvent;

/** Options of {@linkcode eventFromWire}. */
export interface EventFromWireOptions {
  /**
   * Write into this object (e.g. a pooled `CanonicalEvent`; its level storage is reused) instead
   * of a new plain object. On error it is left partly written: release or reset it.
   */
  into?: CanonicalEventLike;
}

const TRADE_SIDE = enumRule(["buy", "sell"] as const);
const INTERVAL: FieldRule<string> = {
  expected: "an interval such as 1m, 15m, 4h or 1d",
  test: isKlineInterval,
};

/**
 * The stable id of an event: `${provider}:${symbol}:${kind}:${seq}` (dedup key, R-09).
 *
 * @example
 * ```ts
 * eventId({ provider: "binance", symbol: "BTC-USDT", kind: "trade", seq: 12 });
 * // "binance:BTC-USDT:trade:12"
 * ```
 */
export function eventId(
  e: Pick<CanonicalEventData, "provider" | "symbol" | "kind" | "seq">,
): string {
  return `${e.provider}:${e.symbol}:${e.kind}:${e.seq}`;
}

/**
 * The wire object of a canonical event. Does not validate (the event was validated when it was
 * built); throws only when `kind` is empty, which is a programmer error. Builds one literal per
 * kind (no spreads) so the dispatcher's per-event encoding allocates as little as possible.
 */
export function eventToWire(e: CanonicalEventData): WireEvent {
  let w: WireEvent;
  switch (e.kind) {
    case "trade":
      w = {
        v: SCHEMA_VERSION,
        type: "event",
        kind: "trade",
        id: eventId(e),
        provider: e.provider,
        symbol: e.symbol,
        seq: e.seq,
        ts_exchange: e.exchangeTsMs,
        ts_recv: e.recvTsMs,
        trade_id: e.tradeId,
        price: e.price,
        qty: e.qty,
        side: e.side as "buy" | "sell",
      };
      break;
    case "book_snapshot":
    case "book_update":
      w = {
        v: SCHEMA_VERSION,
        type: "event",
        kind: e.kind,
        id: eventId(e),
        provider: e.provider,
        symbol: e.symbol,
        seq: e.seq,
        ts_exchange: e.exchangeTsMs,
        ts_recv: e.recvTsMs,
        bids: toLevels(e.bids),
        asks: toLevels(e.asks),
      };
      break;
    case "ticker":
      w = {
        v: SCHEMA_VERSION,
        type: "event",
        kind: "ticker",
        id: eventId(e),
        provider: e.provider,
        symbol: e.symbol,
        seq: e.seq,
        ts_exchange: e.exchangeTsMs,
        ts_recv: e.recvTsMs,
        bid_px: e.bidPx,
        bid_qty: e.bidQty,
        ask_px: e.askPx,
        ask_qty: e.askQty,
        last: e.price,
        last_qty: e.qty,
        open: e.open,
        high: e.high,
        low: e.low,
        volume: e.volume,
        quote_volume: e.quoteVolume,
      };
      break;
    case "kline":
      w = {
        v: SCHEMA_VERSION,
        type: "event",
        kind: "kline",
        id: eventId(e),
        provider: e.provider,
        symbol: e.symbol,
        seq: e.seq,
        ts_exchange: e.exchangeTsMs,
        ts_recv: e.recvTsMs,
        interval: e.interval,
        open_time: e.openTimeMs,
        close_time: e.closeTimeMs,
        open: e.open,
        high: e.high,
        low: e.low,
        close: e.price,
        volume: e.volume,
        quote_volume: e.quoteVolume,
        trades: e.tradeCount,
        closed: e.closed,
      };
      break;
    default:
      throw new Error(`eventToWire: expected a market event kind, found "${e.kind}"`);
  }
  // Only book diffs cover a range; elsewhere seq_first would repeat seq, so it is left off.
  if (e.seqFirst !== e.seq) w.seq_first = e.seqFirst;
  return w;
}

/**
 * Reads and validates a wire event; throws {@linkcode WireFormatError} naming the field, what was
 * expected and what was found (a `WireFormatError`). Unknown fields are ignored (additive schema changes keep `v`).
 */
export function eventFromWire(value: unknown, options?: { into?: undefined }): CanonicalEventData;
/** As above, writing into `options.into` (plain or pooled) and returning it. */
export function eventFromWire<E extends CanonicalEventLike>(
  value: unknown,
  options: { into: E },
): E;
export function eventFromWire(value: unknown, options?: EventFromWireOptions): CanonicalEventLike {
  const reader = new WireReader(value, { context: "event" });
  reader.version();
  const type = reader.raw("type");
  if (type !== "event") {
    reader.fail("unknown_type", "type", `expected type "event", found ${describeFound(type)}`);
  }
  return readWireEventBody(reader, options?.into ?? emptyEventData());
}

/**
 * Reads the fields of a wire event (version and type already checked by the caller) into
 * `into`. Shared with the merged-event parser, which reads fragments with their own path.
 */
export function readWireEventBody<E extends CanonicalEventLike>(r: WireReader, into: E): E {
  const kind = r.read("kind", MARKET_KIND);
  into.kind = kind;
  into.provider = r.read("provider", PROVIDER);
  into.symbol = r.read("symbol", SYMBOL);
  into.seq = r.read("seq", SEQUENCE);
  into.seqFirst = r.has("seq_first") ? r.read("seq_first", SEQUENCE) : into.seq;
  into.exchangeTsMs = r.read("ts_exchange", TIMESTAMP_MS);
  into.recvTsMs = r.read("ts_recv", TIMESTAMP_MS);
  const id = r.read("id", ANY_STRING);
  const expectedId = eventId(into);
  if (id !== expectedId) r.failExpected("id", `"${expectedId}" (provider:symbol:kind:seq)`, id);
  clearKindFields(into);
  switch (kind) {
    case "trade":
      into.tradeId = r.read("trade_id", ANY_STRING);
      into.price = r.read("price", DECIMAL);
      into.qty = r.read("qty", DECIMAL);
      into.side = r.read("side", TRADE_SIDE);
      break;
    case "book_snapshot":
    case "book_update":
      if (into instanceof CanonicalEvent) {
        readLevels(r, "bids", null, into);
        readLevels(r, "asks", null, into);
      } else {
        readLevels(r, "bids", (into as CanonicalEventData).bids, null);
        readLevels(r, "asks", (into as CanonicalEventData).asks, null);
      }
      break;
    case "ticker":
      into.bidPx = r.read("bid_px", DECIMAL_OR_EMPTY);
      into.bidQty = r.read("bid_qty", DECIMAL_OR_EMPTY);
      into.askPx = r.read("ask_px", DECIMAL_OR_EMPTY);
      into.askQty = r.read("ask_qty", DECIMAL_OR_EMPTY);
      into.price = r.read("last", DECIMAL_OR_EMPTY);
      into.qty = r.read("last_qty", DECIMAL_OR_EMPTY);
      into.open = r.read("open", DECIMAL_OR_EMPTY);
      into.high = r.read("high", DECIMAL_OR_EMPTY);
      into.low = r.read("low", DECIMAL_OR_EMPTY);
      into.volume = r.read("volume", DECIMAL_OR_EMPTY);
      into.quoteVolume = r.read("quote_volume", DECIMAL_OR_EMPTY);
      break;
    case "kline":
      into.interval = r.read("interval", INTERVAL);
      into.openTimeMs = r.read("open_time", TIMESTAMP_MS);
      into.closeTimeMs = r.read("close_time", TIMESTAMP_MS);
      into.open = r.read("open", DECIMAL);
      into.high = r.read("high", DECIMAL);
      into.low = r.read("low", DECIMAL);
      into.price = r.read("close", DECIMAL);
      into.volume = r.read("volume", DECIMAL_OR_EMPTY);
      into.quoteVolume = r.read("quote_volume", DECIMAL_OR_EMPTY);
      into.tradeCount = r.read("trades", SEQUENCE);
      into.closed = r.read("closed", BOOLEAN);
      break;
  }
  // The field checks above imply canonical validity; this catches the two drifting apart.
  const error = validateCanonicalEvent(into);
  if (error !== null) r.fail("invalid_field", "", error);
  return into;
}

function toLevels(flat: readonly string[]): WireLevel[] {
  const levels = new Array<WireLevel>(flat.length >> 1);
  for (let i = 0; i < levels.length; i++) levels[i] = [flat[2 * i], flat[2 * i + 1]];
  return levels;
}

/** Reads `key`'s levels into a plain array (emptied first) or, when `into` is null, a pooled event. */
function readLevels(
  r: WireReader,
  key: "bids" | "asks",
  into: string[] | null,
  pooled: CanonicalEvent | null,
): void {
  const levels = r.readArray(key, { itemsMin: 0, itemsMax: BOOK_LEVELS_MAX });
  if (into !== null) into.length = 0;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (
      !Array.isArray(level) || level.length !== 2 || !isDecimalString(level[0]) ||
      !isDecimalString(level[1])
    ) {
      r.failExpected(`${key}[${i}]`, "a [price, qty] pair of decimal strings", level);
    }
    if (into !== null) into.push(level[0], level[1]);
    else if (key === "bids") pooled!.pushBid(level[0], level[1]);
    else pooled!.pushAsk(level[0], level[1]);
  }
}

/** Zeroes the kind-specific fields so a reused target carries nothing from its last use. */
function clearKindFields(e: CanonicalEventLike): void {
  e.tradeId = "";
  e.price = "";
  e.qty = "";
  e.side = "";
  if (e instanceof CanonicalEvent) {
    e.setBidsLength(0);
    e.setAsksLength(0);
  } else {
    e.bids.length = 0;
    e.asks.length = 0;
  }
  e.bidPx = "";
  e.bidQty = "";
  e.askPx = "";
  e.askQty = "";
  e.open = "";
  e.high = "";
  e.low = "";
  e.volume = "";
  e.quoteVolume = "";
  e.interval = "";
  e.openTimeMs = 0;
  e.closeTimeMs = 0;
  e.tradeCount = 0;
  e.closed = false;
}

/** A plain event with every field at its zero value. */
export function emptyEventData(): CanonicalEventData {
  return {
    kind: "",
    provider: "",
    symbol: "",
    seq: 0,
    seqFirst: 0,
    exchangeTsMs: 0,
    recvTsMs: 0,
    tradeId: "",
    price: "",
    qty: "",
    side: "",
    bids: [],
    asks: [],
    bidPx: "",
    bidQty: "",
    askPx: "",
    askQty: "",
    open: "",
    high: "",
    low: "",
    volume: "",
    quoteVolume: "",
    interval: "",
    openTimeMs: 0,
    closeTimeMs: 0,
    tradeCount: 0,
    closed: false,
  };
}
