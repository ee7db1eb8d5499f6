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
 * REST bootstrap (protocol notes §4.4; OKX announced the end of the WS snapshot), chosen by
 * `bootstrap`:
 * - `"ws"` (default): the behaviour above.
 * - `"rest"`: WS snapshots are ignored. Updates are buffered (a gap inside the buffer or a
 *   maintenance reset restarts it); when the first one arrives (or after `bootstrapWaitMs` on an
 *   idle book) `GET /api/v5/market/books` gives a snapshot at `seqId` S. If S is older than the
 *   first buffered `prevSeqId` it is fetched again (bounded; then a `snapshot_behind` resync).
 *   Otherwise buffered updates with `seqId <= S` are dropped and the first kept one must satisfy
 *   `prevSeqId <= S < seqId` (the bridge rule); it and every later one are applied, the later
 *   ones on the chain rule, and the book goes LIVE with one `book_snapshot`. When nothing was
 *   buffered beyond S the book goes LIVE at S and the bridge rule is applied to the first live
 *   update. A chain break resyncs through REST again, without resubscribing.
 * - `"auto"`: the WS snapshot when one arrives; if none within `bootstrapWaitMs` of subscribing,
 *   the REST bootstrap over the updates buffered meanwhile. A book last synced from REST resyncs
 *   through REST directly; one synced from a WS snapshot resubscribes (REST as the fallback).
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
import { Backoff } from "../shared/backoff.ts";
import { okxBookChecksum } from "./okx_checksum.ts";

/** Levels OKX's `books` channel carries per side. */
export const OKX_BOOK_LEVELS_MAX = 400;
/** Default bound on waiting for a snapshot after (re)subscribing, ms. */
export const OKX_SNAPSHOT_TIMEOUT_MS_DEFAULT = 5_000;
/** Default wait for a WS snapshot (auto) or a first update (rest) before fetching REST, ms. */
export const OKX_BOOTSTRAP_WAIT_MS_DEFAULT = 1_000;
/** Default delay before re-fetching a REST snapshot that was older than the buffer, ms. */
export const OKX_REST_RETRY_DELAY_MS_DEFAULT = 100;
/** Default re-fetches of a too-old REST snapshot before a `snapshot_behind` resync. */
export const OKX_SNAPSHOT_BEHIND_ATTEMPTS_MAX = 5;
/** Default bound on updates buffered during a REST bootstrap. */
export const OKX_BOOTSTRAP_BUFFER_MAX = 2_000;

/** Where a book's snapshot comes from (see the module doc). */
export type OkxBookBootstrap = "ws" | "rest" | "auto";

/** A REST snapshot as the assembler needs it (levels flattened, wire strings). */
export interface OkxSnapshotForBootstrap {
  /** Sequence id of the snapshot (S). */
  seqId: number;
  /** `[price, size, ...]`, best first. */
  bids: string[];
  /** `[price, size, ...]`, best first. */
  asks: string[];
  /** Book time, ms epoch. */
  tsMs: number;
}

/** Fetches the REST snapshot of `instId`; rejects on failure or when `signal` aborts. */
export type FetchOkxSnapshot = (
  instId: string,
  opts: { signal: AbortSignal },
) => Promise<OkxSnapshotForBootstrap>;

/** One `books` update, validated and copied (the decoded frame is not kept). */
interface Update {
  seqId: number;
  prevSeqId: number;
  bids: string[];
  asks: string[];
  checksum: unknown;
  tsMs: number;
  recvTsMs: number;
}

/** A REST bootstrap in progress. */
interface RestBootstrap {
  /** Updates since the bootstrap began, continuous on the chain rule. */
  readonly buffer: Update[];
  /** When the next fetch may start (performance.now ms). */
  fetchDueMs: number;
  /** Whether the first buffered update starts the fetch at once (false: auto waits for WS). */
  readonly fetchOnFirstUpdate: boolean;
  inFlight: boolean;
  /** Snapshots that came back older than the buffer, this bootstrap. */
  behind: number;
}

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
  /** Snapshot source. Default `"ws"`. */
  bootstrap?: OkxBookBootstrap;
  /** REST snapshot source; required unless `bootstrap` is `"ws"`. */
  fetchSnapshot?: FetchOkxSnapshot;
  /** Wait for a WS snapshot (auto) or a first update (rest) before fetching, ms. Default 1000. */
  bootstrapWaitMs?: number;
  /** Delay before re-fetching a snapshot older than the buffer, ms; also the failure backoff base. Default 100. */
  restRetryDelayMs?: number;
  /** Re-fetches of a too-old snapshot before a `snapshot_behind` resync. Default 5. */
  snapshotBehindAttemptsMax?: number;
  /** Updates buffered during a REST bootstrap before a `buffer_overflow` resync. Default 2000. */
  bufferMax?: number;
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
  /** REST snapshots applied (book LIVE through §4.4). */
  restSnapshots: number;
  /** REST snapshot requests started. */
  restRequests: number;
  /** REST snapshots fetched again because S was older than the first buffered `prevSeqId`. */
  snapshotRetries: number;
  /** REST snapshot requests that failed (HTTP, body, rate limit, timeout). */
  restFailures: number;
  /** Updates dropped as covered by a REST snapshot (`seqId <= S`). */
  droppedCovered: number;
  /** Bootstrap buffers restarted by a gap or a sequence reset inside them. */
  bufferRestarts: number;
  /** WS snapshots ignored in `"rest"` mode. */
  wsSnapshotsIgnored: number;
  /** Source of the last sync: `"ws"`, `"rest"`, or `"none"` before the first. */
  syncSource: "ws" | "rest" | "none";
  /** Last REST failure, "" when none. */
  lastRestError: string;
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
  readonly #mode: OkxBookBootstrap;
  readonly #bootstrapWaitMs: number;
  readonly #restRetryDelayMs: number;
  readonly #behindAttemptsMax: number;
  readonly #bufferMax: number;
  readonly #failureBackoff: Backoff;
  #state: BookSyncState = "SYNCING";
  #seqId = -1;
  /** S of the REST snapshot while its bridging update is still due; -1 otherwise. */
  #bridgeFrom = -1;
  #rest: RestBootstrap | null = null;
  #fetchGeneration = 0;
  #fetchAbort: AbortController | null = null;
  #settled: Promise<void> = Promise.resolve();
  #source: "ws" | "rest" | "none" = "none";
  #lastRestError = "";
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
    restSnapshots: 0,
    restRequests: 0,
    snapshotRetries: 0,
    restFailures: 0,
    droppedCovered: 0,
    bufferRestarts: 0,
    wsSnapshotsIgnored: 0,
    resyncs: emptyResyncCounts(),
    lastUpdateExchangeTsMs: 0,
    lastUpdateRecvTsMs: 0,
  };

  constructor(opts: OkxBookAssemblerOptions) {
    this.#opts = opts;
    this.#snapshotTimeoutMs = opts.snapshotTimeoutMs ?? OKX_SNAPSHOT_TIMEOUT_MS_DEFAULT;
    this.#mode = opts.bootstrap ?? "ws";
    this.#bootstrapWaitMs = opts.bootstrapWaitMs ?? OKX_BOOTSTRAP_WAIT_MS_DEFAULT;
    this.#restRetryDelayMs = opts.restRetryDelayMs ?? OKX_REST_RETRY_DELAY_MS_DEFAULT;
    this.#behindAttemptsMax = opts.snapshotBehindAttemptsMax ?? OKX_SNAPSHOT_BEHIND_ATTEMPTS_MAX;
    this.#bufferMax = opts.bufferMax ?? OKX_BOOTSTRAP_BUFFER_MAX;
    if (this.#mode !== "ws" && opts.fetchSnapshot === undefined) {
      throw new TypeError(
        `fetchSnapshot: expected a function for bootstrap "${this.#mode}", found none`,
      );
    }
    if (!(Number.isInteger(this.#bufferMax) && this.#bufferMax >= 1)) {
      throw new RangeError(`bufferMax: expected an integer >= 1, found ${opts.bufferMax}`);
    }
    this.#failureBackoff = new Backoff({ initialMs: this.#restRetryDelayMs, maxMs: 5_000 });
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

  /**
   * Starts (or restarts) the wait for a snapshot: call when the subscription was sent. In REST
   * mode (or auto after a REST sync) this begins a §4.4 bootstrap; auto also arms its fallback.
   */
  expectSnapshot(nowMs: number): void {
    if (this.#closed || this.#state === "LIVE") return;
    this.#restEnd();
    if (this.#viaRest()) {
      this.#waitSinceMs = -1;
      this.#restBegin(nowMs, true);
      return;
    }
    this.#waitSinceMs = nowMs;
    if (this.#mode === "auto") this.#restBegin(nowMs, false);
  }

  /** Stops the snapshot timeout and any bootstrap (the connection is down; the next open restarts it). */
  pauseWaiting(): void {
    this.#waitSinceMs = -1;
    this.#restEnd();
  }

  /** Starts a due REST fetch; resubscribes when a WS snapshot is overdue. */
  tick(nowMs: number): void {
    if (this.#closed) return;
    if (this.#rest !== null) this.#maybeFetch(nowMs);
    if (this.#waitSinceMs < 0) return;
    if (nowMs - this.#waitSinceMs >= this.#snapshotTimeoutMs) {
      this.requestResync("snapshot_failed", { resubscribe: true, nowMs });
    }
  }

  /**
   * Discards the book. With `resubscribe` the adapter is asked for a fresh snapshot of this
   * instrument (false when the whole connection resubscribes anyway, e.g. after a reconnect).
   * A book bootstrapped through REST restarts the §4.4 bootstrap instead: the subscription keeps
   * delivering updates, so nothing is resubscribed.
   */
  requestResync(
    reason: ResyncReason,
    opts: { resubscribe: boolean; nowMs?: number } = { resubscribe: true },
  ): void {
    if (this.#closed) return;
    this.#stats.resyncs[reason]++;
    this.book.clear();
    this.#seqId = -1;
    this.#bridgeFrom = -1;
    this.#restEnd();
    this.#setState(this.#state === "SYNCING" ? "SYNCING" : "RESYNCING", reason);
    this.#opts.onResync?.({ provider: "okx", symbol: this.#opts.canonicalSymbol, reason });
    const nowMs = opts.nowMs ?? performance.now();
    if (this.#viaRest()) {
      this.#waitSinceMs = -1;
      this.#restBegin(nowMs, true);
      return;
    }
    this.#waitSinceMs = nowMs;
    if (this.#mode === "auto") this.#restBegin(nowMs, false);
    if (opts.resubscribe) this.#opts.resubscribe(this.#opts.instId);
  }

  /** Applies one `books` push (`action` and `data[0]`). */
  onBooks(action: string, data: OkxBookData, recvTsMs: number): void {
    if (this.#closed) return;
    if (action === "snapshot") {
      if (this.#mode === "rest") {
        this.#stats.wsSnapshotsIgnored++;
        return;
      }
      this.#restEnd();
      this.#bridgeFrom = -1;
      return this.#onSnapshot(data, recvTsMs);
    }
    if (action !== "update") return this.requestResync("invalid_event");
    if (this.#state !== "LIVE" && this.#rest === null) {
      this.#stats.droppedWhileSyncing++;
      return;
    }
    const update = readUpdate(data, recvTsMs);
    if (update === null) return this.requestResync("invalid_event");
    if (this.#state !== "LIVE") return this.#buffer(update);
    const failure = this.#apply(update, true);
    if (failure !== null) this.requestResync(failure);
  }

  /** Settles once the REST request in flight (if any) has finished or been aborted. */
  settled(): Promise<void> {
    return this.#settled;
  }

  /**
   * Applies one update to the live book (emitting a `book_update` when `emit`), or returns why
   * the book must be resynced. While a REST snapshot's bridge is due, the §4.4 rule replaces the
   * chain rule: `seqId <= S` is dropped as covered, `prevSeqId <= S < seqId` bridges.
   */
  #apply(u: Update, emit: boolean): ResyncReason | null {
    if (this.#bridgeFrom >= 0) {
      const s = this.#bridgeFrom;
      if (u.seqId >= u.prevSeqId && u.seqId <= s) {
        this.#stats.droppedCovered++;
        return null;
      }
      // prevSeqId > S: updates between S and this one were never seen.
      if (u.prevSeqId > s) return "gap";
      this.#bridgeFrom = -1;
    } else if (u.prevSeqId !== this.#seqId) {
      return "gap";
    }
    if (u.bids.length === 0 && u.asks.length === 0 && u.seqId === u.prevSeqId) {
      this.#stats.keepAlives++;
      this.#seqId = u.seqId;
      return null;
    }
    const ev = emit ? this.#opts.eventPool.tryAcquire() : null;
    if (emit && ev === null) return "pool_exhausted";
    const release = () => {
      if (ev !== null) this.#opts.eventPool.release(ev);
    };
    try {
      this.book.applyFlat("bid", u.bids);
      this.book.applyFlat("ask", u.asks);
    } catch {
      release();
      return "invalid_event";
    }
    if (this.book.isCrossed()) {
      release();
      return "crossed_book";
    }
    if (!this.#checksumOk(u.checksum)) {
      release();
      return "checksum_mismatch";
    }
    if (u.seqId < u.prevSeqId) this.#stats.sequenceResets++;
    this.#seqId = u.seqId;
    this.#stats.updates++;
    this.#stats.lastUpdateExchangeTsMs = u.tsMs;
    this.#stats.lastUpdateRecvTsMs = u.recvTsMs;
    if (ev === null) return null;
    ev.kind = "book_update";
    ev.provider = "okx";
    ev.symbol = this.#opts.canonicalSymbol;
    ev.seq = u.seqId;
    // First id covered; a reset (seqId < prevSeqId) starts a new numbering at seqId.
    ev.seqFirst = u.seqId > u.prevSeqId ? u.prevSeqId + 1 : u.seqId;
    ev.exchangeTsMs = u.tsMs;
    ev.recvTsMs = u.recvTsMs;
    ev.setBids(u.bids);
    ev.setAsks(u.asks);
    this.#opts.emit(ev);
    return null;
  }

  /** Whether a resync or a new subscription bootstraps through REST (no resubscribe). */
  #viaRest(): boolean {
    return this.#mode === "rest" || (this.#mode === "auto" && this.#source === "rest");
  }

  /**
   * Begins §4.4 step 1 (buffering). The fetch starts with the first buffered update when
   * `fetchOnFirstUpdate` (an earlier fetch would likely be older than the buffer and wasted),
   * and in any case `bootstrapWaitMs` from now (an idle book may send nothing for a minute).
   */
  #restBegin(nowMs: number, fetchOnFirstUpdate: boolean): void {
    assert(this.#rest === null, "two REST bootstraps at once");
    this.#rest = {
      buffer: [],
      fetchDueMs: nowMs + this.#bootstrapWaitMs,
      fetchOnFirstUpdate,
      inFlight: false,
      behind: 0,
    };
  }

  /** Ends the bootstrap, abandoning its request (a late answer is ignored). */
  #restEnd(): void {
    if (this.#rest === null) return;
    if (this.#rest.inFlight) {
      this.#fetchGeneration++;
      this.#fetchAbort?.abort(new Error("okx snapshot request abandoned"));
      this.#fetchAbort = null;
    }
    this.#rest = null;
  }

  /** §4.4 step 1: buffers one update while the book is not live. */
  #buffer(u: Update): void {
    const rest = this.#rest!;
    const last = rest.buffer[rest.buffer.length - 1];
    if (u.seqId < u.prevSeqId) {
      // A maintenance reset renumbers the chain: ids on either side of it cannot be compared
      // with S. Start over after it; the next updates chain on its seqId.
      this.#restartBuffer(rest);
      rest.fetchDueMs = Math.min(rest.fetchDueMs, performance.now() + this.#restRetryDelayMs);
      return;
    }
    if (last !== undefined && u.prevSeqId !== last.seqId) {
      // A hole inside the buffer: what came before it can never be bridged to a snapshot.
      this.#restartBuffer(rest);
    }
    if (rest.buffer.length >= this.#bufferMax) return this.requestResync("buffer_overflow");
    rest.buffer.push(u);
    if (rest.fetchOnFirstUpdate) {
      const nowMs = performance.now();
      rest.fetchDueMs = Math.min(rest.fetchDueMs, nowMs);
      this.#maybeFetch(nowMs);
    }
  }

  #restartBuffer(rest: RestBootstrap): void {
    rest.buffer.length = 0;
    this.#stats.bufferRestarts++;
  }

  #maybeFetch(nowMs: number): void {
    const rest = this.#rest;
    if (rest === null || rest.inFlight || nowMs < rest.fetchDueMs) return;
    rest.inFlight = true;
    const generation = ++this.#fetchGeneration;
    const abort = new AbortController();
    this.#fetchAbort = abort;
    this.#stats.restRequests++;
    this.#settled = this.#runFetch(generation, abort.signal);
  }

  /** §4.4 step 2; never rejects. A result is ignored once its bootstrap was abandoned. */
  async #runFetch(generation: number, signal: AbortSignal): Promise<void> {
    let snapshot: OkxSnapshotForBootstrap;
    try {
      snapshot = await this.#opts.fetchSnapshot!(this.#opts.instId, { signal });
    } catch (err) {
      if (generation === this.#fetchGeneration && !this.#closed) {
        this.#fetchFailed(describe(err), retryAfterMsOf(err));
      }
      return;
    }
    if (generation !== this.#fetchGeneration || this.#closed || this.#rest === null) return;
    this.#fetchAbort = null;
    this.#rest.inFlight = false;
    this.#onRestSnapshot(snapshot);
  }

  /**
   * A request failed: keep the buffer (still valid) and retry after backoff, or after the
   * Retry-After the error carries (calling inside a rate-limit block only prolongs it).
   */
  #fetchFailed(detail: string, retryAfterMs: number): void {
    const rest = this.#rest!;
    rest.inFlight = false;
    this.#fetchAbort = null;
    this.#stats.restFailures++;
    this.#lastRestError = detail;
    this.#stats.resyncs.snapshot_failed++;
    this.#opts.onResync?.({
      provider: "okx",
      symbol: this.#opts.canonicalSymbol,
      reason: "snapshot_failed",
    });
    rest.fetchDueMs = performance.now() + Math.max(this.#failureBackoff.next(), retryAfterMs);
  }

  /** §4.4 steps 2 (age check) and 3 (drop covered, bridge, chain), then LIVE. */
  #onRestSnapshot(snapshot: OkxSnapshotForBootstrap): void {
    const rest = this.#rest!;
    const s = snapshot.seqId;
    if (!(Number.isSafeInteger(s) && s >= 0)) {
      return this.#fetchFailed(`expected seqId as a non-negative integer, found ${s}`, 0);
    }
    const first = rest.buffer[0];
    if (first !== undefined && s < first.prevSeqId) {
      // Step 2: the snapshot predates the first buffered update; the updates in between are
      // in neither. Fetch again (OKX refreshes the REST book every 50 ms).
      this.#stats.snapshotRetries++;
      rest.behind++;
      if (rest.behind >= this.#behindAttemptsMax) return this.requestResync("snapshot_behind");
      rest.fetchDueMs = performance.now() + this.#restRetryDelayMs;
      return;
    }
    const out = this.#opts.eventPool.tryAcquire();
    if (out === null) return this.requestResync("pool_exhausted");
    try {
      this.book.loadSnapshot(snapshot.bids, snapshot.asks);
    } catch (err) {
      this.#opts.eventPool.release(out);
      this.book.clear();
      return this.#fetchFailed(describe(err), 0);
    }
    if (this.book.isCrossed()) {
      this.#opts.eventPool.release(out);
      return this.requestResync("crossed_book");
    }
    this.#failureBackoff.reset();
    this.#seqId = s;
    this.#bridgeFrom = s;
    let tsMs = snapshot.tsMs;
    let recvTsMs = Date.now();
    // Step 3 through the same rule as live updates (bridge first, then the chain).
    for (const u of rest.buffer) {
      const failure = this.#apply(u, false);
      if (failure !== null) {
        this.#opts.eventPool.release(out);
        return this.requestResync(failure);
      }
      if (this.#bridgeFrom < 0) {
        tsMs = u.tsMs;
        recvTsMs = u.recvTsMs;
      }
    }
    this.#rest = null;
    this.#waitSinceMs = -1;
    this.#source = "rest";
    this.#stats.restSnapshots++;
    this.#stats.lastUpdateExchangeTsMs = tsMs;
    this.#stats.lastUpdateRecvTsMs = recvTsMs;
    out.kind = "book_snapshot";
    out.provider = "okx";
    out.symbol = this.#opts.canonicalSymbol;
    out.seq = this.#seqId;
    out.seqFirst = this.#seqId;
    out.exchangeTsMs = tsMs;
    out.recvTsMs = recvTsMs;
    out.setBidsLength(2 * this.book.writeFlat(out.bidStore, "bid", this.book.depth("bid")));
    out.setAsksLength(2 * this.book.writeFlat(out.askStore, "ask", this.book.depth("ask")));
    this.#setState("LIVE", "synced");
    this.#opts.emit(out);
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
      syncSource: this.#source,
      lastRestError: this.#lastRestError,
    };
  }

  /** Stops the assembler (aborting a REST request in flight); later pushes are ignored. */
  close(): void {
    this.#restEnd();
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
    this.#source = "ws";
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
    ev.setBidsLength(2 * this.book.writeFlat(ev.bidStore, "bid", this.book.depth("bid")));
    ev.setAsksLength(2 * this.book.writeFlat(ev.askStore, "ask", this.book.depth("ask")));
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

/** Validates and copies an update's ids, levels and times; null when malformed. */
function readUpdate(data: OkxBookData, recvTsMs: number): Update | null {
  const seqId = data.seqId;
  const prevSeqId = data.prevSeqId;
  if (!isSeq(seqId) || !isSeq(prevSeqId)) return null;
  const bids = flatLevels(data.bids);
  const asks = flatLevels(data.asks);
  if (bids === null || asks === null) return null;
  return { seqId, prevSeqId, bids, asks, checksum: data.checksum, tsMs: toMs(data.ts), recvTsMs };
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The Retry-After (ms) an error carries, e.g. `OkxRestError.retryAfterMs`; 0 when none. */
function retryAfterMsOf(err: unknown): number {
  const ms = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === "number" && Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`okx book assembler: invariant broken: ${what}`);
}
