/**
 * One Kraken v2 `book` subscription's local order book: applies snapshots and updates, verifies
 * the exchange's CRC32 on every message, and emits pooled `book_snapshot` / `book_update`
 * events only for books whose checksum matched.
 *
 * Sequence numbers. Kraken v2 books carry no sequence, so `seq` is a local per-symbol counter:
 * +1 for every emitted book event (snapshot or update), never reset while the adapter runs. A
 * snapshot at `seq = L` is followed by updates `L+1, L+2, ...` (`seqFirst === seq`), which keeps
 * the same continuity rule as the Binance adapter's book events.
 *
 * Truncation. Kraken sends no delete for a level pushed out of the subscribed depth; the book
 * truncates after each message and the emitted update carries an explicit `qty` zero for each
 * level dropped that way, so a consumer applying updates keeps the same window.
 *
 * @module
 */

import type { BoundedPool } from "../../pool/mod.ts";
import type { CanonicalEvent } from "../../schema/canonical_event.ts";
import type {
  BookResyncEvent,
  BookStateChange,
  BookSyncState,
  ResyncReason,
} from "../shared/book_sync_state.ts";
import { type BookSide, OrderBook } from "../shared/order_book.ts";
import { bookChecksum, decimalText } from "./book_checksum.ts";

/** Price and quantity decimals of a pair, from the `instrument` channel. */
export interface KrakenPrecision {
  /** `price_precision`. */
  price: number;
  /** `qty_precision`. */
  qty: number;
}

/** Options of {@linkcode KrakenBook}. */
export interface KrakenBookOptions {
  /** Provider name written into events (`kraken`). */
  provider: string;
  /** Kraken v2 symbol (`BTC/USDT`). */
  symbol: string;
  /** Canonical symbol (`BTC-USDT`). */
  canonicalSymbol: string;
  /** Subscribed depth (levels per side kept). */
  depth: number;
  /** Pool of the emitted events. */
  eventPool: BoundedPool<CanonicalEvent>;
  /** Receives each verified book event; ownership passes with the call. */
  emit: (ev: CanonicalEvent) => void;
  /** Asks the adapter to unsubscribe and subscribe this symbol's book again. */
  resubscribe: (reason: ResyncReason) => void;
  /** Telemetry of each resync. */
  onResync?: (e: BookResyncEvent) => void;
  /** Telemetry of each state transition. */
  onStateChange?: (c: BookStateChange) => void;
}

/** Counters and state of one book ({@linkcode KrakenAdapter.books}). */
export interface KrakenBookStats {
  /** Canonical symbol. */
  symbol: string;
  /** Sync state. */
  state: BookSyncState;
  /** Local sequence of the last emitted book event (0 before the first). */
  seq: number;
  /** Snapshots accepted. */
  snapshots: number;
  /** Updates applied and emitted. */
  updates: number;
  /** Checksums that did not match the local book. */
  checksumMismatches: number;
  /** Resyncs by reason. */
  resyncs: Partial<Record<ResyncReason, number>>;
  /** Book messages ignored while waiting for a snapshot. */
  updatesIgnored: number;
  /** Exchange time of the last applied message, ms since epoch. */
  lastUpdateExchangeTsMs: number;
  /** Receive time of the last applied message, ms since epoch (0 before the first). */
  lastUpdateRecvTsMs: number;
}

/** A `{price, qty}` level as v2 sends it. */
interface WireLevel {
  price?: unknown;
  qty?: unknown;
}

/** One `data[]` item of a book message. */
export interface KrakenBookItem {
  /** Bid levels. */
  bids?: unknown;
  /** Ask levels. */
  asks?: unknown;
  /** Unsigned CRC32 of the top 10 levels per side after this message. */
  checksum?: unknown;
  /** RFC 3339 exchange time. */
  timestamp?: unknown;
}

/** The local book of one symbol. */
export class KrakenBook {
  /** The levels (padded decimal strings). */
  readonly book: OrderBook;
  readonly #opts: KrakenBookOptions;
  #state: BookSyncState = "SYNCING";
  #precision: KrakenPrecision | null = null;
  #seq = 0;
  /** `performance.now()` of the subscribe ack still waiting for its snapshot; -1 when none. */
  #ackAtMs = -1;
  /** `performance.now()` of the last book message while LIVE. */
  #lastDataMs = 0;
  readonly #stats: Omit<KrakenBookStats, "symbol" | "state" | "seq"> = {
    snapshots: 0,
    updates: 0,
    checksumMismatches: 0,
    resyncs: {},
    updatesIgnored: 0,
    lastUpdateExchangeTsMs: 0,
    lastUpdateRecvTsMs: 0,
  };
  /** Scratch: levels dropped by truncation, flat `[price, qty0, ...]`. */
  readonly #dropped: string[] = [];
  /** Scratch: a snapshot's levels, flat, between parse and load (emptied after each). */
  readonly #snapBids: string[] = [];
  readonly #snapAsks: string[] = [];

  constructor(opts: KrakenBookOptions) {
    if (!(Number.isInteger(opts.depth) && opts.depth >= 1)) {
      throw new RangeError(`kraken book: expected an integer depth >= 1, found ${opts.depth}`);
    }
    this.#opts = opts;
    // One spare level: an update may insert before the window is truncated back to depth.
    this.book = new OrderBook({ levelsMax: opts.depth + 1000 });
  }

  /** Sync state. */
  get state(): BookSyncState {
    return this.#state;
  }

  /** Local sequence of the last emitted book event. */
  get seq(): number {
    return this.#seq;
  }

  /** Sets the pair's precisions (from `instrument`); needed before any message is accepted. */
  setPrecision(p: KrakenPrecision): void {
    this.#precision = p;
  }

  /** The pair's precisions, or null before `instrument` was seen. */
  get precision(): KrakenPrecision | null {
    return this.#precision;
  }

  /** A subscribe ack for this book arrived at `nowMs`: the watchdog starts waiting for data. */
  onAck(nowMs: number): void {
    if (this.#state !== "LIVE") this.#ackAtMs = nowMs;
  }

  /**
   * Idle watchdog. Returns the reason when this call resynced the book: no snapshot within
   * `staleMs` after the ack, or a LIVE book silent for `liveIdleMs` (0 = off).
   */
  tick(nowMs: number, staleMs: number, liveIdleMs: number): ResyncReason | null {
    if (this.#state === "LIVE") {
      if (liveIdleMs > 0 && nowMs - this.#lastDataMs > liveIdleMs) {
        this.resync("stale", true);
        return "stale";
      }
      return null;
    }
    if (this.#ackAtMs >= 0 && nowMs - this.#ackAtMs > staleMs) {
      this.#ackAtMs = -1; // the resubscribe's ack restarts the wait
      this.resync("stale", true);
      return "stale";
    }
    return null;
  }

  /**
   * Throws the book away. `resubscribe` false when the caller subscribes anyway (reconnect).
   * `stale` goes to STALE, anything else to RESYNCING (SYNCING while never live).
   */
  resync(reason: ResyncReason, resubscribe: boolean): void {
    this.book.clear();
    this.#stats.resyncs[reason] = (this.#stats.resyncs[reason] ?? 0) + 1;
    const o = this.#opts;
    safeCall(() => o.onResync?.({ provider: o.provider, symbol: o.canonicalSymbol, reason }));
    const to: BookSyncState = reason === "stale"
      ? "STALE"
      : this.#state === "SYNCING"
      ? "SYNCING"
      : "RESYNCING";
    this.#transition(to, reason);
    if (resubscribe) o.resubscribe(reason);
  }

  /** Applies a `snapshot` item; emits a `book_snapshot` when its checksum matches. */
  onSnapshot(item: KrakenBookItem, recvTsMs: number, nowMs: number): void {
    const p = this.#precision;
    if (p === null) return this.resync("invalid_event", true);
    const ev = this.#opts.eventPool.tryAcquire();
    if (ev === null) return this.resync("pool_exhausted", true);
    const snapBids = this.#snapBids;
    const snapAsks = this.#snapAsks;
    let loaded = levelsInto(item.bids, p, snapBids) && levelsInto(item.asks, p, snapAsks);
    if (loaded) {
      try {
        this.book.loadSnapshot(snapBids, snapAsks);
      } catch {
        loaded = false;
      }
    }
    // Snapshots are rare: dropping the scratch storage keeps no exchange strings reachable.
    snapBids.length = 0;
    snapAsks.length = 0;
    if (!loaded) {
      this.#opts.eventPool.release(ev);
      return this.resync("invalid_event", true);
    }
    this.#truncate(p);
    if (!this.#checksumOk(item.checksum)) {
      this.#opts.eventPool.release(ev);
      return this.resync("checksum_mismatch", true);
    }
    this.#ackAtMs = -1;
    this.#lastDataMs = nowMs;
    this.#stats.snapshots++;
    // The event carries the window exactly as kept (best first, at most `depth` levels).
    ev.setBidsLength(2 * this.book.writeFlat(ev.bidStore, "bid", this.#opts.depth));
    ev.setAsksLength(2 * this.book.writeFlat(ev.askStore, "ask", this.#opts.depth));
    this.#fill(ev, "book_snapshot", item.timestamp, recvTsMs);
    this.#transition("LIVE", "synced");
    this.#opts.emit(ev);
  }

  /** Applies an `update` item; emits a `book_update` when the checksum after it matches. */
  onUpdate(item: KrakenBookItem, recvTsMs: number, nowMs: number): void {
    if (this.#state !== "LIVE") {
      this.#stats.updatesIgnored++; // an update of the old subscription, before the snapshot
      return;
    }
    const p = this.#precision!;
    const ev = this.#opts.eventPool.tryAcquire();
    if (ev === null) return this.resync("pool_exhausted", true);
    if (!levelsIntoEvent(item.bids, p, ev, "bid") || !levelsIntoEvent(item.asks, p, ev, "ask")) {
      this.#opts.eventPool.release(ev);
      return this.resync("invalid_event", true);
    }
    try {
      this.book.applyFlat("bid", ev.bidStore, ev.bidsLength);
      this.book.applyFlat("ask", ev.askStore, ev.asksLength);
    } catch {
      this.#opts.eventPool.release(ev);
      return this.resync("invalid_event", true);
    }
    const dropped = this.#dropped;
    dropped.length = 0;
    this.#truncate(p, "bid");
    for (let i = 0; i < dropped.length; i += 2) ev.pushBid(dropped[i], dropped[i + 1]);
    dropped.length = 0;
    this.#truncate(p, "ask");
    for (let i = 0; i < dropped.length; i += 2) ev.pushAsk(dropped[i], dropped[i + 1]);
    if (!this.#checksumOk(item.checksum)) {
      // The local book is wrong (missed or corrupted message): never emit it.
      this.#opts.eventPool.release(ev);
      return this.resync("checksum_mismatch", true);
    }
    this.#lastDataMs = nowMs;
    this.#stats.updates++;
    this.#fill(ev, "book_update", item.timestamp, recvTsMs);
    this.#opts.emit(ev);
  }

  /** Stops the book (adapter close): no more events. */
  close(): void {
    this.book.clear();
    this.#ackAtMs = -1;
  }

  /** Counters and state. */
  stats(): KrakenBookStats {
    return {
      symbol: this.#opts.canonicalSymbol,
      state: this.#state,
      seq: this.#seq,
      ...this.#stats,
      resyncs: { ...this.#stats.resyncs },
    };
  }

  #checksumOk(checksum: unknown): boolean {
    if (typeof checksum !== "number" || bookChecksum(this.book) !== checksum) {
      this.#stats.checksumMismatches++;
      return false;
    }
    return true;
  }

  /** Drops levels beyond the depth; with `only`, one side, recording the drops as deletions. */
  #truncate(p: KrakenPrecision, only?: BookSide): void {
    const zero = (0).toFixed(p.qty);
    for (const side of only === undefined ? (["bid", "ask"] as const) : [only]) {
      while (this.book.depth(side) > this.#opts.depth) {
        const price = this.book.priceAt(side, this.book.depth(side) - 1);
        this.book.apply(side, price, zero);
        if (only !== undefined) this.#dropped.push(price, zero);
      }
    }
  }

  #fill(ev: CanonicalEvent, kind: "book_snapshot" | "book_update", ts: unknown, recv: number) {
    const o = this.#opts;
    this.#seq++;
    ev.kind = kind;
    ev.provider = o.provider;
    ev.symbol = o.canonicalSymbol;
    ev.seq = this.#seq;
    ev.seqFirst = this.#seq;
    ev.exchangeTsMs = rfc3339Ms(ts);
    ev.recvTsMs = recv;
    this.#stats.lastUpdateExchangeTsMs = ev.exchangeTsMs;
    this.#stats.lastUpdateRecvTsMs = recv;
  }

  #transition(to: BookSyncState, cause: ResyncReason | "synced"): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    const o = this.#opts;
    safeCall(() =>
      o.onStateChange?.({ provider: o.provider, symbol: o.canonicalSymbol, from, to, cause })
    );
  }
}

/** RFC 3339 text as ms since epoch (0 when absent or invalid). */
export function rfc3339Ms(value: unknown): number {
  if (typeof value !== "string") return 0;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : 0;
}

/**
 * Appends `[{price, qty}, ...]` as padded levels to one side of a pooled event (its counts stay
 * consistent if a level is malformed); false when malformed.
 */
function levelsIntoEvent(
  levels: unknown,
  p: KrakenPrecision,
  ev: CanonicalEvent,
  side: BookSide,
): boolean {
  if (levels === undefined) return true;
  if (!Array.isArray(levels)) return false;
  for (const level of levels as WireLevel[]) {
    if (level === null || typeof level !== "object") return false;
    const price = decimalText(level.price, p.price);
    const qty = decimalText(level.qty, p.qty);
    if (price === null || qty === null) return false;
    if (side === "bid") ev.pushBid(price, qty);
    else ev.pushAsk(price, qty);
  }
  return true;
}

/** Writes `[{price, qty}, ...]` as padded flat levels into `out`; false when malformed. */
function levelsInto(levels: unknown, p: KrakenPrecision, out: string[]): boolean {
  out.length = 0;
  if (levels === undefined) return true;
  if (!Array.isArray(levels)) return false;
  for (const level of levels as WireLevel[]) {
    if (level === null || typeof level !== "object") return false;
    const price = decimalText(level.price, p.price);
    const qty = decimalText(level.qty, p.qty);
    if (price === null || qty === null) return false;
    out.push(price, qty);
  }
  return true;
}

function safeCall(f: () => void): void {
  try {
    f();
  } catch {
    // telemetry callbacks must never break the book
  }
}
