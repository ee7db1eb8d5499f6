/**
 * MergeWindow: the windowed merge of one merged subscription (MISSION R-06), a
 * {@linkcode MergeStage} the conductor feeds.
 *
 * A window opens on the first fragment, collects plain clones of the fragments of its symbol and
 * kind from the expected providers, and closes by time (`windowMs` after it opened) or by count
 * (`maxEvents` fragments), whichever comes first. At close, a window where every expected
 * provider contributed at least one fragment becomes one pooled {@linkcode MergedEvent} handed to
 * `emit` (ownership passes; the dispatcher releases it). A partial window is suppressed: nothing
 * is emitted and `onSuppressed` names the missing providers. The next fragment after a close
 * opens a new window.
 *
 * Late fragments: the end of a closed window's span is its `windowCloseMs` (for a time close the
 * deadline `windowOpenMs + windowMs`, for a count close the moment the last fragment arrived). A
 * fragment is late when its gateway receive time `recvTsMs` is before the `windowCloseMs` of the
 * most recently closed window: it was received while that window (or an older one) was still
 * open, but reached the stage only after the close. It is dropped and `onLateDrop` names the most
 * recently closed window. A fragment received between the last close and the current window's
 * open is not late (no window was open then; it would have opened the current one) and joins the
 * current window. A fragment without a receive time (`recvTsMs` 0) is never late. The receive
 * time is the gateway's own clock, not the exchange's, so exchange clock skew cannot make
 * fragments late.
 *
 * Time: the window deadline runs on the injected monotonic {@linkcode Clock}. An overdue window
 * is closed by whichever comes first: the stage's own timer (one at most, armed while a window
 * is open), an explicit {@linkcode MergeWindow.tick}, or the next `observe` (which closes the
 * overdue window before the fragment opens a new one, so a late-firing timer cannot stretch a
 * window). Timestamps in the merged event are epoch ms: clock time + `epochOffsetMs`.
 *
 * Memory: a window holds at most `maxEvents` fragment clones; the pooled merged event is acquired
 * only at close, so an open window pins no pool capacity. When the pool is exhausted the window
 * is counted and reported (`onPoolExhausted`) and dropped; the stage never blocks.
 *
 * @module
 */

import { type Clock, SYSTEM_CLOCK } from "../pool/clock.ts";
import {
  type CanonicalEvent,
  type CanonicalEventData,
  type CanonicalEventLike,
  cloneCanonicalEventData,
} from "../schema/canonical_event.ts";
import type { MarketEventKind } from "../schema/event_kind.ts";
import { MERGE_ID_LENGTH_MAX, type MergedEvent } from "../schema/merged_event.ts";
import type { MergeStage } from "./merge_stage.ts";

/** Default window length, in ms (R-06: 10 s). */
export const MERGE_WINDOW_MS_DEFAULT = 10_000;
/** Longest window accepted, in ms (one hour). */
export const MERGE_WINDOW_MS_MAX = 3_600_000;
/** Default bound on fragments per window, in events (R-06: 1000). */
export const MERGE_WINDOW_EVENTS_MAX_DEFAULT = 1000;
/** Largest `maxEvents` accepted, in events per window. */
export const MERGE_WINDOW_EVENTS_MAX_LIMIT = 100_000;
/** Most expected providers of one merged subscription. */
export const MERGE_PROVIDERS_MAX = 16;

/** Characters of the largest window sequence number in base 36 (2^53 - 1). */
const SEQ_CHARS_MAX = Number.MAX_SAFE_INTEGER.toString(36).length;

/** What a partial window does at close. Only suppression is specified. */
export type MergePartialPolicy = "suppress";

/** One merged subscription: which market to merge across which providers, and the bounds. */
export interface MergeWindowSpec {
  /** Stage id for the conductor; default `merge:<symbol>:<kind>:<stage number>`. */
  id?: string;
  /** Canonical symbol (BASE-QUOTE). */
  symbol: string;
  /** Market-data kind. */
  kind: MarketEventKind;
  /** Expected providers, 1..16, distinct; every one must contribute for an emit. */
  providers: readonly string[];
  /** Window length in ms, from the first fragment. Default 10 000. */
  windowMs?: number;
  /** Fragments per window; the window closes when it holds this many. Default 1000. */
  maxEvents?: number;
  /** What a partial window does. Default (and only) "suppress". */
  partialPolicy?: MergePartialPolicy;
}

/** Where the stage acquires merged events: `BoundedPool<MergedEvent>` fits. */
export interface MergedEventSource {
  /** A reset merged event, or null when the pool is exhausted (never blocks). */
  tryAcquire(): MergedEvent | null;
}

/** A fragment dropped as late (the fields of the `merge.late_drop` telemetry event). */
export interface MergeLateDrop {
  /** Canonical symbol of the merged subscription. */
  symbol: string;
  /** Market-data kind of the merged subscription. */
  kind: string;
  /** Provider of the dropped fragment. */
  provider: string;
  /** The most recently closed window, which the fragment was received during (or before). */
  merge_id: string;
}

/** A partial window suppressed (the fields of the `merge.suppressed_partial` telemetry event). */
export interface MergeSuppressed {
  /** Canonical symbol of the merged subscription. */
  symbol: string;
  /** Market-data kind of the merged subscription. */
  kind: string;
  /** Expected providers with no fragment in the window, in subscription order. */
  missing_providers: readonly string[];
  /** The suppressed window's merge id (never emitted). */
  merge_id: string;
}

/** A complete window lost because the merged-event pool was exhausted at close. */
export interface MergePoolExhausted {
  /** Canonical symbol of the merged subscription. */
  symbol: string;
  /** Market-data kind of the merged subscription. */
  kind: string;
  /** The lost window's merge id (never emitted). */
  merge_id: string;
  /** Fragments the lost window held. */
  fragments: number;
}

/** Options of {@linkcode MergeWindow}. Callbacks must not throw. */
export interface MergeWindowOptions {
  /** The merged-event pool. */
  pool: MergedEventSource;
  /** Receives each complete window's merged event and takes ownership (releases it once). */
  emit: (merged: MergedEvent) => void;
  /** The routing-table version to stamp on each emitted event. */
  routingVersion: () => number;
  /** Told about each suppressed partial window. */
  onSuppressed?: (info: MergeSuppressed) => void;
  /** Told about each late fragment dropped. */
  onLateDrop?: (info: MergeLateDrop) => void;
  /** Told about each complete window lost to an exhausted pool. */
  onPoolExhausted?: (info: MergePoolExhausted) => void;
  /** Monotonic time and the window timer. Default: the system clock. */
  clock?: Clock;
  /** Arm one clock timer per open window to close it on time. Default true; false: tick only. */
  timer?: boolean;
  /**
   * Epoch ms minus clock ms, to turn clock time into the epoch timestamps `recvTsMs` uses.
   * Default: measured once at construction (`Date.now() - clock.nowMs()`).
   */
  epochOffsetMs?: number;
  /** Process prefix of merge ids (printable ASCII, no `:`). Default: random per process. */
  mergeIdPrefix?: string;
}

/** A snapshot of one stage's counters. */
export interface MergeWindowStats {
  /** Windows opened. */
  windowsOpened: number;
  /** Windows closed by time. */
  closedByTime: number;
  /** Windows closed by count. */
  closedByCount: number;
  /** Merged events handed to `emit`. */
  emitted: number;
  /** Partial windows suppressed. */
  suppressed: number;
  /** Late fragments dropped. */
  lateDrops: number;
  /** Complete windows lost because the pool was exhausted. */
  poolExhausted: number;
  /** Fragments accepted into windows. */
  fragments: number;
  /** Events ignored: wrong symbol, kind or provider, or observed after `close()`. */
  ignored: number;
  /** Exceptions thrown by callbacks on the timer path (caught there, nowhere else). */
  callbackErrors: number;
  /** Fragments currently held by the open window. */
  openFragments: number;
}

const PROCESS_PREFIX = randomPrefix();
let stagesCreated = 0;

function randomPrefix(): string {
  const bytes = new Uint8Array(4);
  crypto.getRandomValues(bytes);
  return new DataView(bytes.buffer).getUint32(0).toString(36);
}

/**
 * The windowed merge of one merged subscription.
 *
 * @example
 * ```ts
 * const stage = new MergeWindow(
 *   { symbol: "BTC-USDT", kind: "trade", providers: ["binance", "kraken"] },
 *   {
 *     pool: pools.mergedEvent,
 *     emit: (merged) => dispatcher.dispatchMerged(merged),
 *     routingVersion: () => routing.version,
 *     onSuppressed: (info) => telemetry.emit({ type: "merge.suppressed_partial", ...info }),
 *   },
 * );
 * conductor.addMergeStage(stage);
 * // ... on unsubscribe:
 * conductor.removeMergeStage(stage.id);
 * stage.close();
 * ```
 */
export class MergeWindow implements MergeStage {
  /** Stage id (unique per conductor). */
  readonly id: string;
  /** Canonical symbol merged. */
  readonly symbol: string;
  /** Market-data kind merged. */
  readonly kind: MarketEventKind;
  /** Expected providers, in subscription order. */
  readonly providers: readonly string[];
  /** Window length, in ms. */
  readonly windowMs: number;
  /** Fragments per window, in events. */
  readonly maxEvents: number;
  /** What a partial window does. */
  readonly partialPolicy: MergePartialPolicy;

  readonly #pool: MergedEventSource;
  readonly #emit: (merged: MergedEvent) => void;
  readonly #routingVersion: () => number;
  readonly #onSuppressed: ((info: MergeSuppressed) => void) | null;
  readonly #onLateDrop: ((info: MergeLateDrop) => void) | null;
  readonly #onPoolExhausted: ((info: MergePoolExhausted) => void) | null;
  readonly #clock: Clock;
  readonly #useTimer: boolean;
  readonly #epochOffsetMs: number;
  /** Merge id up to the window sequence number. */
  readonly #idStem: string;
  readonly #onTimer = (): void => this.#timerFired();

  /** Fragment clones of the open window, in arrival order (length 0: no window open). */
  #fragments: CanonicalEventData[] = [];
  /** Fragments per expected provider in the open window (index = `providers` index). */
  readonly #contributed: Uint32Array;
  #open = false;
  /** Clock time the open window opened, ms. */
  #openClockMs = 0;
  /** Sequence number of the open window, or of the next one. */
  #windowSeq = 0;
  #timerId = -1;
  /** Epoch ms end of the most recently closed window; -Infinity before the first close. */
  #lastCloseEpochMs = Number.NEGATIVE_INFINITY;
  #lastMergeId = "";
  #closed = false;

  #windowsOpened = 0;
  #closedByTime = 0;
  #closedByCount = 0;
  #emitted = 0;
  #suppressed = 0;
  #lateDrops = 0;
  #poolExhausted = 0;
  #accepted = 0;
  #ignored = 0;
  #callbackErrors = 0;

  /** Validates the spec; throws a RangeError saying what was expected and found. */
  constructor(spec: MergeWindowSpec, opts: MergeWindowOptions) {
    const providers = spec.providers;
    if (providers.length < 1 || providers.length > MERGE_PROVIDERS_MAX) {
      throw new RangeError(
        `expected 1..${MERGE_PROVIDERS_MAX} providers, found ${providers.length}`,
      );
    }
    for (let i = 0; i < providers.length; i++) {
      if (providers.indexOf(providers[i]) !== i) {
        throw new RangeError(`expected distinct providers, found "${providers[i]}" twice`);
      }
    }
    const windowMs = spec.windowMs ?? MERGE_WINDOW_MS_DEFAULT;
    if (!Number.isFinite(windowMs) || windowMs <= 0 || windowMs > MERGE_WINDOW_MS_MAX) {
      throw new RangeError(
        `expected windowMs in (0, ${MERGE_WINDOW_MS_MAX}] ms, found ${windowMs}`,
      );
    }
    const maxEvents = spec.maxEvents ?? MERGE_WINDOW_EVENTS_MAX_DEFAULT;
    if (
      !Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > MERGE_WINDOW_EVENTS_MAX_LIMIT
    ) {
      throw new RangeError(
        `expected an integer maxEvents in 1..${MERGE_WINDOW_EVENTS_MAX_LIMIT}, found ${maxEvents}`,
      );
    }
    const partialPolicy = spec.partialPolicy ?? "suppress";
    if (partialPolicy !== "suppress") {
      throw new RangeError(`expected partialPolicy "suppress", found "${partialPolicy}"`);
    }
    const prefix = opts.mergeIdPrefix ?? PROCESS_PREFIX;
    if (!/^[\x21-\x39\x3b-\x7e]{1,16}$/.test(prefix)) {
      throw new RangeError(
        `expected a mergeIdPrefix of 1..16 printable characters without ":", found "${prefix}"`,
      );
    }
    const stageNo = ++stagesCreated;
    this.id = spec.id ?? `merge:${spec.symbol}:${spec.kind}:${stageNo}`;
    this.symbol = spec.symbol;
    this.kind = spec.kind;
    this.providers = Object.freeze(providers.slice());
    this.windowMs = windowMs;
    this.maxEvents = maxEvents;
    this.partialPolicy = partialPolicy;
    this.#pool = opts.pool;
    this.#emit = opts.emit;
    this.#routingVersion = opts.routingVersion;
    this.#onSuppressed = opts.onSuppressed ?? null;
    this.#onLateDrop = opts.onLateDrop ?? null;
    this.#onPoolExhausted = opts.onPoolExhausted ?? null;
    this.#clock = opts.clock ?? SYSTEM_CLOCK;
    this.#useTimer = opts.timer ?? true;
    this.#epochOffsetMs = opts.epochOffsetMs ?? Date.now() - this.#clock.nowMs();
    this.#contributed = new Uint32Array(providers.length);
    // The stage number makes ids unique across overlapping subscriptions of one market; the
    // symbol and kind are there for people reading logs, and are left out when they would push
    // the id past the 64-character limit of the wire format.
    const stem = `${prefix}.${stageNo.toString(36)}`;
    const readable = `${stem}:${spec.symbol}:${spec.kind}:`;
    this.#idStem = readable.length + SEQ_CHARS_MAX <= MERGE_ID_LENGTH_MAX ? readable : `${stem}:`;
  }

  /**
   * Copies `ev` into the open window (opening one if none is), or drops it as late. Events of
   * another symbol, kind or provider are ignored. Never keeps or releases `ev`.
   */
  observe(ev: CanonicalEvent): void {
    this.observeData(ev);
  }

  /** As {@linkcode MergeWindow.observe}, for any canonical event data (pooled or plain). */
  observeData(ev: CanonicalEventLike): void {
    const providerIndex = this.providers.indexOf(ev.provider);
    if (this.#closed || providerIndex < 0 || ev.symbol !== this.symbol || ev.kind !== this.kind) {
      this.#ignored++;
      return;
    }
    const nowMs = this.#clock.nowMs();
    // An overdue window closes first, so the fragment opens a new one (timer lag cannot stretch
    // a window past windowMs).
    if (this.#open && nowMs - this.#openClockMs >= this.windowMs) this.#closeWindow("time");
    if (ev.recvTsMs > 0 && ev.recvTsMs < this.#lastCloseEpochMs) {
      this.#lateDrops++;
      this.#onLateDrop?.({
        symbol: this.symbol,
        kind: this.kind,
        provider: ev.provider,
        merge_id: this.#lastMergeId,
      });
      return;
    }
    if (!this.#open) this.#openWindow(nowMs);
    this.#fragments.push(cloneCanonicalEventData(ev));
    this.#contributed[providerIndex]++;
    this.#accepted++;
    if (this.#fragments.length >= this.maxEvents) this.#closeWindow("count");
  }

  /**
   * Closes the open window by time when `windowMs` has elapsed at `nowMs` (clock ms; default the
   * clock's now). True when a window closed.
   */
  tick(nowMs: number = this.#clock.nowMs()): boolean {
    if (!this.#open || nowMs - this.#openClockMs < this.windowMs) return false;
    this.#closeWindow("time");
    return true;
  }

  /** True while a window is open. */
  isOpen(): boolean {
    return this.#open;
  }

  /** Merge id of the open window, or of the next one to open. */
  currentMergeId(): string {
    return this.#idStem + this.#windowSeq.toString(36);
  }

  /**
   * Stops the stage: clears its timer and discards the open window without emitting (its
   * fragment clones become garbage). Later events are ignored. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    this.#resetWindow();
  }

  /** A snapshot of the counters. */
  stats(): MergeWindowStats {
    return {
      windowsOpened: this.#windowsOpened,
      closedByTime: this.#closedByTime,
      closedByCount: this.#closedByCount,
      emitted: this.#emitted,
      suppressed: this.#suppressed,
      lateDrops: this.#lateDrops,
      poolExhausted: this.#poolExhausted,
      fragments: this.#accepted,
      ignored: this.#ignored,
      callbackErrors: this.#callbackErrors,
      openFragments: this.#fragments.length,
    };
  }

  #openWindow(nowMs: number): void {
    this.#open = true;
    this.#openClockMs = nowMs;
    this.#windowsOpened++;
    if (this.#useTimer) this.#timerId = this.#clock.setTimeout(this.#onTimer, this.windowMs);
  }

  #timerFired(): void {
    this.#timerId = -1;
    if (!this.#open) return;
    const remainingMs = this.windowMs - (this.#clock.nowMs() - this.#openClockMs);
    if (remainingMs > 0) {
      // A timer that fired early (coarse system timers): wait for the rest.
      this.#timerId = this.#clock.setTimeout(this.#onTimer, remainingMs);
      return;
    }
    // Nothing above this frame would catch a callback's exception: count it instead.
    try {
      this.#closeWindow("time");
    } catch {
      this.#callbackErrors++;
    }
  }

  #closeWindow(reason: "time" | "count"): void {
    // Everything about the window is taken out and the stage reset before any callback runs, so
    // a callback that feeds the stage again sees a consistent state.
    const fragments = this.#fragments;
    const openEpochMs = this.#openClockMs + this.#epochOffsetMs;
    const closeEpochMs = reason === "time"
      ? openEpochMs + this.windowMs
      : this.#clock.nowMs() + this.#epochOffsetMs;
    const mergeId = this.currentMergeId();
    const missing: string[] = [];
    for (let i = 0; i < this.providers.length; i++) {
      if (this.#contributed[i] === 0) missing.push(this.providers[i]);
    }
    if (reason === "time") this.#closedByTime++;
    else this.#closedByCount++;
    this.#clearTimer();
    this.#resetWindow();
    this.#windowSeq++;
    this.#lastCloseEpochMs = closeEpochMs;
    this.#lastMergeId = mergeId;
    if (missing.length !== 0) {
      this.#suppressed++;
      this.#onSuppressed?.({
        symbol: this.symbol,
        kind: this.kind,
        missing_providers: missing,
        merge_id: mergeId,
      });
      return;
    }
    const merged = this.#pool.tryAcquire();
    if (merged === null) {
      this.#poolExhausted++;
      this.#onPoolExhausted?.({
        symbol: this.symbol,
        kind: this.kind,
        merge_id: mergeId,
        fragments: fragments.length,
      });
      return;
    }
    merged.mergeId = mergeId;
    merged.routingVersion = this.#routingVersion();
    merged.kind = this.kind;
    merged.symbol = this.symbol;
    for (let i = 0; i < this.providers.length; i++) merged.providers.push(this.providers[i]);
    merged.missing.length = 0;
    merged.windowOpenMs = openEpochMs;
    merged.windowCloseMs = closeEpochMs;
    merged.closeReason = reason;
    // The clones move over as they are (this stage made them and drops its array), so no second
    // copy; addFragment would clone each again.
    for (let i = 0; i < fragments.length; i++) merged.fragments.push(fragments[i]);
    this.#emitted++;
    this.#emit(merged);
  }

  #resetWindow(): void {
    this.#open = false;
    this.#fragments = [];
    this.#contributed.fill(0);
  }

  #clearTimer(): void {
    if (this.#timerId === -1) return;
    this.#clock.clearTimeout(this.#timerId);
    this.#timerId = -1;
  }
}
