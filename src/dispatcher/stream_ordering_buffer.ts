/**
 * StreamOrderingBuffer: per-stream ordering and de-duplication of canonical events before fan-out
 * (MISSION R-08, R-09). One instance serves every stream of a dispatcher; inside it each stream,
 * keyed `(provider, symbol, kind)`, has a small state object created once, with a bounded buffer.
 * There is no ordering across streams.
 *
 * How a stream is ordered depends on its kind ({@linkcode OrderingMode}, defaults in
 * {@linkcode ORDERING_MODES_DEFAULT}), because only some providers' sequences say what comes next:
 *
 * - `contiguous` (trades: trade or aggregate ids): the next event is `seq = last + 1`.
 * - `chained` (book diffs): the next event covers the following id,
 *   `seqFirst <= last + 1 <= seq` (Binance `U`/`u`; an adapter maps OKX `prevSeqId + 1` to
 *   `seqFirst`).
 * - `increasing` (book snapshots): `seq` grows in arbitrary steps; a missing event cannot be told
 *   from a step, so nothing is ever held: newer events go at once, older ones are late.
 * - `recv_ts` (tickers, klines): ordered by the gateway receive time `recvTsMs`, non-decreasing;
 *   never held, never de-duplicated. Their `seq` is no event id (a kline's last trade id repeats
 *   while a bar is quiet and across intervals; Binance bookTicker and 24 h ticker ids come from
 *   different spaces).
 * - `none`: passed straight through.
 *
 * An event with `seq` 0 (a provider without sequence numbers) is ordered by `recvTsMs` in every
 * mode, like `recv_ts` (so is one whose `seq` is not a positive safe integer, which validation
 * upstream should already have refused). It is never held: with no sequence, nothing shows that an earlier event
 * is missing, so holding would delay every event by the lateness window; and `recvTsMs` is
 * stamped in processing order, so a reversal is an anomaly (a wall-clock step back, an async
 * hop), not network reordering. Nor can it be de-duplicated: `provider:symbol:kind:0` names
 * every such event of the stream.
 *
 * Release rules for the sequenced modes (`contiguous`, `chained`):
 *
 * 1. In order (the next event, nothing held): released at once, synchronously, inside
 *    {@linkcode StreamOrderingBuffer.offer}. No timer is involved and nothing is allocated: zero
 *    added latency in the common case.
 * 2. A gap (the event is beyond the next one): the event is held, sorted by `seq`, as a plain
 *    clone. When the missing event arrives it is released at once, followed by every held event
 *    that is now contiguous.
 * 3. Lateness: a sweep runs every `flushIntervalMs` while anything is held (one timer for the
 *    whole buffer, on the injected {@linkcode Clock}). If some held event has waited
 *    `latenessMs`, every event missing below it is given up: all held events up to the highest
 *    expired one are released in order, the gaps skipped (counted, reported through `onGap`),
 *    then whatever is contiguous after them. A held event thus waits between `latenessMs` and
 *    `latenessMs + flushIntervalMs`. Giving up only below an expired event means that when no
 *    event arrives `latenessMs` or more after an event with a higher sequence, nothing is lost.
 * 4. Buffer full: past `bufferEventsMax` held events, the lowest is released (gap skipped), plus
 *    whatever is contiguous after it.
 * 5. Late: an event at or below the highest sequence already released is never delivered out of
 *    order. If the stream's {@linkcode RecentSeqWindow} remembers that sequence it is an exact
 *    duplicate (`onDuplicate`); otherwise it is late (`onLate`, reason `overtaken`, or
 *    `below_window` when it is older than the window, where a late event and a duplicate cannot
 *    be told apart). Either way it is dropped; the caller releases a pooled original as usual.
 *    A duplicate of a held event is dropped the same way.
 *
 * A stream's first event (or its first after eviction or a reset) is released at once and sets
 * the baseline; `holdStreamStart` holds it like a gap instead, for a stream whose first events
 * may arrive out of order. A sequence that jumps backwards (an exchange or simulator restart)
 * would leave every later event late: when a stream has produced nothing but late events for
 * `sequenceResetMs` (no release in between), the next late event resets the stream and starts
 * the new sequence (`onSequenceReset`). Callers that know of a restart call
 * {@linkcode StreamOrderingBuffer.resetStream} instead.
 *
 * Held events are plain clones and the caller keeps ownership of what it offers: pooled events
 * are never pinned in a buffer (a few streams with gaps could otherwise hold most of a 300-event
 * pool, stalling the adapters and making things later still). Cloning costs an allocation, but
 * only for events that arrive out of order. At most `streamsMax` streams are tracked; the least
 * recently used one is evicted (its held events released in order) to make room.
 *
 * Callbacks (`release`, `onLate`, ...) run synchronously and must not call back into the buffer.
 * The event a callback receives is borrowed: valid during the call only (clone it to keep it).
 *
 * @module
 */

import { type Clock, SYSTEM_CLOCK } from "../pool/clock.ts";
import {
  type CanonicalEventData,
  type CanonicalEventLike,
  cloneCanonicalEventData,
} from "../schema/canonical_event.ts";
import {
  isMarketEventKind,
  MARKET_EVENT_KINDS,
  type MarketEventKind,
} from "../schema/event_kind.ts";
import { DEDUP_WINDOW_EVENTS_DEFAULT, RecentSeqWindow } from "./dedup_window.ts";

/** How long a held event waits for the events missing before it, in ms, by default. */
export const LATENESS_MS_DEFAULT = 150;
/** Interval of the lateness sweep while anything is held, in ms, by default. */
export const FLUSH_INTERVAL_MS_DEFAULT = 50;
/** Events one stream may hold by default. */
export const BUFFER_EVENTS_MAX_DEFAULT = 200;
/** Streams tracked at once by default (least recently used evicted beyond). */
export const STREAMS_MAX_DEFAULT = 4096;
/** How long a stream may produce only late events before its sequence is reset, in ms. */
export const SEQUENCE_RESET_MS_DEFAULT = 1000;

/** How the events of one kind are ordered; see the module documentation. */
export type OrderingMode = "contiguous" | "chained" | "increasing" | "recv_ts" | "none";

/** The ordering mode of each kind unless configured otherwise. */
export const ORDERING_MODES_DEFAULT: Readonly<Record<MarketEventKind, OrderingMode>> = Object
  .freeze({
    trade: "contiguous",
    book_update: "chained",
    book_snapshot: "increasing",
    ticker: "recv_ts",
    kline: "recv_ts",
  });

/**
 * Why an event was late: a later event of the stream was already released (`overtaken`); it is
 * older than the de-duplication window, so it may also be a duplicate (`below_window`); or its
 * receive time is older than the stream's last released one (`older_recv_ts`).
 */
export type LateReason = "overtaken" | "below_window" | "older_recv_ts";

/**
 * Why held events were released before their gap filled: they waited `latenessMs` (`timeout`),
 * the buffer was full (`full`), the stream was flushed (`flush`: eviction, reset, close), or
 * holding is off (`immediate`: `latenessMs` 0, or after close).
 */
export type GapCause = "timeout" | "full" | "flush" | "immediate";

/** A stream, as `resetStream` takes it. */
export interface OrderingStreamKey {
  /** Provider name. */
  provider: string;
  /** Canonical symbol. */
  symbol: string;
  /** Market-data kind. */
  kind: string;
}

/** Passed to `onLate` for each event dropped as late. */
export interface LateEventInfo {
  /** The event's stream. */
  provider: string;
  /** The event's stream. */
  symbol: string;
  /** The event's stream. */
  kind: string;
  /** Why it was late. */
  reason: LateReason;
  /** Highest sequence released on the stream (`older_recv_ts`: latest released `recvTsMs`). */
  releasedUpTo: number;
  /** The event, borrowed: valid during the call only; clone it to keep it (a DLQ does). */
  event: CanonicalEventLike;
}

/** Passed to `onDuplicate` for each exact duplicate dropped. */
export interface DuplicateEventInfo {
  /** The event's stream. */
  provider: string;
  /** The event's stream. */
  symbol: string;
  /** The event's stream. */
  kind: string;
  /** The duplicated sequence number. */
  seq: number;
  /** Whether the original was already released or is still held. */
  original: "released" | "held";
}

/** Passed to `onGap` for each run of sequence numbers given up. */
export interface GapInfo {
  /** The stream. */
  provider: string;
  /** The stream. */
  symbol: string;
  /** The stream. */
  kind: string;
  /** First missing sequence number. */
  fromSeq: number;
  /** Last missing sequence number. */
  toSeq: number;
  /** What made the buffer give up. */
  cause: GapCause;
}

/** Passed to `onSequenceReset` when a stream's sequence is taken to have restarted. */
export interface SequenceResetInfo {
  /** The stream. */
  provider: string;
  /** The stream. */
  symbol: string;
  /** The stream. */
  kind: string;
  /** Highest sequence released before the reset. */
  releasedUpTo: number;
  /** Sequence of the late event that triggered the reset; it starts the new sequence. */
  seq: number;
}

/** Options of the ordering stage (everything but where released events go). */
export interface StreamOrderingOptions {
  /** Time source of the lateness sweep. Default: the system clock. */
  clock?: Clock;
  /** Longest wait of a held event for the events missing before it, in ms (0: never hold). */
  latenessMs?: number;
  /** Interval of the lateness sweep while anything is held, in ms (> 0). */
  flushIntervalMs?: number;
  /** Events one stream may hold (integer >= 1). */
  bufferEventsMax?: number;
  /** Streams tracked at once; beyond it the least recently used is evicted (integer >= 1). */
  streamsMax?: number;
  /** Released sequence numbers remembered per stream for de-duplication (integer >= 1). */
  dedupWindowEvents?: number;
  /** Late-only run after which a stream's sequence is reset, in ms (Infinity: never). */
  sequenceResetMs?: number;
  /** Ordering mode per kind, overriding {@linkcode ORDERING_MODES_DEFAULT}. */
  modes?: Partial<Record<MarketEventKind, OrderingMode>>;
  /** Hold a stream's first event like a gap instead of releasing it at once. Default false. */
  holdStreamStart?: boolean;
  /** Told about each late event dropped (already counted). Must not throw or call back in. */
  onLate?: (info: LateEventInfo) => void;
  /** Told about each duplicate dropped (already counted). Must not throw or call back in. */
  onDuplicate?: (info: DuplicateEventInfo) => void;
  /** Told about each gap given up (already counted). Must not throw or call back in. */
  onGap?: (info: GapInfo) => void;
  /** Told about each sequence reset (already counted). Must not throw or call back in. */
  onSequenceReset?: (info: SequenceResetInfo) => void;
}

/** Options of {@linkcode StreamOrderingBuffer}. */
export interface StreamOrderingBufferOptions extends StreamOrderingOptions {
  /** Receives each event in stream order; the event is borrowed for the call. Must not throw. */
  release: (ev: CanonicalEventLike) => void;
}

/** Counters kept per stream and in total. */
export interface OrderingCounters {
  /** Events released (delivered on). */
  released: number;
  /** Held events released because the gap before them filled. */
  reordered: number;
  /** Held events released by the lateness sweep. */
  releasedOnTimeout: number;
  /** Held events released because the buffer was full. */
  releasedOnFull: number;
  /** Held events released by a flush (eviction, reset, close). */
  releasedOnFlush: number;
  /** Gaps given up (each a run of missing sequence numbers). */
  gapsSkipped: number;
  /** Sequence numbers given up, in sequence units (a book id run can be long). */
  seqsSkipped: number;
  /** Late events dropped. */
  lateDropped: number;
  /** Exact duplicates dropped. */
  duplicatesDropped: number;
  /** Sequence resets after a run of late events. */
  sequenceResets: number;
}

/** The ordering state of one stream (a snapshot). */
export interface StreamOrderingStats extends OrderingCounters {
  /** The stream. */
  provider: string;
  /** The stream. */
  symbol: string;
  /** The stream. */
  kind: string;
  /** How it is ordered. */
  mode: OrderingMode;
  /** Events held now (the ordering-buffer use gauge). */
  held: number;
  /** Most events held at once. */
  heldMax: number;
  /** Highest sequence released (0 before the first). */
  lastSeq: number;
}

/** Totals over every stream, evicted ones included (a snapshot). */
export interface OrderingTotals extends OrderingCounters {
  /** Streams tracked now. */
  streams: number;
  /** Streams evicted to stay within `streamsMax`. */
  streamsEvicted: number;
  /** Events of `none`-mode kinds, passed straight through. */
  passedThrough: number;
  /** Events held now, all streams together. */
  held: number;
  /** Most events one stream held at once. */
  heldMax: number;
}

const MODE_NONE = 0;
const MODE_CONTIGUOUS = 1;
const MODE_CHAINED = 2;
const MODE_INCREASING = 3;
const MODE_RECV_TS = 4;
const MODE_NAMES: readonly OrderingMode[] = [
  "none",
  "contiguous",
  "chained",
  "increasing",
  "recv_ts",
];

/** One stream's state: created once, then updated in place on every event. */
class StreamState implements OrderingCounters {
  /** Least-recently-used list: towards the most recently used stream. */
  newer: StreamState | null = null;
  /** Least-recently-used list: towards the least recently used stream. */
  older: StreamState | null = null;
  /** Whether a sequenced event was released since creation or reset (a baseline exists). */
  started = false;
  /** Highest sequence released. */
  lastSeq = 0;
  /** Latest `recvTsMs` released by the receive-time rule. */
  lastRecvTsMs = -Infinity;
  /** Start of the current run of late-only events, clock ms; NaN when there is none. */
  lateSinceMs = NaN;
  /** Held events, sorted by `seq` ascending, all above `lastSeq`; plain clones. */
  readonly held: CanonicalEventData[] = [];
  /** Clock time each held event arrived, parallel to `held`. */
  readonly heldArrivedMs: number[] = [];
  heldMax = 0;
  released = 0;
  reordered = 0;
  releasedOnTimeout = 0;
  releasedOnFull = 0;
  releasedOnFlush = 0;
  gapsSkipped = 0;
  seqsSkipped = 0;
  lateDropped = 0;
  duplicatesDropped = 0;
  sequenceResets = 0;

  constructor(
    readonly provider: string,
    readonly symbol: string,
    readonly kind: string,
    readonly mode: number,
    readonly recent: RecentSeqWindow,
  ) {}
}

const CAUSE_TIMEOUT = 0;
const CAUSE_FULL = 1;
const CAUSE_FLUSH = 2;
const CAUSE_IMMEDIATE = 3;
const CAUSE_NAMES: readonly GapCause[] = ["timeout", "full", "flush", "immediate"];

/**
 * Orders and de-duplicates the events of every stream, releasing them to one sink in order.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const out: number[] = [];
 * const buf = new StreamOrderingBuffer({ clock, release: (ev) => out.push(ev.seq) });
 * buf.offer(trade(1)); // out: [1]
 * buf.offer(trade(3)); // held: 2 is missing
 * buf.offer(trade(2)); // out: [1, 2, 3]
 * buf.offer(trade(5)); // held
 * clock.advance(200); // 4 given up: out: [1, 2, 3, 5]
 * buf.close();
 * ```
 */
export class StreamOrderingBuffer {
  /** Longest wait of a held event, in ms. */
  readonly latenessMs: number;
  /** Interval of the lateness sweep, in ms. */
  readonly flushIntervalMs: number;
  /** Events one stream may hold. */
  readonly bufferEventsMax: number;
  /** Streams tracked at once. */
  readonly streamsMax: number;
  /** Released sequence numbers remembered per stream. */
  readonly dedupWindowEvents: number;
  /** Late-only run after which a stream's sequence is reset, in ms. */
  readonly sequenceResetMs: number;
  /** Whether a stream's first event is held. */
  readonly holdStreamStart: boolean;

  readonly #clock: Clock;
  readonly #release: (ev: CanonicalEventLike) => void;
  readonly #onLate: ((info: LateEventInfo) => void) | null;
  readonly #onDuplicate: ((info: DuplicateEventInfo) => void) | null;
  readonly #onGap: ((info: GapInfo) => void) | null;
  readonly #onSequenceReset: ((info: SequenceResetInfo) => void) | null;
  /** Kind -> MODE_*. */
  readonly #modes = new Map<string, number>();
  /**
   * symbol -> the states of its streams (a few: providers x kinds). One map lookup and a short
   * scan comparing interned strings beat nested maps per event; no key string is built.
   */
  readonly #bySymbol = new Map<string, StreamState[]>();
  #streamCount = 0;
  #newest: StreamState | null = null;
  #oldest: StreamState | null = null;
  /** Streams holding at least one event: all the sweep has to look at. */
  readonly #active = new Set<StreamState>();
  #heldTotal = 0;
  #heldMaxAll = 0;
  /** False once closed or with `latenessMs` 0: nothing is held. */
  #holding: boolean;
  #closed = false;
  #timerArmed = false;
  #timerId = 0;
  /** Counters of streams no longer tracked (evicted or reset). */
  readonly #retired: OrderingCounters = zeroCounters();
  #streamsEvicted = 0;
  #passedThrough = 0;

  /** Creates an empty buffer; no timer runs until an event is held. */
  constructor(opts: StreamOrderingBufferOptions) {
    this.latenessMs = durationMs("latenessMs", opts.latenessMs, LATENESS_MS_DEFAULT, true);
    this.flushIntervalMs = durationMs(
      "flushIntervalMs",
      opts.flushIntervalMs,
      FLUSH_INTERVAL_MS_DEFAULT,
      false,
    );
    this.bufferEventsMax = positiveInteger(
      "bufferEventsMax",
      opts.bufferEventsMax,
      BUFFER_EVENTS_MAX_DEFAULT,
    );
    this.streamsMax = positiveInteger("streamsMax", opts.streamsMax, STREAMS_MAX_DEFAULT);
    this.dedupWindowEvents = positiveInteger(
      "dedupWindowEvents",
      opts.dedupWindowEvents,
      DEDUP_WINDOW_EVENTS_DEFAULT,
    );
    const resetMs = opts.sequenceResetMs ?? SEQUENCE_RESET_MS_DEFAULT;
    if (!(resetMs >= 0)) {
      throw new RangeError(`expected sequenceResetMs >= 0 (or Infinity), found ${resetMs}`);
    }
    this.sequenceResetMs = resetMs;
    this.holdStreamStart = opts.holdStreamStart ?? false;
    this.#clock = opts.clock ?? SYSTEM_CLOCK;
    this.#release = opts.release;
    this.#onLate = opts.onLate ?? null;
    this.#onDuplicate = opts.onDuplicate ?? null;
    this.#onGap = opts.onGap ?? null;
    this.#onSequenceReset = opts.onSequenceReset ?? null;
    this.#holding = this.latenessMs > 0;
    for (const kind of Object.keys(opts.modes ?? {})) {
      if (!isMarketEventKind(kind)) {
        throw new RangeError(`expected ordering modes keyed by market event kind, found "${kind}"`);
      }
    }
    for (const kind of MARKET_EVENT_KINDS) {
      const mode = opts.modes?.[kind] ?? ORDERING_MODES_DEFAULT[kind];
      const index = MODE_NAMES.indexOf(mode);
      if (index < 0) {
        throw new RangeError(
          `expected an ordering mode (${MODE_NAMES.join(", ")}) for "${kind}", found "${mode}"`,
        );
      }
      this.#modes.set(kind, index);
    }
  }

  /** True once {@linkcode StreamOrderingBuffer.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Takes one event: releases it (and anything it unblocks) to the sink now, holds a clone of
   * it, or drops it as late or duplicate. The caller keeps ownership of `ev` either way.
   */
  offer(ev: CanonicalEventLike): void {
    const s = this.#find(ev.provider, ev.symbol, ev.kind);
    if (s === null) return this.#offerToNewStream(ev);
    if (s.mode === MODE_RECV_TS || ev.seq === 0) return this.#offerByRecvTs(s, ev);
    // Fast path: the stream's next event with nothing held. No clock, no allocation.
    if (s.held.length === 0 && s.started && isNext(s, ev)) return this.#emit(s, ev);
    this.#offerSequenced(s, ev);
  }

  /**
   * Runs the lateness sweep now (the internal timer does this every `flushIntervalMs` while
   * anything is held; a caller driving time itself may call it too).
   */
  tick(): void {
    this.#sweep(this.#clock.nowMs());
  }

  /**
   * Forgets a stream, for a caller that knows its sequence restarted (a resubscription, a book
   * resync): held events are released in order first; the next event starts afresh. False when
   * the stream was not tracked.
   */
  resetStream(key: OrderingStreamKey): boolean {
    const s = this.#find(key.provider, key.symbol, key.kind);
    if (s === null) return false;
    this.#removeState(s);
    return true;
  }

  /**
   * Stops holding: every held event is released in order (gaps skipped), the timer is cleared,
   * and later offers are released at once when newer than what was released (gaps skipped
   * immediately), still never out of order. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#holding = false;
    if (this.#timerArmed) {
      this.#clock.clearTimeout(this.#timerId);
      this.#timerArmed = false;
    }
    for (const s of this.#active) this.#flushHeld(s);
    assert(this.#heldTotal === 0 && this.#active.size === 0, "held events survived close");
  }

  /** Events held now, all streams together. */
  get heldCount(): number {
    return this.#heldTotal;
  }

  /** Totals over every stream, evicted ones included. */
  totals(): OrderingTotals {
    const t: OrderingTotals = {
      ...this.#retired,
      streams: this.#streamCount,
      streamsEvicted: this.#streamsEvicted,
      passedThrough: this.#passedThrough,
      held: this.#heldTotal,
      heldMax: this.#heldMaxAll,
    };
    for (let s = this.#newest; s !== null; s = s.older) addCounters(t, s);
    return t;
  }

  /** One snapshot per tracked stream, most recently used first. */
  streamStats(): StreamOrderingStats[] {
    const out: StreamOrderingStats[] = [];
    for (let s = this.#newest; s !== null; s = s.older) {
      const stats: StreamOrderingStats = {
        provider: s.provider,
        symbol: s.symbol,
        kind: s.kind,
        mode: MODE_NAMES[s.mode],
        held: s.held.length,
        heldMax: s.heldMax,
        lastSeq: s.lastSeq,
        ...zeroCounters(),
      };
      addCounters(stats, s);
      out.push(stats);
    }
    return out;
  }

  #offerByRecvTs(s: StreamState, ev: CanonicalEventLike): void {
    if (ev.recvTsMs >= s.lastRecvTsMs) {
      s.lastRecvTsMs = ev.recvTsMs;
      s.released++;
      s.lateSinceMs = NaN;
      this.#release(ev);
      return;
    }
    if (this.#resetOnLateRun(s, ev)) return this.#offerByRecvTs(s, ev);
    this.#late(s, ev, "older_recv_ts", s.lastRecvTsMs);
  }

  /** The slow path of a sequenced event: late, duplicate, gap filler, first, or to hold. */
  #offerSequenced(s: StreamState, ev: CanonicalEventLike): void {
    const seq = ev.seq;
    // Validated events never get here with a bad seq; if one does, it must not reach the buffer
    // (a NaN would break its sort order), so it is ordered by receive time instead.
    if (!Number.isSafeInteger(seq) || seq < 1) return this.#offerByRecvTs(s, ev);
    if (s.started && seq <= s.lastSeq) {
      if (s.recent.has(seq)) return this.#duplicate(s, seq, "released");
      if (this.#resetOnLateRun(s, ev)) return this.#offerSequenced(s, ev);
      const reason = seq < s.recent.oldest() ? "below_window" : "overtaken";
      return this.#late(s, ev, reason, s.lastSeq);
    }
    const held = s.held;
    const at = lowerBound(held, seq);
    if (at < held.length && held[at].seq === seq) return this.#duplicate(s, seq, "held");
    if (s.started && isNext(s, ev)) {
      // The event the buffer was waiting for: release it, then what it unblocks.
      this.#emit(s, ev);
      this.#drain(s);
      return;
    }
    if (!this.#holding || s.mode === MODE_INCREASING || (!s.started && !this.holdStreamStart)) {
      // Not holding (off, closed, a mode that never holds, or a baseline-setting first event).
      // Nothing can be held then (close flushes), so releasing now keeps the order.
      assert(held.length === 0, "an event was released past held ones");
      if (s.started) this.#gap(s, ev, CAUSE_IMMEDIATE);
      this.#emit(s, ev);
      return;
    }
    this.#hold(s, ev, at);
  }

  /** Holds a clone of `ev` at index `at`, then enforces `bufferEventsMax`. */
  #hold(s: StreamState, ev: CanonicalEventLike, at: number): void {
    s.held.splice(at, 0, cloneCanonicalEventData(ev));
    s.heldArrivedMs.splice(at, 0, this.#clock.nowMs());
    this.#heldTotal++;
    if (s.held.length === 1) {
      this.#active.add(s);
      this.#arm();
    }
    while (s.held.length > this.bufferEventsMax) {
      this.#releaseHead(s, CAUSE_FULL);
      this.#drain(s);
    }
    if (s.held.length > s.heldMax) s.heldMax = s.held.length;
    if (s.heldMax > this.#heldMaxAll) this.#heldMaxAll = s.heldMax;
  }

  /** Releases one event in order and records it; the only place `lastSeq` advances. */
  #emit(s: StreamState, ev: CanonicalEventLike): void {
    s.lastSeq = ev.seq;
    s.started = true;
    s.recent.add(ev.seq);
    s.released++;
    s.lateSinceMs = NaN;
    this.#release(ev);
  }

  /** Releases the lowest held event, skipping the gap before it if there is one. */
  #releaseHead(s: StreamState, cause: number): void {
    const ev = s.held.shift();
    s.heldArrivedMs.shift();
    assert(ev !== undefined && ev.seq > s.lastSeq, "held event at or below the released mark");
    this.#heldTotal--;
    if (s.held.length === 0) this.#active.delete(s);
    if (cause === CAUSE_TIMEOUT) s.releasedOnTimeout++;
    else if (cause === CAUSE_FULL) s.releasedOnFull++;
    else s.releasedOnFlush++;
    if (s.started && !isNext(s, ev)) this.#gap(s, ev, cause);
    this.#emit(s, ev);
  }

  /** Releases every held event that is now next; drops any a chained range overtook. */
  #drain(s: StreamState): void {
    const held = s.held;
    while (held.length > 0) {
      const head = held[0];
      const overtaken = head.seq <= s.lastSeq;
      if (!overtaken && !isNext(s, head)) break;
      held.shift();
      s.heldArrivedMs.shift();
      this.#heldTotal--;
      if (overtaken) {
        // Only a chained range overlapping several held ones gets here.
        this.#late(s, head, "overtaken", s.lastSeq);
        continue;
      }
      s.reordered++;
      this.#emit(s, head);
    }
    if (held.length === 0) this.#active.delete(s);
  }

  #flushHeld(s: StreamState): void {
    while (s.held.length > 0) this.#releaseHead(s, CAUSE_FLUSH);
  }

  #sweep(nowMs: number): void {
    for (const s of this.#active) {
      // Highest held sequence that has waited long enough: everything missing below it is lost.
      const arrived = s.heldArrivedMs;
      let cut = -1;
      for (let i = arrived.length - 1; i >= 0; i--) {
        if (arrived[i] + this.latenessMs <= nowMs) {
          cut = i;
          break;
        }
      }
      for (let i = 0; i <= cut; i++) this.#releaseHead(s, CAUSE_TIMEOUT);
      if (cut >= 0) this.#drain(s);
    }
  }

  readonly #onTimer = (): void => {
    this.#timerArmed = false;
    try {
      this.#sweep(this.#clock.nowMs());
    } finally {
      if (this.#active.size > 0) this.#arm();
    }
  };

  #arm(): void {
    if (this.#timerArmed || this.#closed) return;
    this.#timerArmed = true;
    this.#timerId = this.#clock.setTimeout(this.#onTimer, this.flushIntervalMs);
  }

  /**
   * Sequence-restart safety net. True when the stream was reset (the caller then offers `ev`
   * again as the new sequence's first event); false when `ev` is simply late.
   */
  #resetOnLateRun(s: StreamState, ev: CanonicalEventLike): boolean {
    const nowMs = this.#clock.nowMs();
    if (Number.isNaN(s.lateSinceMs)) {
      s.lateSinceMs = nowMs;
      return false;
    }
    if (nowMs - s.lateSinceMs < this.sequenceResetMs) return false;
    const releasedUpTo = s.lastSeq;
    this.#flushHeld(s);
    s.started = false;
    s.lastSeq = 0;
    s.lastRecvTsMs = -Infinity;
    s.lateSinceMs = NaN;
    s.recent.clear();
    s.sequenceResets++;
    if (this.#onSequenceReset !== null) {
      notify(this.#onSequenceReset, {
        provider: s.provider,
        symbol: s.symbol,
        kind: s.kind,
        releasedUpTo,
        seq: ev.seq,
      });
    }
    return true;
  }

  #late(s: StreamState, ev: CanonicalEventLike, reason: LateReason, releasedUpTo: number): void {
    s.lateDropped++;
    if (this.#onLate === null) return;
    notify(this.#onLate, {
      provider: s.provider,
      symbol: s.symbol,
      kind: s.kind,
      reason,
      releasedUpTo,
      event: ev,
    });
  }

  #duplicate(s: StreamState, seq: number, original: "released" | "held"): void {
    s.duplicatesDropped++;
    if (this.#onDuplicate === null) return;
    notify(this.#onDuplicate, {
      provider: s.provider,
      symbol: s.symbol,
      kind: s.kind,
      seq,
      original,
    });
  }

  /** Records the gap between the released mark and `ev` (which is about to be released). */
  #gap(s: StreamState, ev: CanonicalEventLike, cause: number): void {
    const fromSeq = s.lastSeq + 1;
    const toSeq = (s.mode === MODE_CHAINED ? firstSeqOf(ev) : ev.seq) - 1;
    if (toSeq < fromSeq) return;
    s.gapsSkipped++;
    s.seqsSkipped += toSeq - fromSeq + 1;
    if (this.#onGap === null) return;
    notify(this.#onGap, {
      provider: s.provider,
      symbol: s.symbol,
      kind: s.kind,
      fromSeq,
      toSeq,
      cause: CAUSE_NAMES[cause],
    });
  }

  /** The state of a stream, made the most recently used; null when not tracked. */
  #find(provider: string, symbol: string, kind: string): StreamState | null {
    const states = this.#bySymbol.get(symbol);
    if (states === undefined) return null;
    for (let i = 0; i < states.length; i++) {
      const s = states[i];
      if (s.kind === kind && s.provider === provider) {
        if (s !== this.#newest) {
          this.#unlink(s);
          this.#linkNewest(s);
        }
        return s;
      }
    }
    return null;
  }

  /** First event of an untracked stream: pass it through, or track the stream and offer it. */
  #offerToNewStream(ev: CanonicalEventLike): void {
    const mode = this.#modes.get(ev.kind) ?? MODE_NONE;
    if (mode === MODE_NONE) {
      // Untracked on purpose: a pass-through kind needs no state.
      this.#passedThrough++;
      this.#release(ev);
      return;
    }
    const s = this.#createState(ev, mode);
    if (mode === MODE_RECV_TS || ev.seq === 0) return this.#offerByRecvTs(s, ev);
    this.#offerSequenced(s, ev);
  }

  /** Tracks a new stream, evicting the least recently used one when `streamsMax` is reached. */
  #createState(ev: CanonicalEventLike, mode: number): StreamState {
    if (this.#streamCount >= this.streamsMax && this.#oldest !== null) {
      this.#streamsEvicted++;
      this.#removeState(this.#oldest);
    }
    // Receive-time streams never consult the window: give them one slot, not a full ring.
    const window = new RecentSeqWindow(mode === MODE_RECV_TS ? 1 : this.dedupWindowEvents);
    const s = new StreamState(ev.provider, ev.symbol, ev.kind, mode, window);
    const states = this.#bySymbol.get(ev.symbol);
    if (states === undefined) this.#bySymbol.set(ev.symbol, [s]);
    else states.push(s);
    this.#streamCount++;
    this.#linkNewest(s);
    return s;
  }

  /** Flushes and forgets a stream, keeping its counters in the totals. */
  #removeState(s: StreamState): void {
    this.#flushHeld(s);
    this.#unlink(s);
    const states = this.#bySymbol.get(s.symbol);
    const at = states === undefined ? -1 : states.indexOf(s);
    assert(states !== undefined && at >= 0, "stream state missing from its symbol's list");
    states.splice(at, 1);
    if (states.length === 0) this.#bySymbol.delete(s.symbol);
    this.#streamCount--;
    addCounters(this.#retired, s);
  }

  #linkNewest(s: StreamState): void {
    s.newer = null;
    s.older = this.#newest;
    if (this.#newest !== null) this.#newest.newer = s;
    else this.#oldest = s;
    this.#newest = s;
  }

  #unlink(s: StreamState): void {
    if (s.newer !== null) s.newer.older = s.older;
    else this.#newest = s.older;
    if (s.older !== null) s.older.newer = s.newer;
    else this.#oldest = s.newer;
    s.newer = null;
    s.older = null;
  }
}

/** True when `ev` is the stream's next event (assumes a baseline exists). */
function isNext(s: StreamState, ev: CanonicalEventLike): boolean {
  const last = s.lastSeq;
  switch (s.mode) {
    case MODE_CONTIGUOUS:
      return ev.seq === last + 1;
    case MODE_CHAINED:
      return ev.seq > last && firstSeqOf(ev) <= last + 1;
    default:
      return ev.seq > last;
  }
}

/** First sequence a chained event covers; `seq` itself when `seqFirst` is absent or invalid. */
function firstSeqOf(ev: CanonicalEventLike): number {
  const first = ev.seqFirst;
  return first > 0 && first <= ev.seq ? first : ev.seq;
}

/** Index of the first held event with `seq >= target` (binary search; `held` is sorted). */
function lowerBound(held: readonly CanonicalEventData[], target: number): number {
  let lo = 0;
  let hi = held.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (held[mid].seq < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function zeroCounters(): OrderingCounters {
  return {
    released: 0,
    reordered: 0,
    releasedOnTimeout: 0,
    releasedOnFull: 0,
    releasedOnFlush: 0,
    gapsSkipped: 0,
    seqsSkipped: 0,
    lateDropped: 0,
    duplicatesDropped: 0,
    sequenceResets: 0,
  };
}

function addCounters(dst: OrderingCounters, src: OrderingCounters): void {
  dst.released += src.released;
  dst.reordered += src.reordered;
  dst.releasedOnTimeout += src.releasedOnTimeout;
  dst.releasedOnFull += src.releasedOnFull;
  dst.releasedOnFlush += src.releasedOnFlush;
  dst.gapsSkipped += src.gapsSkipped;
  dst.seqsSkipped += src.seqsSkipped;
  dst.lateDropped += src.lateDropped;
  dst.duplicatesDropped += src.duplicatesDropped;
  dst.sequenceResets += src.sequenceResets;
}

/** Calls a telemetry callback; one that throws must not break ordering (its counter is kept). */
function notify<I>(callback: (info: I) => void, info: I): void {
  try {
    callback(info);
  } catch {
    // Counted before the call; the reporter's failure is its own.
  }
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`expected an integer ${name} >= 1, found ${n}`);
  }
  return n;
}

/** A finite number of ms, at least 0 (`allowZero`) or above 0. */
function durationMs(
  name: string,
  value: number | undefined,
  fallback: number,
  allowZero: boolean,
): number {
  const n = value ?? fallback;
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    throw new RangeError(`expected a finite ${name} ${allowZero ? ">=" : ">"} 0, found ${n}`);
  }
  return n;
}

/** Invariant check: a failure is a bug here, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`stream ordering invariant violated: ${what}`);
}
