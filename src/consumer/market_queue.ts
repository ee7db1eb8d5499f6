/**
 * MarketQueue: one consumer's queue of market data, with the delivery classes of
 * `delivery_class.ts`. One FIFO holds three kinds of slot, so arrival order across streams is
 * kept:
 *
 * - a lossless event (trade, book update): the dispatcher's clone itself;
 * - a coalesced entry (ticker, kline bar, book snapshot): a holder whose `event` is replaced in
 *   place by each newer event of the same stream (and, for klines, the same bar). The entry
 *   keeps its queue position: replacing is O(1), the stream is not pushed behind streams that
 *   arrived later (a hot ticker cannot be starved by moving back forever), and per-stream order
 *   (MISSION R-08: there is no global order) holds because the entry is always the newest;
 * - a gap marker ({@linkcode GapMessage}).
 *
 * Bounds and what happens at each:
 *
 * - `losslessEventsMax` lossless events queued. An event that finds the bound reached opens a
 *   pending gap for its stream; from then on every event of that stream is counted into the
 *   gap (first/last provider sequence, count) instead of queued, so the stream has exactly one
 *   hole rather than a scatter of them. Once the reader has brought the lossless events down to
 *   `losslessResumeEvents` (default half the bound: hysteresis, so that an overloaded book
 *   stream does not cost its client a snapshot request per freed slot), every pending gap is
 *   closed: its marker is queued, after everything already queued and before the stream's
 *   next event. Other lossless streams keep queueing up to the bound meanwhile.
 * - `coalescedEventsMax` coalesced entries queued. An event of a coalescable stream with no
 *   entry queued and no room is dropped (counted, `dropped` hook): no other stream's entry is
 *   ever evicted.
 * - `gapStreamsMax` pending gaps. A stream that would need one more is dropped with reason
 *   `gap_untracked` (counted and reported, never silent); the default is large enough for
 *   every stream a consumer can subscribe to.
 *
 * Markers are free (they do not count against the bounds): each flush queues at most
 * `gapStreamsMax` of them, and with the resume mark at most half the bound a flush's markers
 * are out of the queue before the flush after next, so the slots stay bounded by
 * `losslessEventsMax + coalescedEventsMax + 2 * gapStreamsMax`.
 *
 * @module
 */

import type { CanonicalEventData } from "../schema/canonical_event.ts";
import type { MarketEventKind } from "../schema/event_kind.ts";
import type { GapMessage } from "../schema/wire_control.ts";
import type { MarketMessage } from "./consumer_message.ts";
import type { DeliveryClasses } from "./delivery_class.ts";
import { StreamCounters } from "./stream_counters.ts";
import { StreamMap } from "./stream_map.ts";
import { TaggedRing } from "./tagged_ring.ts";

/** Why an event was not queued. */
export type DropReason = "gap" | "coalesced_overflow" | "gap_untracked";

/** What {@linkcode MarketQueue.offer} did with an event. */
export type OfferOutcome = "queued" | "coalesced" | "gap" | "dropped";

/** Told about each event the queue lets go of; called synchronously, must not throw. */
export interface MarketQueueListener {
  /** `replaced` was superseded by a newer event of its stream (still queued). */
  coalesced(replaced: CanonicalEventData): void;
  /** `ev` will never be delivered. */
  dropped(ev: CanonicalEventData, reason: DropReason): void;
  /** A gap was closed and its marker queued. */
  gap(marker: GapMessage): void;
}

/** Options of {@linkcode MarketQueue}. */
export interface MarketQueueOptions {
  /** Which kinds coalesce. */
  classes: DeliveryClasses;
  /** Most lossless events queued (>= 1). */
  losslessEventsMax: number;
  /** Pending gaps close once lossless events queued are at most this (0..max/2). */
  losslessResumeEvents?: number;
  /** Most coalesced entries queued (>= 1). */
  coalescedEventsMax: number;
  /** Most streams with a pending gap at once (>= 1). */
  gapStreamsMax: number;
  /** Told about coalesced, dropped and gap events. */
  listener: MarketQueueListener;
}

/** A queued latest-wins entry. */
interface CoalescedSlot {
  event: CanonicalEventData;
  /** Kline bar key (`interval|openTimeMs`), "" for other kinds. */
  readonly bar: string;
}

type Slot = CanonicalEventData | CoalescedSlot | GapMessage;

const TAG_LOSSLESS = 0;
const TAG_COALESCED = 1;
const TAG_GAP = 2;

/** A consumer's market-data queue (see the module doc). */
export class MarketQueue {
  /** Most lossless events queued. */
  readonly losslessEventsMax: number;
  /** Resume mark for pending gaps. */
  readonly losslessResumeEvents: number;
  /** Most coalesced entries queued. */
  readonly coalescedEventsMax: number;
  /** Most pending gaps. */
  readonly gapStreamsMax: number;
  readonly #classes: DeliveryClasses;
  readonly #listener: MarketQueueListener;
  readonly #ring: TaggedRing<Slot>;
  /** Latest-wins entries of non-kline streams. */
  readonly #latest = new StreamMap<CoalescedSlot>();
  /** Latest-wins entries of kline streams, by bar. */
  readonly #bars = new StreamMap<Map<string, CoalescedSlot>>();
  readonly #gaps = new StreamMap<GapMessage>();
  #losslessQueued = 0;
  #coalescedQueued = 0;
  #markersQueued = 0;
  #gapEventsPending = 0;
  #gapMarkers = 0;
  readonly #coalesced = new StreamCounters();
  readonly #dropped = new StreamCounters();

  /** Creates an empty queue; throws on out-of-range bounds. */
  constructor(opts: MarketQueueOptions) {
    this.losslessEventsMax = integerInRange("losslessEventsMax", opts.losslessEventsMax, 1);
    const half = Math.floor(this.losslessEventsMax / 2);
    this.losslessResumeEvents = integerInRange(
      "losslessResumeEvents",
      opts.losslessResumeEvents ?? half,
      0,
      half,
    );
    this.coalescedEventsMax = integerInRange("coalescedEventsMax", opts.coalescedEventsMax, 1);
    this.gapStreamsMax = integerInRange("gapStreamsMax", opts.gapStreamsMax, 1);
    this.#classes = opts.classes;
    this.#listener = opts.listener;
    this.#ring = new TaggedRing(
      this.losslessEventsMax + this.coalescedEventsMax + 2 * this.gapStreamsMax,
    );
  }

  /** Slots queued: events, coalesced entries and gap markers. */
  get length(): number {
    return this.#ring.length;
  }

  /** Lossless events queued. */
  get losslessQueued(): number {
    return this.#losslessQueued;
  }

  /** Coalesced entries queued. */
  get coalescedQueued(): number {
    return this.#coalescedQueued;
  }

  /** Gap markers queued. */
  get markersQueued(): number {
    return this.#markersQueued;
  }

  /** Streams with a pending (not yet closed) gap. */
  get gapsPending(): number {
    return this.#gaps.size;
  }

  /** Events counted into pending gaps. */
  get gapEventsPending(): number {
    return this.#gapEventsPending;
  }

  /** Gap markers queued so far. */
  get gapMarkers(): number {
    return this.#gapMarkers;
  }

  /** Events superseded by a newer one of their stream, per stream. */
  get coalesced(): StreamCounters {
    return this.#coalesced;
  }

  /** Events that will never be delivered (gaps, overflow), per stream. */
  get dropped(): StreamCounters {
    return this.#dropped;
  }

  /** Queues, coalesces, or counts `ev` into a gap or as dropped; never evicts another stream. */
  offer(ev: CanonicalEventData): OfferOutcome {
    return this.#classes.isCoalescable(ev.kind)
      ? this.#offerCoalescable(ev)
      : this.#offerLossless(ev);
  }

  /** The next message, not removed. */
  peek(): MarketMessage | GapMessage | undefined {
    const tag = this.#ring.peekTag();
    if (tag === -1) return undefined;
    const slot = this.#ring.peek()!;
    return tag === TAG_COALESCED ? (slot as CoalescedSlot).event : slot as MarketMessage;
  }

  /** Removes and returns the next message. */
  shift(): MarketMessage | GapMessage | undefined {
    const tag = this.#ring.peekTag();
    if (tag === -1) return undefined;
    const slot = this.#ring.shift()!;
    switch (tag) {
      case TAG_LOSSLESS:
        this.#losslessQueued--;
        if (this.#gaps.size > 0 && this.#losslessQueued <= this.losslessResumeEvents) {
          this.#closeGaps();
        }
        return slot as MarketMessage;
      case TAG_COALESCED:
        return this.#unindex(slot as CoalescedSlot);
      default:
        assert(tag === TAG_GAP, `a known slot tag, found ${tag}`);
        this.#markersQueued--;
        return slot as GapMessage;
    }
  }

  /** Discards everything queued and every pending gap; returns the events discarded. */
  clear(): number {
    const events = this.#losslessQueued + this.#coalescedQueued;
    this.#ring.clear();
    this.#latest.clear();
    this.#bars.clear();
    this.#gaps.clear();
    this.#losslessQueued = 0;
    this.#coalescedQueued = 0;
    this.#markersQueued = 0;
    this.#gapEventsPending = 0;
    return events;
  }

  #offerLossless(ev: CanonicalEventData): OfferOutcome {
    const gap = this.#gaps.get(ev.provider, ev.symbol, ev.kind);
    if (gap !== undefined) {
      extendGap(gap, ev);
      return this.#drop(ev, "gap");
    }
    if (this.#losslessQueued >= this.losslessEventsMax) {
      if (this.#gaps.size >= this.gapStreamsMax) return this.#drop(ev, "gap_untracked");
      this.#gaps.set(ev.provider, ev.symbol, ev.kind, openGap(ev));
      return this.#drop(ev, "gap");
    }
    this.#push(ev, TAG_LOSSLESS);
    this.#losslessQueued++;
    return "queued";
  }

  #offerCoalescable(ev: CanonicalEventData): OfferOutcome {
    const isBar = ev.kind === "kline";
    const bar = isBar ? `${ev.interval}|${ev.openTimeMs}` : "";
    const bars = isBar ? this.#bars.get(ev.provider, ev.symbol, ev.kind) : undefined;
    const slot = isBar ? bars?.get(bar) : this.#latest.get(ev.provider, ev.symbol, ev.kind);
    if (slot !== undefined) {
      const replaced = slot.event;
      slot.event = ev;
      this.#coalesced.increment(ev.provider, ev.symbol, ev.kind);
      this.#listener.coalesced(replaced);
      return "coalesced";
    }
    if (this.#coalescedQueued >= this.coalescedEventsMax) {
      return this.#drop(ev, "coalesced_overflow");
    }
    const fresh: CoalescedSlot = { event: ev, bar };
    if (!isBar) {
      this.#latest.set(ev.provider, ev.symbol, ev.kind, fresh);
    } else if (bars !== undefined) {
      bars.set(bar, fresh);
    } else {
      this.#bars.set(ev.provider, ev.symbol, ev.kind, new Map([[bar, fresh]]));
    }
    this.#push(fresh, TAG_COALESCED);
    this.#coalescedQueued++;
    return "queued";
  }

  #unindex(slot: CoalescedSlot): CanonicalEventData {
    const ev = slot.event;
    if (slot.bar === "") {
      const removed = this.#latest.delete(ev.provider, ev.symbol, ev.kind);
      assert(removed, "a queued coalesced entry is indexed");
    } else {
      const bars = this.#bars.get(ev.provider, ev.symbol, ev.kind);
      assert(bars !== undefined && bars.delete(slot.bar), "a queued kline bar is indexed");
      if (bars.size === 0) this.#bars.delete(ev.provider, ev.symbol, ev.kind);
    }
    this.#coalescedQueued--;
    return ev;
  }

  #closeGaps(): void {
    for (const gap of this.#gaps.values()) {
      this.#push(gap, TAG_GAP);
      this.#markersQueued++;
      this.#gapMarkers++;
      this.#gapEventsPending -= gap.count;
      this.#listener.gap(gap);
    }
    this.#gaps.clear();
    assert(this.#gapEventsPending === 0, "every pending gap event was closed into a marker");
  }

  #drop(ev: CanonicalEventData, reason: DropReason): OfferOutcome {
    this.#dropped.increment(ev.provider, ev.symbol, ev.kind);
    if (reason === "gap") this.#gapEventsPending++;
    this.#listener.dropped(ev, reason);
    return reason === "gap" ? "gap" : "dropped";
  }

  #push(slot: Slot, tag: number): void {
    // The ring's capacity covers every bound (see the module doc): a refusal is a bug.
    assert(this.#ring.push(slot, tag), "the ring has room within the queue's bounds");
  }
}

/** A new pending gap holding `ev`. */
function openGap(ev: CanonicalEventData): GapMessage {
  assert(ev.kind !== "", "a queued event has a kind");
  const first = firstSeqOf(ev);
  return {
    type: "gap",
    provider: ev.provider,
    symbol: ev.symbol,
    kind: ev.kind as MarketEventKind,
    fromSeq: first,
    toSeq: Math.max(first, ev.seq),
    count: 1,
  };
}

/** Widens a pending gap by `ev` (sequences may arrive out of order: keep the range). */
function extendGap(gap: GapMessage, ev: CanonicalEventData): void {
  const first = firstSeqOf(ev);
  if (first < gap.fromSeq) gap.fromSeq = first;
  if (ev.seq > gap.toSeq) gap.toSeq = ev.seq;
  gap.count++;
}

/** First provider sequence an event covers (book diffs cover `seqFirst..seq`). */
function firstSeqOf(ev: CanonicalEventData): number {
  return ev.seqFirst > 0 && ev.seqFirst < ev.seq ? ev.seqFirst : ev.seq;
}

function integerInRange(name: string, value: number, min: number, max = Infinity): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in ${min}..${max}`;
    throw new RangeError(`expected an integer ${name} ${range}, found ${value}`);
  }
  return value;
}

/** Invariant check: a failure is a bug in the queue, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`market queue invariant violated: ${what}`);
}
