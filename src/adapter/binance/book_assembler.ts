/**
 * BinanceBookAssembler: keeps one symbol's local order book in sync with Binance's diff-depth
 * stream and REST snapshot, following Binance's current procedure (web-socket-streams.md, "How
 * to manage a local order book correctly", as corrected on 2025-11-12):
 *
 * 1. buffer every diff from the start (`firstU` = `U` of the first one buffered);
 * 2. fetch a snapshot, `lastUpdateId` = `L`;
 * 3. if `L < firstU` the snapshot is older than the stream: fetch again (bounded, with backoff);
 * 4. drop buffered diffs with `u <= L`; the first remaining one must have `U <= L + 1`;
 * 5. load the snapshot, `book.id = L`;
 * 6. per diff: `u < id` → stale, ignore; `U > id + 1` → gap, resync; else apply, `id = u`.
 *
 * One refinement of step 6: a live diff with `u == id` is dropped like a stale one, not
 * applied. It is exactly the case step 4 drops (`u <= L`) for a diff that happened to arrive
 * after the snapshot response instead of before it; its absolute quantities are already in the
 * book, so applying it would change nothing and forward a redundant event. Treating both alike
 * makes the dropped/applied counts independent of when the REST response lands relative to the
 * stream (the recorded replay checks exactly those counts).
 *
 * Output (through `emit`, ownership passes on): once synced, one `book_snapshot` event (full
 * book, best first, `seq` = book id after the buffered diffs), then each live diff as the very
 * `book_update` event that came in, after it was applied. A crossed book is never emitted.
 *
 * Ownership: `onDiff(ev)` takes the pooled event. The assembler either emits it (ownership
 * passes downstream) or keeps it in its bounded buffer until the snapshot arrives, then releases
 * it to the pool (its levels are in the emitted snapshot). Every path that drops an event
 * releases it; a resync releases the whole buffer.
 *
 * Resync (gap, crossed book, staleness, periodic refresh, buffer overflow, malformed diff,
 * reconnect): the book and the buffer are thrown away (state RESYNCING, or STALE for staleness)
 * and a snapshot request goes out at once, so recovery never waits for a timer. The diff that
 * revealed a gap opens the new buffer. A snapshot that arrives while the buffer is still empty
 * (a quiet market) is loaded as is: the update rule then checks the first diff against it, which
 * is the same `U <= L + 1` test. Snapshot failures keep the buffer (it is still continuous) and
 * retry with exponential backoff; a snapshot that stays older than the buffer restarts the sync
 * after a bounded number of attempts and waits for a fresh first diff.
 *
 * Time: the assembler owns no timers. The adapter calls `tick(nowMs)` periodically (every
 * {@linkcode BOOK_TICK_INTERVAL_MS_RECOMMENDED} ms): it drives staleness, the periodic refresh,
 * snapshot retries and the snapshot timeout. All deadlines are measured from tick times only,
 * so no two clocks are mixed and tests need no real timers.
 *
 * One assembler per symbol: a resync of one symbol never touches another's state.
 *
 * @example
 * ```ts
 * const assembler = new BinanceBookAssembler({
 *   symbol: "BTCUSDT",
 *   canonicalSymbol: "BTC-USDT",
 *   eventPool,
 *   fetchSnapshot: (symbol, { signal }) => rest.depth(symbol, 5000, signal),
 *   emit: (ev) => conductor.push(ev),
 *   onResync: (r) => metrics.inc("book.resync", r),
 * });
 * // per decoded depthUpdate, after normalizeBinance(raw, ev, symbols):
 * assembler.onDiff(ev);
 * // from the adapter's 100 ms housekeeping timer:
 * assembler.tick(performance.now());
 * ```
 *
 * @module
 */

import type { BoundedPool } from "../../pool/mod.ts";
import type { CanonicalEvent } from "../../schema/canonical_event.ts";
import {
  type BookResyncEvent,
  type BookStateChange,
  type BookSyncState,
  emptyResyncCounts,
  type ResyncReason,
} from "../shared/book_sync_state.ts";
import { Backoff } from "../shared/backoff.ts";
import { ORDER_BOOK_LEVELS_MAX_DEFAULT, OrderBook } from "../shared/order_book.ts";

/** Provider name carried by every event the assembler emits. */
const PROVIDER = "binance";

/** Most diffs buffered while waiting for a snapshot, by default; beyond it: resync. */
export const BUFFER_EVENTS_MAX_DEFAULT = 1000;
/** No diff for this long (ms) marks the book stale and re-snapshots it, by default. */
export const STALE_AFTER_MS_DEFAULT = 60_000;
/** Shortest interval between periodic re-snapshots of a live book (ms), by default. */
export const REFRESH_INTERVAL_MS_MIN_DEFAULT = 120_000;
/** Longest interval between periodic re-snapshots of a live book (ms), by default. */
export const REFRESH_INTERVAL_MS_MAX_DEFAULT = 300_000;
/** Snapshots in a row older than the first buffered diff before the sync restarts, by default. */
export const SNAPSHOT_BEHIND_ATTEMPTS_MAX_DEFAULT = 5;
/** First snapshot retry delay (ms) by default; doubles per consecutive failure, with jitter. */
export const SNAPSHOT_BACKOFF_MS_MIN_DEFAULT = 250;
/** Cap on the snapshot retry delay (ms), by default. */
export const SNAPSHOT_BACKOFF_MS_MAX_DEFAULT = 5_000;
/** A snapshot request still unanswered after this long (ms) is abandoned, by default. */
export const SNAPSHOT_TIMEOUT_MS_DEFAULT = 10_000;
/**
 * How often the adapter should call `tick` (ms): snapshot retries and timeouts are only as
 * punctual as the ticks, and a gap must recover within 5 s.
 */
export const BOOK_TICK_INTERVAL_MS_RECOMMENDED = 100;

/**
 * A `GET /api/v3/depth` response: levels as `[[price, qty], ...]` (as served) or already flat
 * `[price, qty, ...]`, best first.
 */
export interface BinanceDepthSnapshot {
  /** The book's update id `L`. */
  lastUpdateId: number;
  /** Bid levels, best (highest) first. */
  bids: readonly (readonly string[])[] | readonly string[];
  /** Ask levels, best (lowest) first. */
  asks: readonly (readonly string[])[] | readonly string[];
  /** Gateway receive time of the response (ms since epoch); stamps the emitted snapshot. */
  recvTsMs?: number;
}

/** Options passed to {@linkcode FetchBinanceSnapshot}. */
export interface FetchSnapshotOptions {
  /** Aborted when the assembler abandons the request (timeout, close). */
  signal: AbortSignal;
}

/** Fetches the REST depth snapshot of an exchange symbol (`BTCUSDT`). Rejects on failure. */
export type FetchBinanceSnapshot = (
  symbol: string,
  opts: FetchSnapshotOptions,
) => Promise<BinanceDepthSnapshot>;

/** Options of {@linkcode BinanceBookAssembler}. */
export interface BinanceBookAssemblerOptions {
  /** Exchange symbol as Binance spells it (`BTCUSDT`); passed to `fetchSnapshot`. */
  symbol: string;
  /** Canonical symbol (`BTC-USDT`) stamped on emitted events. */
  canonicalSymbol: string;
  /** The pool diffs come from: dropped diffs go back to it, snapshots are taken from it. */
  eventPool: BoundedPool<CanonicalEvent>;
  /** REST snapshot source. */
  fetchSnapshot: FetchBinanceSnapshot;
  /** Receives each emitted event and its ownership. Must not throw. */
  emit: (ev: CanonicalEvent) => void;
  /** Telemetry: one call per resync (`book.resync{provider,symbol,reason}`). */
  onResync?: (event: BookResyncEvent) => void;
  /** Telemetry: one call per state transition. */
  onStateChange?: (change: BookStateChange) => void;
  /** Uniform random in [0, 1) for refresh scheduling and backoff jitter. Default `Math.random`. */
  random?: () => number;
  /** Most diffs buffered while syncing. Default {@linkcode BUFFER_EVENTS_MAX_DEFAULT}. */
  bufferEventsMax?: number;
  /** Most levels kept per side. Default 5000 (Binance's snapshot maximum). */
  levelsMax?: number;
  /** Staleness bound in ms. Default {@linkcode STALE_AFTER_MS_DEFAULT}. */
  staleAfterMs?: number;
  /** Periodic refresh, lower bound in ms. Default {@linkcode REFRESH_INTERVAL_MS_MIN_DEFAULT}. */
  refreshIntervalMsMin?: number;
  /** Periodic refresh, upper bound in ms. Default {@linkcode REFRESH_INTERVAL_MS_MAX_DEFAULT}. */
  refreshIntervalMsMax?: number;
  /** Bound on re-fetches of a too-old snapshot. Default {@linkcode SNAPSHOT_BEHIND_ATTEMPTS_MAX_DEFAULT}. */
  snapshotBehindAttemptsMax?: number;
  /**
   * Base delay of the first snapshot retry in ms (doubles per retry, equal jitter: each delay is
   * in (base/2, base]). Default {@linkcode SNAPSHOT_BACKOFF_MS_MIN_DEFAULT}.
   */
  snapshotBackoffMsMin?: number;
  /** Retry delay cap in ms. Default {@linkcode SNAPSHOT_BACKOFF_MS_MAX_DEFAULT}. */
  snapshotBackoffMsMax?: number;
  /** Snapshot request timeout in ms. Default {@linkcode SNAPSHOT_TIMEOUT_MS_DEFAULT}. */
  snapshotTimeoutMs?: number;
}

/** A snapshot of one assembler's state and counters (diagnostics; allocates). */
export interface BinanceBookAssemblerStats {
  /** Always `binance`. */
  provider: string;
  /** Canonical symbol. */
  symbol: string;
  /** Current sync state. */
  state: BookSyncState;
  /** The book's update id (0 when no book is held). */
  bookId: number;
  /** Diffs applied to the book (buffered ones at sync time and live ones). */
  applied: number;
  /**
   * Diffs dropped because the book or the buffer already covers them: `u <= L` at sync time
   * (step 4), `u <= id` when live (stale), or not newer than the buffer's last diff.
   */
  dropped: number;
  /** Diffs held in the buffer now. */
  buffered: number;
  /** Snapshot requests started. */
  snapshotsRequested: number;
  /** Snapshots older than the first buffered diff (re-fetched). */
  snapshotsBehind: number;
  /** Times the book became live (initial sync and every completed resync). */
  syncs: number;
  /** Resyncs by reason (snapshot failures included: they are retried). */
  resyncs: Record<ResyncReason, number>;
  /** Last snapshot failure, "" when none. */
  lastSnapshotError: string;
  /** Gateway receive time of the last applied diff (ms since epoch; 0 = none yet). */
  lastUpdateRecvTsMs: number;
  /** Exchange event time of the last applied diff (ms since epoch; 0 = none yet). */
  lastUpdateExchangeTsMs: number;
  /** Best bid price as the exchange wrote it ("" when none). */
  bestBid: string;
  /** Quantity at the best bid ("" when none). */
  bestBidQty: string;
  /** Best ask price ("" when none). */
  bestAsk: string;
  /** Quantity at the best ask ("" when none). */
  bestAskQty: string;
  /** Bid levels held. */
  bidLevels: number;
  /** Ask levels held. */
  askLevels: number;
}

/** Keeps one Binance symbol's order book synchronised (see the module doc). */
export class BinanceBookAssembler {
  /** Exchange symbol (`BTCUSDT`). */
  readonly symbol: string;
  /** Canonical symbol (`BTC-USDT`). */
  readonly canonicalSymbol: string;
  /** The local book. Read it freely; never modify it (the assembler owns it). */
  readonly book: OrderBook;
  /** Bound on buffered diffs. */
  readonly bufferEventsMax: number;
  /** Staleness bound in ms. */
  readonly staleAfterMs: number;

  private readonly eventPool: BoundedPool<CanonicalEvent>;
  private readonly fetchSnapshot: FetchBinanceSnapshot;
  private readonly emit: (ev: CanonicalEvent) => void;
  private readonly onResync: ((event: BookResyncEvent) => void) | undefined;
  private readonly onStateChange: ((change: BookStateChange) => void) | undefined;
  private readonly random: () => number;
  private readonly refreshIntervalMsMin: number;
  private readonly refreshIntervalMsMax: number;
  private readonly snapshotBehindAttemptsMax: number;
  private readonly snapshotBackoffMsMin: number;
  private readonly snapshotBackoffMsMax: number;
  private readonly snapshotTimeoutMs: number;

  private syncState: BookSyncState = "SYNCING";
  private everLive = false;
  private closed = false;
  private id = 0;

  /** Buffered diffs in arrival order; slots past `bufferCount` are null. */
  private readonly buffer: (CanonicalEvent | null)[] = [];
  private bufferCount = 0;

  /** Bumped to abandon an in-flight snapshot request (its result is then ignored). */
  private fetchGeneration = 0;
  private fetchInFlight = false;
  private fetchAbort: AbortController | null = null;
  private fetchStartedMs = NaN;
  private settled: Promise<void> = Promise.resolve();
  private retryPending = false;
  private retryDelayMs = 0;
  private retryDueMs = NaN;
  private behindAttempts = 0;
  /** Delays of snapshot retries (failures and too-old snapshots); reset by a completed sync. */
  private readonly retryBackoff: Backoff;
  /** Scratch flat level arrays of the snapshot being loaded (reused). */
  private readonly snapBids: string[] = [];
  private readonly snapAsks: string[] = [];

  /** NaN means "schedule at the next tick": deadlines only ever use tick times. */
  private refreshDueMs = NaN;
  private lastDiffMs = NaN;
  private diffSinceTick = false;

  private applied = 0;
  private dropped = 0;
  private snapshotsRequested = 0;
  private snapshotsBehind = 0;
  private syncs = 0;
  private readonly resyncs = emptyResyncCounts();
  private lastSnapshotError = "";
  private lastUpdateRecvTsMs = 0;
  private lastUpdateExchangeTsMs = 0;

  /** Creates an assembler in state SYNCING; the first diff starts the snapshot request. */
  constructor(opts: BinanceBookAssemblerOptions) {
    if (typeof opts.symbol !== "string" || opts.symbol.length === 0) {
      throw new TypeError(`book assembler: expected an exchange symbol, found "${opts.symbol}"`);
    }
    if (typeof opts.canonicalSymbol !== "string" || opts.canonicalSymbol.length === 0) {
      throw new TypeError(
        `book assembler: expected a canonical symbol, found "${opts.canonicalSymbol}"`,
      );
    }
    this.symbol = opts.symbol;
    this.canonicalSymbol = opts.canonicalSymbol;
    this.eventPool = opts.eventPool;
    this.fetchSnapshot = opts.fetchSnapshot;
    this.emit = opts.emit;
    this.onResync = opts.onResync;
    this.onStateChange = opts.onStateChange;
    this.random = opts.random ?? Math.random;
    this.bufferEventsMax = positiveInteger(
      "bufferEventsMax",
      opts.bufferEventsMax ?? BUFFER_EVENTS_MAX_DEFAULT,
    );
    this.staleAfterMs = positiveInteger(
      "staleAfterMs",
      opts.staleAfterMs ?? STALE_AFTER_MS_DEFAULT,
    );
    this.refreshIntervalMsMin = positiveInteger(
      "refreshIntervalMsMin",
      opts.refreshIntervalMsMin ?? REFRESH_INTERVAL_MS_MIN_DEFAULT,
    );
    this.refreshIntervalMsMax = positiveInteger(
      "refreshIntervalMsMax",
      opts.refreshIntervalMsMax ?? REFRESH_INTERVAL_MS_MAX_DEFAULT,
    );
    if (this.refreshIntervalMsMax < this.refreshIntervalMsMin) {
      throw new RangeError(
        `book assembler: expected refreshIntervalMsMax >= refreshIntervalMsMin (${this.refreshIntervalMsMin}), found ${this.refreshIntervalMsMax}`,
      );
    }
    this.snapshotBehindAttemptsMax = positiveInteger(
      "snapshotBehindAttemptsMax",
      opts.snapshotBehindAttemptsMax ?? SNAPSHOT_BEHIND_ATTEMPTS_MAX_DEFAULT,
    );
    this.snapshotBackoffMsMin = positiveInteger(
      "snapshotBackoffMsMin",
      opts.snapshotBackoffMsMin ?? SNAPSHOT_BACKOFF_MS_MIN_DEFAULT,
    );
    this.snapshotBackoffMsMax = positiveInteger(
      "snapshotBackoffMsMax",
      opts.snapshotBackoffMsMax ?? SNAPSHOT_BACKOFF_MS_MAX_DEFAULT,
    );
    if (this.snapshotBackoffMsMax < this.snapshotBackoffMsMin) {
      throw new RangeError(
        `book assembler: expected snapshotBackoffMsMax >= snapshotBackoffMsMin (${this.snapshotBackoffMsMin}), found ${this.snapshotBackoffMsMax}`,
      );
    }
    this.retryBackoff = new Backoff({
      initialMs: this.snapshotBackoffMsMin,
      maxMs: this.snapshotBackoffMsMax,
      jitter: 0.5,
      random: this.random,
    });
    this.snapshotTimeoutMs = positiveInteger(
      "snapshotTimeoutMs",
      opts.snapshotTimeoutMs ?? SNAPSHOT_TIMEOUT_MS_DEFAULT,
    );
    this.book = new OrderBook({
      levelsMax: positiveInteger("levelsMax", opts.levelsMax ?? ORDER_BOOK_LEVELS_MAX_DEFAULT),
    });
  }

  /** Current sync state. */
  get state(): BookSyncState {
    return this.syncState;
  }

  /** The book's update id: the `u` of the last applied diff, or `L` (0 when no book is held). */
  get bookId(): number {
    return this.id;
  }

  /**
   * Takes one pooled `book_update` event of this symbol (ownership passes to the assembler).
   * Live: applies and emits it, drops it when stale, or resyncs on a gap, a crossed result or
   * malformed ids. Syncing: buffers it (continuity-checked, bounded) and makes sure a snapshot
   * request is under way. Throws (after releasing the event) when handed another kind or
   * symbol: that is a wiring bug, not an exchange condition.
   */
  onDiff(ev: CanonicalEvent): void {
    if (ev.kind !== "book_update" || (ev.symbol !== "" && ev.symbol !== this.canonicalSymbol)) {
      const found = `${ev.kind} ${ev.symbol}`;
      this.eventPool.release(ev);
      throw new TypeError(
        `book assembler ${this.canonicalSymbol}: expected a book_update of this symbol, found ${found}`,
      );
    }
    if (this.closed) {
      this.eventPool.release(ev);
      return;
    }
    this.diffSinceTick = true;
    if (!hasValidIds(ev)) {
      this.eventPool.release(ev);
      this.resync("invalid_event", null);
      return;
    }
    if (this.syncState === "LIVE") this.applyLive(ev);
    else this.bufferDiff(ev);
  }

  /**
   * Housekeeping, called by the adapter every ~{@linkcode BOOK_TICK_INTERVAL_MS_RECOMMENDED} ms
   * with a monotonic time: snapshot timeout, due snapshot retries, the periodic refresh and the
   * staleness check.
   */
  tick(nowMs: number): void {
    if (!Number.isFinite(nowMs)) {
      throw new RangeError(`book assembler: expected a finite nowMs, found ${nowMs}`);
    }
    if (this.closed) return;
    if (this.diffSinceTick || Number.isNaN(this.lastDiffMs)) this.lastDiffMs = nowMs;
    this.diffSinceTick = false;

    if (this.fetchInFlight) {
      if (Number.isNaN(this.fetchStartedMs)) this.fetchStartedMs = nowMs;
      else if (nowMs - this.fetchStartedMs >= this.snapshotTimeoutMs) {
        this.abandonFetch();
        this.fetchFailed("snapshot_failed", `timed out after ${this.snapshotTimeoutMs} ms`);
      }
    }
    if (this.retryPending) {
      if (Number.isNaN(this.retryDueMs)) this.retryDueMs = nowMs + this.retryDelayMs;
      if (nowMs >= this.retryDueMs) {
        this.retryPending = false;
        this.retryDueMs = NaN;
        this.startFetch();
      }
    }
    if (this.syncState === "LIVE") {
      if (Number.isNaN(this.refreshDueMs)) this.refreshDueMs = nowMs + this.refreshIntervalMs();
      else if (nowMs >= this.refreshDueMs) this.resync("periodic_refresh", null);
    }
    if (
      nowMs - this.lastDiffMs >= this.staleAfterMs && !this.fetchInFlight && !this.retryPending
    ) {
      this.resync("stale", null);
    }
  }

  /**
   * Throws the book away and rebuilds it from a fresh snapshot now (the adapter passes
   * `"reconnect"` after a reconnect, operators `"requested"`).
   */
  requestResync(reason: ResyncReason): void {
    if (this.closed) return;
    this.resync(reason, null);
  }

  /**
   * Resolves once the response to the snapshot request under way when called (if any) has been
   * handled; handling it may start another request (a resync). For tests and shutdown. Rejects
   * only if handling the response hit a bug (an invariant violation).
   */
  whenSettled(): Promise<void> {
    return this.settled;
  }

  /** Stops the assembler: releases every buffered diff, abandons any snapshot request. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abandonFetch();
    this.retryPending = false;
    this.releaseBuffer();
    this.book.clear();
    this.id = 0;
  }

  /** A snapshot of the state and counters (allocates: diagnostics only). */
  stats(): BinanceBookAssemblerStats {
    return {
      provider: PROVIDER,
      symbol: this.canonicalSymbol,
      state: this.syncState,
      bookId: this.id,
      applied: this.applied,
      dropped: this.dropped,
      buffered: this.bufferCount,
      snapshotsRequested: this.snapshotsRequested,
      snapshotsBehind: this.snapshotsBehind,
      syncs: this.syncs,
      resyncs: { ...this.resyncs },
      lastSnapshotError: this.lastSnapshotError,
      lastUpdateRecvTsMs: this.lastUpdateRecvTsMs,
      lastUpdateExchangeTsMs: this.lastUpdateExchangeTsMs,
      bestBid: this.book.bestPrice("bid"),
      bestBidQty: this.book.bestQty("bid"),
      bestAsk: this.book.bestPrice("ask"),
      bestAskQty: this.book.bestQty("ask"),
      bidLevels: this.book.depth("bid"),
      askLevels: this.book.depth("ask"),
    };
  }

  /** The update rule on a live book (step 6). */
  private applyLive(ev: CanonicalEvent): void {
    if (ev.seq <= this.id) {
      // Stale (u < id), or covered by the snapshot (u == id == L): see the module doc.
      this.dropped++;
      this.eventPool.release(ev);
      return;
    }
    if (ev.seqFirst > this.id + 1) {
      // Start the new buffer with the first diff after the gap and re-snapshot at once.
      this.resync("gap", ev);
      return;
    }
    if (!this.applyLevels(ev)) {
      this.eventPool.release(ev);
      this.resync("invalid_event", null);
      return;
    }
    if (this.book.isCrossed()) {
      // Never emit a crossed book. The diff itself is in sequence: it opens the new buffer.
      this.resync("crossed_book", ev);
      return;
    }
    this.id = ev.seq;
    this.applied++;
    this.lastUpdateRecvTsMs = ev.recvTsMs;
    this.lastUpdateExchangeTsMs = ev.exchangeTsMs;
    ev.provider = PROVIDER;
    ev.symbol = this.canonicalSymbol;
    this.emit(ev);
  }

  /** Step 1: buffer a diff while syncing, keeping the buffer continuous and bounded. */
  private bufferDiff(ev: CanonicalEvent): void {
    if (this.bufferCount > 0) {
      const last = this.buffer[this.bufferCount - 1]!;
      if (ev.seq <= last.seq) {
        this.dropped++;
        this.eventPool.release(ev);
        return;
      }
      if (ev.seqFirst > last.seq + 1) {
        // Diffs were missed while buffering: the buffer can never bridge a snapshot any more.
        this.resync("gap", ev);
        return;
      }
    }
    if (this.bufferCount >= this.bufferEventsMax) {
      this.resync("buffer_overflow", ev);
      return;
    }
    this.pushBuffer(ev);
    this.ensureFetch();
  }

  private pushBuffer(ev: CanonicalEvent): void {
    assert(this.bufferCount < this.bufferEventsMax, "buffer over its bound");
    this.buffer[this.bufferCount++] = ev;
  }

  private releaseBuffer(): void {
    for (let i = 0; i < this.bufferCount; i++) {
      const ev = this.buffer[i];
      if (ev !== null) this.eventPool.release(ev);
      this.buffer[i] = null;
    }
    this.bufferCount = 0;
  }

  /**
   * Throws the book and the buffer away and starts over. `carry` (a diff in sequence after the
   * trouble) opens the new buffer. Re-snapshots at once, except after `snapshot_behind`, which
   * waits for the next diff so the fresh buffer gives the new snapshot a `firstU` to meet.
   */
  private resync(reason: ResyncReason, carry: CanonicalEvent | null): void {
    this.countResync(reason);
    this.book.clear();
    this.id = 0;
    this.releaseBuffer();
    this.behindAttempts = 0;
    this.refreshDueMs = NaN;
    this.lastDiffMs = NaN;
    const to: BookSyncState = reason === "stale"
      ? "STALE"
      : this.everLive
      ? "RESYNCING"
      : "SYNCING";
    this.setState(to, reason);
    if (carry !== null) this.pushBuffer(carry);
    if (carry !== null || reason !== "snapshot_behind") this.ensureFetch();
  }

  private countResync(reason: ResyncReason): void {
    this.resyncs[reason]++;
    this.onResync?.({ provider: PROVIDER, symbol: this.canonicalSymbol, reason });
  }

  private setState(to: BookSyncState, cause: ResyncReason | "synced"): void {
    const from = this.syncState;
    if (from === to) return;
    this.syncState = to;
    this.onStateChange?.({ provider: PROVIDER, symbol: this.canonicalSymbol, from, to, cause });
  }

  /** Starts a snapshot request unless one is under way or a retry is waiting out its backoff. */
  private ensureFetch(): void {
    if (this.closed || this.fetchInFlight || this.retryPending) return;
    this.startFetch();
  }

  private startFetch(): void {
    assert(!this.fetchInFlight, "two snapshot requests in flight");
    const generation = ++this.fetchGeneration;
    const abort = new AbortController();
    this.fetchAbort = abort;
    this.fetchInFlight = true;
    this.fetchStartedMs = NaN;
    this.snapshotsRequested++;
    this.settled = this.runFetch(generation, abort.signal);
  }

  private abandonFetch(): void {
    if (!this.fetchInFlight) return;
    this.fetchGeneration++;
    this.fetchInFlight = false;
    this.fetchAbort?.abort(new Error("snapshot request abandoned"));
    this.fetchAbort = null;
  }

  /** Step 2 and the hand-over to steps 3-6; the result is ignored once abandoned. */
  private async runFetch(generation: number, signal: AbortSignal): Promise<void> {
    let snapshot: BinanceDepthSnapshot;
    try {
      snapshot = await this.fetchSnapshot(this.symbol, { signal });
    } catch (e) {
      if (generation === this.fetchGeneration) {
        this.fetchFailed("snapshot_failed", describe(e), retryAfterMsOf(e));
      }
      return;
    }
    if (generation !== this.fetchGeneration) return;
    const problem = this.readSnapshot(snapshot);
    if (problem !== null) {
      this.fetchFailed("snapshot_failed", problem);
      return;
    }
    let out = this.eventPool.tryAcquire();
    if (out === null) {
      try {
        out = await this.eventPool.acquire();
      } catch (e) {
        if (generation === this.fetchGeneration) this.fetchFailed("pool_exhausted", describe(e));
        return;
      }
      if (generation !== this.fetchGeneration) {
        this.eventPool.release(out);
        return;
      }
    }
    this.fetchInFlight = false;
    this.fetchAbort = null;
    this.completeSync(snapshot, out);
  }

  /** Validates a snapshot and flattens its levels into the scratch arrays; null when valid. */
  private readSnapshot(snapshot: BinanceDepthSnapshot): string | null {
    if (snapshot === null || typeof snapshot !== "object") {
      return `expected a depth snapshot object, found ${typeof snapshot}`;
    }
    const id = snapshot.lastUpdateId;
    if (!Number.isSafeInteger(id) || id < 0) {
      return `expected lastUpdateId as a non-negative integer, found ${id}`;
    }
    const recv = snapshot.recvTsMs;
    if (recv !== undefined && !(Number.isFinite(recv) && recv >= 0)) {
      return `expected recvTsMs as a ms timestamp, found ${recv}`;
    }
    return flattenLevels(this.snapBids, snapshot.bids, "bids") ??
      flattenLevels(this.snapAsks, snapshot.asks, "asks");
  }

  /** Steps 3-6 with a valid snapshot and a pooled event `out` for the emitted book. */
  private completeSync(snapshot: BinanceDepthSnapshot, out: CanonicalEvent): void {
    const L = snapshot.lastUpdateId;
    // Step 3: a snapshot older than the first buffered diff cannot be bridged: fetch again.
    // Binance's text says `L < firstU`; a snapshot at exactly firstU - 1 is continued by the
    // first buffered diff (U <= L + 1, the update rule), so only a real hole re-fetches.
    if (this.bufferCount > 0 && L + 1 < this.buffer[0]!.seqFirst) {
      this.eventPool.release(out);
      this.snapshotsBehind++;
      this.behindAttempts++;
      if (this.behindAttempts >= this.snapshotBehindAttemptsMax) {
        this.resync("snapshot_behind", null);
      } else {
        this.scheduleRetry(this.retryBackoff.next());
      }
      return;
    }
    // Step 5 first, so a malformed level fails before any buffered diff is consumed.
    try {
      this.book.loadSnapshot(this.snapBids, this.snapAsks);
    } catch (e) {
      this.eventPool.release(out);
      this.fetchFailed("snapshot_failed", describe(e));
      return;
    }
    this.behindAttempts = 0;
    this.retryBackoff.reset();
    this.id = L;
    // Step 4: drop what the snapshot already covers.
    let i = 0;
    while (i < this.bufferCount && this.buffer[i]!.seq <= L) {
      this.eventPool.release(this.buffer[i]!);
      this.buffer[i] = null;
      this.dropped++;
      i++;
    }
    // Steps 4 (first-event rule) and 6, through the same update rule as live diffs. The buffer
    // is continuous and L >= firstU, so neither a gap nor a covered diff can occur here; the
    // checks stay as a second line of defence.
    let lastRecvTsMs = 0;
    let lastExchangeTsMs = 0;
    for (; i < this.bufferCount; i++) {
      const ev = this.buffer[i]!;
      this.buffer[i] = null;
      if (ev.seq <= this.id) {
        this.dropped++;
        this.eventPool.release(ev);
        continue;
      }
      let failure: ResyncReason | null = null;
      if (ev.seqFirst > this.id + 1) failure = "gap";
      else if (!this.applyLevels(ev)) failure = "invalid_event";
      else if (this.book.isCrossed()) failure = "crossed_book";
      if (failure !== null) {
        this.eventPool.release(ev);
        this.eventPool.release(out);
        this.resync(failure, null);
        return;
      }
      this.id = ev.seq;
      this.applied++;
      lastRecvTsMs = ev.recvTsMs;
      lastExchangeTsMs = ev.exchangeTsMs;
      this.lastUpdateRecvTsMs = lastRecvTsMs;
      this.lastUpdateExchangeTsMs = lastExchangeTsMs;
      // Its levels are in the book, so in the snapshot about to be emitted: back to the pool.
      this.eventPool.release(ev);
    }
    this.bufferCount = 0;
    if (this.book.isCrossed()) {
      this.eventPool.release(out);
      this.resync("crossed_book", null);
      return;
    }
    out.kind = "book_snapshot";
    out.provider = PROVIDER;
    out.symbol = this.canonicalSymbol;
    out.seq = this.id;
    out.seqFirst = this.id;
    out.exchangeTsMs = lastExchangeTsMs;
    out.recvTsMs = snapshot.recvTsMs ?? lastRecvTsMs;
    out.setBidsLength(2 * this.book.writeFlat(out.bidStore, "bid", this.book.levelsMax));
    out.setAsksLength(2 * this.book.writeFlat(out.askStore, "ask", this.book.levelsMax));
    this.everLive = true;
    this.syncs++;
    this.refreshDueMs = NaN;
    this.setState("LIVE", "synced");
    this.emit(out);
  }

  /** Applies a diff's levels; false (book then unusable) when a level is malformed. */
  private applyLevels(ev: CanonicalEvent): boolean {
    try {
      this.book.applyFlat("bid", ev.bidStore, ev.bidsLength);
      this.book.applyFlat("ask", ev.askStore, ev.asksLength);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * A snapshot attempt failed: count it, keep the buffer (still valid), retry after backoff — or
   * after the exchange's Retry-After when the error carries one (retrying inside a rate-limit
   * block only earns an IP ban).
   */
  private fetchFailed(reason: ResyncReason, detail: string, retryAfterMs = 0): void {
    this.fetchInFlight = false;
    this.fetchAbort = null;
    this.lastSnapshotError = detail;
    this.countResync(reason);
    this.scheduleRetry(Math.max(this.retryBackoff.next(), retryAfterMs));
  }

  private scheduleRetry(delayMs: number): void {
    this.retryPending = true;
    this.retryDelayMs = delayMs;
    this.retryDueMs = NaN;
  }

  private refreshIntervalMs(): number {
    const span = this.refreshIntervalMsMax - this.refreshIntervalMsMin;
    return this.refreshIntervalMsMin + this.random() * span;
  }
}

/** The Retry-After (ms) an error carries, e.g. `BinanceRestError.retryAfterMs`; 0 when none. */
function retryAfterMsOf(e: unknown): number {
  const ms = (e as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === "number" && Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** Ids a diff must have: safe integers with `0 <= U <= u`. */
function hasValidIds(ev: CanonicalEvent): boolean {
  return Number.isSafeInteger(ev.seqFirst) && Number.isSafeInteger(ev.seq) &&
    ev.seqFirst >= 0 && ev.seqFirst <= ev.seq;
}

/**
 * Writes `levels` (nested `[[price, qty], ...]` or flat) into `out` as flat strings; returns null
 * or what was wrong.
 */
function flattenLevels(
  out: string[],
  levels: readonly (readonly string[])[] | readonly string[],
  name: string,
): string | null {
  out.length = 0;
  if (!Array.isArray(levels)) return `expected ${name} as an array, found ${typeof levels}`;
  for (let i = 0; i < levels.length; i++) {
    const level: unknown = levels[i];
    if (typeof level === "string") {
      out.push(level);
    } else if (
      Array.isArray(level) && level.length >= 2 && typeof level[0] === "string" &&
      typeof level[1] === "string"
    ) {
      out.push(level[0], level[1]);
    } else {
      return `expected ${name}[${i}] as a [price, qty] pair of strings, found ${typeof level}`;
    }
  }
  if (out.length % 2 !== 0) {
    return `expected ${name} as price/qty pairs, found ${out.length} values`;
  }
  return null;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`book assembler: expected ${name} as an integer >= 1, found ${value}`);
  }
  return value;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Invariant check: a failure is a bug in the assembler, never an exchange condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`book assembler invariant violated: ${what}`);
}
