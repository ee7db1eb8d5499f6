/**
 * One OKX `books` order book: applies the WS snapshot (`action:"snapshot"`, `prevSeqId:-1`) and
 * the chained updates, checks integrity, and emits `book_snapshot` / `book_update` events.
 *
 * Integrity (protocol notes §4): an update is accepted only when its `prevSeqId` equals the last
 * `seqId` applied. That rule also accepts the two special updates: the keep-alive of an idle book
 * (`seqId == prevSeqId`, no levels: a no-op, nothing emitted) and the maintenance reset
 * (`seqId < prevSeqId`: applied, and the chain continues from the smaller id). A non-zero
 * `checksum` (legacy mode; OKX now always sends 0) is compared with the CRC32 of the top 25
 * levels after applying. Any failure discards the book and asks the adapter to resubscribe the
 * instrument's `books` channel, which makes the server send a fresh snapshot; updates arriving
 * before that snapshot are dropped.
 *
 * Ownership: the assembler acquires its events from `eventPool` and hands each one to `emit`.
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
import { emptyResyncCounts } from "../shared/book_sync_state.ts";
import { OrderBook } from "../shared/order_book.ts";
import { okxBookChecksum } from "./okx_checksum.ts";

/** Levels OKX's `books` channel carries per side. */
export const OKX_BOOK_LEVELS_MAX = 400;
/** Default bound on waiting for a snapshot after (re)subscribing, ms. */
export const OKX_SNAPSHOT_TIMEOUT_MS_DEFAULT = 5_000;

/** The `data[0]` object of a `books` push, as decoded. */
export interface OkxBookData {
  /** `[price, size, "0", numOrders]` levels, best first. */
  bids?: unknown;
  /** `[price, size, "0", numOrders]` levels, best first. */
  asks?: unknown;
  /** Sequence id of this push. */
  seqId?: unknown;
  /** Sequence id of the previous push (-1 on a snapshot). */
  prevSeqId?: unknown;
  /** Signed CRC32 of the top 25 levels, or 0 (absent, current OKX). */
  checksum?: unknown;
  /** Book time, ms epoch as a string. */
  ts?: unknown;
}

/** Options of {@linkcode OkxBookAssembler}. */
export interface OkxBookAssemblerOptions {
  /** OKX instrument id (`BTC-USDT`). */
  instId: string;
  /** Canonical symbol emitted. */
  canonicalSymbol: string;
  /** Pool the emitted events come from. */
  eventPool: BoundedPool<CanonicalEvent>;
  /** Receives each event; ownership passes with the call. */
  emit: (ev: CanonicalEvent) => void;
  /** Asks the adapter for a fresh snapshot (unsubscribe + subscribe of this `books` arg). */
  resubscribe: (instId: string) => void;
  /** Resync telemetry. */
  onResync?: (e: BookResyncEvent) => void;
  /** State-change telemetry. */
  onStateChange?: (c: BookStateChange) => void;
  /** Levels kept per side. Default {@linkcode OKX_BOOK_LEVELS_MAX}. */
  levelsMax?: number;
  /** Bound on waiting for a snapshot before resubscribing again, ms. Default 5000. */
  snapshotTimeoutMs?: number;
}

/** Counters and state of one book. */
export interface OkxBookStats {
  /** Canonical symbol. */
  symbol: string;
  /** OKX instrument id. */
  instId: string;
  /** Sync state. */
  state: BookSyncState;
  /** Last `seqId` applied (-1 when no book is held). */
  seqId: number;
  /** Snapshots applied. */
  snapshots: number;
  /** Updates applied (keep-alives excluded). */
  updates: number;
  /** Keep-alive updates seen. */
  keepAlives: number;
  /** Maintenance resets accepted. */
  sequenceResets: number;
  /** Updates dropped while waiting for a snapshot. */
  droppedWhileSyncing: number;
  /** Checksums verified (non-zero ones). */
  checksumsVerified: number;
  /** Resyncs by reason. */
  resyncs: Record<ResyncReason, number>;
  /** Book time of the last push applied, ms epoch. */
  lastUpdateExchangeTsMs: number;
  /** Receive time of the last push applied, ms epoch. */
  lastUpdateRecvTsMs: number;
}

/** Per-instrument book assembler (see the module doc). */
export class OkxBookAssembler {
  /** The local book, with the exchange's strings. */
  readonly book: OrderBook;
  readonly #opts: OkxBookAssemblerOptions;
  readonly #snapshotTimeoutMs: number;
  #state: BookSyncState = "SYNCING";
  #seqId = -1;
  /** When the current wait for a snapshot started (performance.now ms); -1 when not waiting. */
  #waitSinceMs = -1;
  #closed = false;
  readonly #stats = {
    snapshots: 0,
    updates: 0,
    keepAlives: 0,
    sequenceResets: 0,
    droppedWhileSyncing: 0,
    checksumsVerified: 0,
    resyncs: emptyResyncCounts(),
    lastUpdateExchangeTsMs: 0,
    lastUpdateRecvTsMs: 0,
  };

  constructor(opts: OkxBookAssemblerOptions) {
    this.#opts = opts;
    this.#snapshotTimeoutMs = opts.snapshotTimeoutMs ?? OKX_SNAPSHOT_TIMEOUT_MS_DEFAULT;
    this.book = new OrderBook({ levelsMax: opts.levelsMax ?? OKX_BOOK_LEVELS_MAX });
  }

  /** Sync state. */
  get state(): BookSyncState {
    return this.#state;
  }

  /** Last `seqId` applied (-1 when no book is held). */
  get seqId(): number {
    return this.#seqId;
  }

  /** Starts (or restarts) the snapshot timeout: call when the subscription was sent. */
  expectSnapshot(nowMs: number): void {
    if (this.#state !== "LIVE") this.#waitSinceMs = nowMs;
  }

  /** Stops the snapshot timeout (the connection is down; the next open restarts it). */
  pauseWaiting(): void {
    this.#waitSinceMs = -1;
  }

  /** Resubscribes when a snapshot is overdue. */
  tick(nowMs: number): void {
    if (this.#closed || this.#waitSinceMs < 0) return;
    if (nowMs - this.#waitSinceMs >= this.#snapshotTimeoutMs) {
      this.requestResync("snapshot_failed", { resubscribe: true, nowMs });
    }
  }

  /**
   * Discards the book. With `resubscribe` the adapter is asked for a fresh snapshot of this
   * instrument (false when the whole connection resubscribes anyway, e.g. after a reconnect).
   */
  requestResync(
    reason: ResyncReason,
    opts: { resubscribe: boolean; nowMs?: number } = { resubscribe: true },
  ): void {
    if (this.#closed) return;
    this.#stats.resyncs[reason]++;
    this.book.clear();
    this.#seqId = -1;
    this.#setState(this.#state === "SYNCING" ? "SYNCING" : "RESYNCING", reason);
    this.#opts.onResync?.({ provider: "okx", symbol: this.#opts.canonicalSymbol, reason });
    this.#waitSinceMs = opts.nowMs ?? performance.now();
    if (opts.resubscribe) this.#opts.resubscribe(this.#opts.instId);
  }

  /** Applies one `books` push (`action` and `data[0]`). */
  onBooks(action: string, data: OkxBookData, recvTsMs: number): void {
    if (this.#closed) return;
    if (action === "snapshot") return this.#onSnapshot(data, recvTsMs);
    if (action !== "update") return this.requestResync("invalid_event");
    if (this.#state !== "LIVE") {
      this.#stats.droppedWhileSyncing++;
      return;
    }
    const seqId = data.seqId;
    const prevSeqId = data.prevSeqId;
    if (!isSeq(seqId) || !isSeq(prevSeqId)) return this.requestResync("invalid_event");
    if (prevSeqId !== this.#seqId) return this.requestResync("gap");
    const bids = flatLevels(data.bids);
    const asks = flatLevels(data.asks);
    if (bids === null || asks === null) return this.requestResync("invalid_event");
    if (bids.length === 0 && asks.length === 0 && seqId === prevSeqId) {
      this.#stats.keepAlives++;
      return;
    }
    const ev = this.#opts.eventPool.tryAcquire();
    if (ev === null) return this.requestResync("pool_exhausted");
    try {
      this.book.applyFlat("bid", bids);
      this.book.applyFlat("ask", asks);
    } catch {
      this.#opts.eventPool.release(ev);
      return this.requestResync("invalid_event");
    }
    if (this.book.isCrossed()) {
      this.#opts.eventPool.release(ev);
      return this.requestResync("crossed_book");
    }
    if (!this.#checksumOk(data.checksum)) {
      this.#opts.eventPool.release(ev);
      return this.requestResync("checksum_mismatch");
    }
    if (seqId < prevSeqId) this.#stats.sequenceResets++;
    this.#seqId = seqId;
    this.#stats.updates++;
    const tsMs = toMs(data.ts);
    this.#stats.lastUpdateExchangeTsMs = tsMs;
    this.#stats.lastUpdateRecvTsMs = recvTsMs;
    ev.kind = "book_update";
    ev.provider = "okx";
    ev.symbol = this.#opts.canonicalSymbol;
    ev.seq = seqId;
    // First id covered; a reset (seqId < prevSeqId) starts a new numbering at seqId.
    ev.seqFirst = seqId > prevSeqId ? prevSeqId + 1 : seqId;
    ev.exchangeTsMs = tsMs;
    ev.recvTsMs = recvTsMs;
    copyInto(ev.bids, bids);
    copyInto(ev.asks, asks);
    this.#opts.emit(ev);
  }

  /** Counters and state. */
  stats(): OkxBookStats {
    return {
      symbol: this.#opts.canonicalSymbol,
      instId: this.#opts.instId,
      state: this.#state,
      seqId: this.#seqId,
      ...this.#stats,
      resyncs: { ...this.#stats.resyncs },
    };
  }

  /** Stops the assembler; later pushes are ignored. */
  close(): void {
    this.#closed = true;
    this.#waitSinceMs = -1;
    this.book.clear();
  }

  #onSnapshot(data: OkxBookData, recvTsMs: number): void {
    const seqId = data.seqId;
    const bids = flatLevels(data.bids);
    const asks = flatLevels(data.asks);
    if (!isSeq(seqId) || bids === null || asks === null) {
      return this.requestResync("invalid_event");
    }
    try {
      this.book.loadSnapshot(bids, asks);
    } catch {
      return this.requestResync("invalid_event");
    }
    if (!this.#checksumOk(data.checksum)) return this.requestResync("checksum_mismatch");
    const ev = this.#opts.eventPool.tryAcquire();
    if (ev === null) return this.requestResync("pool_exhausted");
    this.#seqId = seqId;
    this.#waitSinceMs = -1;
    this.#stats.snapshots++;
    const tsMs = toMs(data.ts);
    this.#stats.lastUpdateExchangeTsMs = tsMs;
    this.#stats.lastUpdateRecvTsMs = recvTsMs;
    ev.kind = "book_snapshot";
    ev.provider = "okx";
    ev.symbol = this.#opts.canonicalSymbol;
    ev.seq = seqId;
    ev.seqFirst = seqId;
    ev.exchangeTsMs = tsMs;
    ev.recvTsMs = recvTsMs;
    this.book.toFlat(ev.bids, "bid", this.book.depth("bid"));
    this.book.toFlat(ev.asks, "ask", this.book.depth("ask"));
    this.#setState("LIVE", "synced");
    this.#opts.emit(ev);
  }

  /** A zero or absent checksum is "not sent" (current OKX); any other value must match. */
  #checksumOk(checksum: unknown): boolean {
    if (typeof checksum !== "number" || checksum === 0) return true;
    this.#stats.checksumsVerified++;
    return okxBookChecksum(this.book) === checksum;
  }

  #setState(to: BookSyncState, cause: ResyncReason | "synced"): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#opts.onStateChange?.({
      provider: "okx",
      symbol: this.#opts.canonicalSymbol,
      from,
      to,
      cause,
    });
  }
}

function isSeq(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= -1;
}

function toMs(v: unknown): number {
  const n = typeof v === "string" ? Number(v) : typeof v === "number" ? v : 0;
  return Number.isFinite(n) ? n : 0;
}

/** `[[px, sz, "0", n], ...]` -> `[px, sz, ...]`, or null when malformed. */
function flatLevels(levels: unknown): string[] | null {
  if (levels === undefined) return [];
  if (!Array.isArray(levels)) return null;
  const out: string[] = new Array(levels.length * 2);
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i];
    if (!Array.isArray(l) || typeof l[0] !== "string" || typeof l[1] !== "string") return null;
    out[2 * i] = l[0];
    out[2 * i + 1] = l[1];
  }
  return out;
}

function copyInto(out: string[], src: readonly string[]): void {
  out.length = src.length;
  for (let i = 0; i < src.length; i++) out[i] = src[i];
}
