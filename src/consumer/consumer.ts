/**
 * Consumer: one in-process reader of the gateway's market data and of its own execution reports.
 *
 * The dispatcher calls {@linkcode Consumer.enqueue}, which only stores the clone (and may resolve
 * a waiting reader's promise) and never runs consumer code, so a slow strategy cannot stall the
 * hot path. The consumer reads in exactly one of three ways at a time:
 *
 * - an async iterator, `for await (const msg of consumer.events()) { ... }`;
 * - a callback, `consumer.onEvent((msg) => { ... })`, run from a microtask after the dispatcher
 *   returns; a handler that returns a promise is awaited before the next message, so messages
 *   reach it one at a time and in order;
 * - `consumer.poll()`, a synchronous pull (returns undefined when nothing is deliverable now).
 *
 * What a reader receives is a {@linkcode ConsumerMessage}: market event clones, `gap` markers
 * and `exec_report`s (see `consumer_message.ts`). Delivery classes (`delivery_class.ts`):
 *
 * - Market data goes through a {@linkcode MarketQueue}: tickers, klines and book snapshots are
 *   latest-wins per stream (replaced in place); trades and book updates are lossless up to
 *   `losslessEventsMax`, then counted into a gap whose marker is delivered before the stream's
 *   next event.
 * - Execution reports go through a durable {@linkcode ExecReportLog} and are delivered from it,
 *   in sequence order, before any waiting market data: they are never dropped, coalesced, or
 *   held back by the token buckets. In the default `execAck: "delivered"` mode a report counts
 *   as acknowledged once handed to the reader; a consumer re-created under the same id (or
 *   after a restart) continues after the last one acknowledged, so each is delivered exactly
 *   once. {@linkcode Consumer.resume} lets a reconnecting client rewind to what it last saw.
 *
 * Bandwidth (`fair_share.ts` has the precise model): each market-data message handed over costs
 * one token of the consumer's own bucket (`rateEventsPerSec`, `burstEvents`; unlimited by
 * default) and, when the registry sets a per-stream capacity, one credit of the consumer's fair
 * share of that stream. Without tokens the market data waits in the queue, where it coalesces
 * (latest per stream) or runs into a gap, and a timer on the injected clock resumes delivery
 * when tokens are due. Gap markers and exec reports are free.
 *
 * Ownership (MISSION R-18): every event a consumer receives is a plain heap clone made by the
 * dispatcher for this consumer alone. The consumer owns it: it may keep it, mutate it, or let it
 * be collected; it never releases anything to a pool, and no other consumer sees the same object.
 *
 * @module
 */

import { type Clock, SYSTEM_CLOCK } from "../pool/clock.ts";
import type { CanonicalEventData } from "../schema/canonical_event.ts";
import type { ExecReportData } from "../schema/exec_report.ts";
import type { MergedEventData } from "../schema/merged_event.ts";
import type { GapMessage } from "../schema/wire_control.ts";
import type { ConsumerRoutes, SubscriptionResult } from "./consumer_routes.ts";
import {
  type ConsumerMessage,
  type ExecReportMessage,
  execReportMessage,
  type MergedMessage,
  mergedMessage,
} from "./consumer_message.ts";
import type {
  MergedMarket,
  MergedRoutes,
  MergedSpec,
  MergedSubscription,
} from "./merged_routes.ts";
import { DeliveryClasses } from "./delivery_class.ts";
import { ExecReportLog } from "./exec_report_log.ts";
import type { FairShareScheduler, ShareMember } from "./fair_share.ts";
import { type DropReason, MarketQueue, type MarketQueueListener } from "./market_queue.ts";
import type { StreamCount } from "./stream_counters.ts";
import type { StreamKey } from "./stream_key.ts";
import { StreamMap } from "./stream_map.ts";
import { TokenBucket } from "./token_bucket.ts";

/** Market events a consumer queues by default (lossless and coalesced, each). */
export const QUEUE_EVENTS_MAX_DEFAULT = 4096;
/** Largest `queueEventsMax` (and `losslessEventsMax`) accepted. */
export const QUEUE_EVENTS_MAX_LIMIT = 1_048_576;
/** Merged events queued per consumer by default (each may carry up to 10 000 fragments). */
export const MERGED_EVENTS_MAX_DEFAULT = 64;
/** Streams that may have a pending gap at once, by default. */
export const GAP_STREAMS_MAX_DEFAULT = 16_384;
/** Exec reports read from the log per query. */
const EXEC_READ_BATCH = 64;

/**
 * What a consumer's reader receives. Kept as the name the first version used; it is
 * {@linkcode ConsumerMessage}: market event clones, gap markers and execution reports.
 */
export type ConsumerEvent = ConsumerMessage;

/** A callback reader; a returned promise is awaited before the next message is handed over. */
export type EventHandler = (msg: ConsumerMessage) => void | PromiseLike<void>;

/** Told about errors thrown by a consumer's own callback. Must not throw (it is ignored). */
export type ConsumerErrorHandler = (err: unknown, consumerId: string) => void;

/** When an exec report counts as acknowledged (its log cursor advances). */
export type ExecAckMode = "delivered" | "manual";

/** Passed to {@linkcode ConsumerHooks.onDropped}. */
export interface DropInfo {
  /** The consumer that will not receive the event. */
  readonly consumerId: string;
  /** `gap`: counted into a gap (a marker follows); `coalesced_overflow`: no room for a new
   * coalesced stream; `gap_untracked`: no room for one more pending gap (a hole without
   * marker, reported here and counted: raise `gapStreamsMax`). */
  readonly reason: DropReason;
}

/**
 * Telemetry callbacks (the lead wires them to the telemetry bus / DLQ). They run synchronously
 * inside `enqueue` (the dispatcher's hot path) or a read, so they must be cheap and must not
 * call back into the dispatcher; exceptions are caught and counted as `hookErrors`.
 */
export interface ConsumerHooks {
  /** `replaced` was superseded in the queue by a newer event of its stream. */
  onCoalesced?: (replaced: CanonicalEventData, consumerId: string) => void;
  /** `ev` will never be delivered to the consumer (ownership passes to the hook). */
  onDropped?: (ev: CanonicalEventData, info: DropInfo) => void;
  /** A gap was closed and its marker queued. */
  onGap?: (gap: GapMessage, consumerId: string) => void;
  /**
   * `ev` was just taken off the queue for the reader (the dequeue point of every reader: the
   * iterator, the `onEvent` callback, `poll()`, and so a WebSocket session's encoder). Called
   * once per market event delivered, so it must be allocation-free (delivery-latency metrics).
   * The reader owns `ev`: the hook must not keep or change it.
   */
  onDelivered?: (ev: CanonicalEventData, consumerId: string) => void;
}

/** Options of {@linkcode Consumer}. Applications use `ConsumerRegistry.create` instead. */
export interface ConsumerOptions {
  /** Consumer id, unique in its registry. */
  id: string;
  /** The routing table that `subscribe` / `unsubscribe` delegate to. */
  routes: ConsumerRoutes;
  /**
   * Market-event bound (1..{@linkcode QUEUE_EVENTS_MAX_LIMIT}), default 4096: the default of
   * both `losslessEventsMax` and `coalescedEventsMax`.
   */
  queueEventsMax?: number;
  /** Trades and book updates queued before a gap opens. Default `queueEventsMax`. */
  losslessEventsMax?: number;
  /** Pending gaps close at this many lossless events queued. Default half the bound. */
  losslessResumeEvents?: number;
  /** Coalesced entries (streams, kline bars) queued. Default `queueEventsMax`. */
  coalescedEventsMax?: number;
  /** Streams with a pending gap at once. Default {@linkcode GAP_STREAMS_MAX_DEFAULT}. */
  gapStreamsMax?: number;
  /** Which kinds coalesce. Default: ticker, kline, book_snapshot. */
  classes?: DeliveryClasses;
  /** Own budget, market events/s handed to the reader (> 0). Default `Infinity` (no limit). */
  rateEventsPerSec?: number;
  /** Own burst (>= 1). Default 100 ms worth of `rateEventsPerSec` (at least 1). */
  burstEvents?: number;
  /** The registry's per-stream fair shares; null or absent: no stream capacity. */
  shares?: FairShareScheduler | null;
  /**
   * Durable exec report log, shared by a registry's consumers. Absent: a private `:memory:`
   * log closed with the consumer (reports then last only as long as the consumer).
   */
  execLog?: ExecReportLog;
  /** Default `delivered`; `manual`: only {@linkcode Consumer.ackExecReports} advances it. */
  execAck?: ExecAckMode;
  /** Time source of the token buckets and the throttle timer. Default the system clock. */
  clock?: Clock;
  /** Telemetry callbacks. */
  hooks?: ConsumerHooks;
  /** Told about exceptions from the `onEvent` handler (they are counted either way). */
  onError?: ConsumerErrorHandler;
  /** Called once when the consumer closes (the registry uses it to forget the consumer). */
  onClose?: (consumer: Consumer) => void;
  /** The merged-stream registry; absent: merged subscriptions are not supported. */
  merged?: MergedRoutes;
  /**
   * Merged events queued (a plain FIFO, never coalesced, no gap markers); one arriving when
   * full is refused and counted. Default {@linkcode MERGED_EVENTS_MAX_DEFAULT}.
   */
  mergedEventsMax?: number;
}

/** Merged-event counters of one consumer. */
export interface ConsumerMergedStats {
  /** Merged events waiting for the reader. */
  queued: number;
  /** The bound of the merged queue. */
  mergedEventsMax: number;
  /** Merged events accepted. */
  enqueued: number;
  /** Merged events handed to the reader. */
  delivered: number;
  /** Merged events refused because the merged queue was full (or the consumer closed). */
  dropped: number;
}

/** Outcome of {@linkcode Consumer.resume}. */
export interface ResumeResult {
  /** The first exec report sequence that will be delivered next. */
  nextSeq: number;
  /** The last sequence assigned so far. */
  headSeq: number;
  /**
   * Reports after the client's last seen one that can no longer be replayed (acknowledged and
   * pruned beyond the replay window); 0 in the normal case.
   */
  unavailable: number;
}

/** A snapshot of one consumer's counters. */
export interface ConsumerStats {
  /** Consumer id. */
  id: string;
  /** True once closed. */
  closed: boolean;
  /** Messages waiting in the market queue (events, coalesced entries, gap markers). */
  queued: number;
  /** The market-event bound. */
  queueEventsMax: number;
  /** Bound of trades and book updates queued. */
  losslessEventsMax: number;
  /** Trades and book updates queued. */
  losslessQueued: number;
  /** Coalesced entries queued. */
  coalescedQueued: number;
  /** Market events accepted (queued, or merged into a queued entry of their stream). */
  enqueued: number;
  /** Market events handed to the reader. */
  delivered: number;
  /** Market events that will never be delivered (counted into gaps, overflow). */
  dropped: number;
  /** `dropped`, per stream. */
  droppedByStream: StreamCount[];
  /** Events superseded by a newer one of their stream. */
  coalesced: number;
  /** `coalesced`, per stream. */
  coalescedByStream: StreamCount[];
  /** Streams with a gap not yet closed. */
  gapsPending: number;
  /** Events counted into those gaps. */
  gapEventsPending: number;
  /** Gap markers queued so far. */
  gapMarkers: number;
  /** Gap markers handed to the reader. */
  gapsDelivered: number;
  /** Own budget, events/s; null: unlimited. */
  rateEventsPerSec: number | null;
  /** Times market delivery had to wait for tokens. */
  throttled: number;
  /** Last exec report sequence assigned. */
  execHeadSeq: number;
  /** Next exec report sequence to deliver. */
  execNextSeq: number;
  /** Exec reports appended through this consumer. */
  execReportsAppended: number;
  /** Exec reports handed to the reader. */
  execReportsDelivered: number;
  /** Events refused because the consumer was already closed. */
  droppedAfterClose: number;
  /** Queued events thrown away by `close()`. */
  discardedOnClose: number;
  /** Exceptions thrown (or promises rejected) by the `onEvent` handler. */
  handlerErrors: number;
  /** Exceptions thrown by the telemetry hooks. */
  hookErrors: number;
}

/** A pending `next()` of the iterator. */
interface Waiter {
  resolve: (result: IteratorResult<ConsumerMessage, undefined>) => void;
  reject: (err: unknown) => void;
}

/** The one active iterator of a consumer, with its pending `next()` calls (oldest first). */
interface Reader {
  active: boolean;
  readonly waiters: Waiter[];
}

const DONE: IteratorResult<ConsumerMessage, undefined> = Object.freeze({
  value: undefined,
  done: true,
});

/**
 * An in-process consumer of market data and execution reports.
 *
 * @example
 * ```ts
 * const c = registry.create("my-strategy", { rateEventsPerSec: 500 });
 * c.subscribe({ provider: "binance", symbol: "BTC-USDT", kind: "trade" });
 * for await (const msg of c.events()) {
 *   if (msg.type === "gap") console.log("missed", msg.count, "trades");
 *   else if (msg.type === "exec_report") console.log(msg.clientOrderId, msg.state);
 *   else console.log(msg.price, msg.qty);
 * }
 * ```
 */
export class Consumer {
  /** Consumer id. */
  readonly id: string;
  /** The market-event bound. */
  readonly queueEventsMax: number;
  /** Own budget, market events/s (`Infinity`: unlimited). */
  readonly rateEventsPerSec: number;

  readonly #routes: ConsumerRoutes;
  readonly #queue: MarketQueue;
  readonly #bucket: TokenBucket | null;
  readonly #shares: FairShareScheduler | null;
  readonly #members = new StreamMap<ShareMember>();
  readonly #clock: Clock;
  readonly #log: ExecReportLog;
  readonly #ownsLog: boolean;
  readonly #execAck: ExecAckMode;
  readonly #hooks: ConsumerHooks;
  readonly #onDelivered: ((ev: CanonicalEventData, consumerId: string) => void) | null;
  readonly #onError: ConsumerErrorHandler | null;
  #onClose: ((consumer: Consumer) => void) | null;
  #closed = false;
  #reader: Reader | null = null;
  #handler: EventHandler | null = null;
  #drainScheduled = false;
  #draining = false;
  #timer: number | null = null;
  readonly #drainTask = (): void => {
    // #drain catches everything it runs into, so the promise never rejects.
    void this.#drain();
  };
  readonly #timerTask = (): void => {
    this.#timer = null;
    if (!this.#closed) this.#wake();
  };

  #execHead: number;
  #execNext: number;
  #execBuffer: ExecReportData[] = [];
  #execBufferAt = 0;

  readonly #merged: MergedRoutes | null;
  readonly #mergedEventsMax: number;
  /** Merged messages in arrival order; `#mergedAt` is the head (compacted when drained). */
  #mergedQueue: MergedMessage[] = [];
  #mergedAt = 0;
  #mergedEnqueued = 0;
  #mergedDelivered = 0;
  #mergedDropped = 0;

  #enqueued = 0;
  #delivered = 0;
  #gapsDelivered = 0;
  #throttled = 0;
  #execAppended = 0;
  #execDelivered = 0;
  #droppedAfterClose = 0;
  #discardedOnClose = 0;
  #handlerErrors = 0;
  #hookErrors = 0;
  readonly #dropInfo: Record<DropReason, DropInfo>;

  /** Creates an open consumer with an empty queue. Does not register it with `routes`. */
  constructor(opts: ConsumerOptions) {
    const queueEventsMax = opts.queueEventsMax ?? QUEUE_EVENTS_MAX_DEFAULT;
    if (
      !Number.isInteger(queueEventsMax) || queueEventsMax < 1 ||
      queueEventsMax > QUEUE_EVENTS_MAX_LIMIT
    ) {
      throw new RangeError(
        `consumer "${opts.id}": expected an integer queueEventsMax in 1..${QUEUE_EVENTS_MAX_LIMIT}, found ${queueEventsMax}`,
      );
    }
    const losslessEventsMax = opts.losslessEventsMax ?? queueEventsMax;
    if (losslessEventsMax > QUEUE_EVENTS_MAX_LIMIT) {
      throw new RangeError(
        `consumer "${opts.id}": expected losslessEventsMax at most ${QUEUE_EVENTS_MAX_LIMIT}, found ${losslessEventsMax}`,
      );
    }
    const rate = opts.rateEventsPerSec ?? Infinity;
    if (!(rate > 0)) {
      throw new RangeError(
        `consumer "${opts.id}": expected rateEventsPerSec > 0 (or Infinity), found ${rate}`,
      );
    }
    this.id = opts.id;
    this.queueEventsMax = queueEventsMax;
    this.rateEventsPerSec = rate;
    this.#routes = opts.routes;
    this.#clock = opts.clock ?? SYSTEM_CLOCK;
    this.#hooks = opts.hooks ?? {};
    this.#onDelivered = this.#hooks.onDelivered ?? null;
    this.#onError = opts.onError ?? null;
    this.#onClose = opts.onClose ?? null;
    this.#dropInfo = {
      gap: Object.freeze({ consumerId: this.id, reason: "gap" }),
      coalesced_overflow: Object.freeze({ consumerId: this.id, reason: "coalesced_overflow" }),
      gap_untracked: Object.freeze({ consumerId: this.id, reason: "gap_untracked" }),
    };
    this.#queue = new MarketQueue({
      classes: opts.classes ?? new DeliveryClasses(),
      losslessEventsMax,
      losslessResumeEvents: opts.losslessResumeEvents,
      coalescedEventsMax: opts.coalescedEventsMax ?? queueEventsMax,
      gapStreamsMax: opts.gapStreamsMax ?? GAP_STREAMS_MAX_DEFAULT,
      listener: this.#queueListener(),
    });
    this.#bucket = Number.isFinite(rate)
      ? new TokenBucket({
        rateTokensPerSec: rate,
        burstTokens: opts.burstEvents ?? Math.max(1, Math.ceil(rate / 10)),
        clock: this.#clock,
      })
      : null;
    this.#shares = opts.shares ?? null;
    this.#merged = opts.merged ?? null;
    const mergedEventsMax = opts.mergedEventsMax ?? MERGED_EVENTS_MAX_DEFAULT;
    if (!Number.isInteger(mergedEventsMax) || mergedEventsMax < 1) {
      throw new RangeError(
        `consumer "${opts.id}": expected an integer mergedEventsMax >= 1, found ${mergedEventsMax}`,
      );
    }
    this.#mergedEventsMax = mergedEventsMax;
    this.#execAck = opts.execAck ?? "delivered";
    this.#ownsLog = opts.execLog === undefined;
    this.#log = opts.execLog ?? new ExecReportLog();
    // Start after the last acknowledged report: a consumer re-created under this id (or after
    // a restart) continues where the previous one left off.
    const position = this.#log.position(this.id);
    this.#execHead = position.head;
    this.#execNext = Math.max(position.cursor + 1, position.oldest);
  }

  /** True once {@linkcode Consumer.close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Subscribes this consumer to a stream; effective for the very next event dispatched. */
  subscribe(key: StreamKey): SubscriptionResult {
    if (this.#closed) return this.#closedResult();
    return this.#routes.subscribe(this.id, key);
  }

  /** Removes one subscription; unsubscribing an absent one is ok and changes nothing. */
  unsubscribe(key: StreamKey): SubscriptionResult {
    if (this.#closed) return this.#closedResult();
    return this.#routes.unsubscribe(this.id, key);
  }

  /** This consumer's subscriptions, in the order they were made. */
  subscriptions(): StreamKey[] {
    return this.#routes.subscriptionsOf(this.id);
  }

  /** True when this consumer was given a merged-stream registry (merged subscriptions work). */
  get mergedEnabled(): boolean {
    return this.#merged !== null;
  }

  /**
   * Subscribes to a merged stream (MISSION R-06): one `merged` message per complete window.
   * Identical specs of several consumers share one window. Fails without a merged registry.
   */
  mergedSubscribe(spec: MergedSpec): SubscriptionResult {
    if (this.#closed) return this.#closedResult();
    if (this.#merged === null) return this.#noMergedResult();
    return this.#merged.subscribe(this, spec);
  }

  /** Ends the merged subscription of that market; absent: ok, unchanged. */
  mergedUnsubscribe(market: MergedMarket): SubscriptionResult {
    if (this.#closed) return this.#closedResult();
    if (this.#merged === null) return this.#noMergedResult();
    return this.#merged.unsubscribe(this.id, market);
  }

  /** This consumer's merged subscriptions, in the order they were made. */
  mergedSubscriptions(): MergedSubscription[] {
    return this.#merged?.subscriptionsOf(this.id) ?? [];
  }

  /**
   * Called by the merged dispatcher with a clone this consumer now owns. Queued in a bounded
   * FIFO (never coalesced, no gap markers: a dropped window is simply counted); false when the
   * queue is full or the consumer closed. Never runs reader code synchronously.
   */
  enqueueMerged(merged: MergedEventData): boolean {
    if (this.#closed || this.#mergedQueue.length - this.#mergedAt >= this.#mergedEventsMax) {
      this.#mergedDropped++;
      return false;
    }
    this.#mergedQueue.push(mergedMessage(merged));
    this.#mergedEnqueued++;
    this.#wake();
    return true;
  }

  /** A snapshot of the merged-event counters. */
  mergedStats(): ConsumerMergedStats {
    return {
      queued: this.#mergedQueue.length - this.#mergedAt,
      mergedEventsMax: this.#mergedEventsMax,
      enqueued: this.#mergedEnqueued,
      delivered: this.#mergedDelivered,
      dropped: this.#mergedDropped,
    };
  }

  /**
   * Called by the dispatcher with a clone this consumer now owns. Queues it by its delivery
   * class; returns false when it will not be delivered (counted into a gap, no room for its
   * stream, or consumer closed). May resolve a waiting reader's promise; never runs reader code
   * synchronously.
   */
  enqueue(ev: CanonicalEventData): boolean {
    if (this.#closed) {
      this.#droppedAfterClose++;
      return false;
    }
    const outcome = this.#queue.offer(ev);
    if (outcome === "coalesced") {
      // Merged into an entry already queued: nothing new for a reader to wake up for.
      this.#enqueued++;
      return true;
    }
    if (outcome !== "queued") return false;
    this.#enqueued++;
    this.#wake();
    return true;
  }

  /**
   * Appends an execution report to this consumer's durable log and schedules its delivery;
   * returns the per-consumer sequence assigned (also the delivered report's `seq`). The
   * report's `consumerId` must be this id or empty. Never drops: a log failure throws (the
   * caller must treat the report as not stored). On a closed consumer the report is still
   * stored for the next consumer with this id, unless the log is the consumer's private one.
   */
  enqueueExecReport(report: ExecReportData): number {
    if (this.#closed && this.#ownsLog) {
      throw new Error(
        `consumer "${this.id}": expected an open consumer or a shared exec report log, found it closed with a private log`,
      );
    }
    const stored = this.#log.append(this.id, report);
    this.#execAppended++;
    if (stored.seq > this.#execHead) this.#execHead = stored.seq;
    if (!this.#closed) this.#wake();
    return stored.seq;
  }

  /**
   * A reconnecting client saw every exec report up to `lastSeenSeq`: delivery continues with
   * `lastSeenSeq + 1`, rewinding when that was already delivered (within the log's replay
   * window) and acknowledging up to `lastSeenSeq`. Throws when `lastSeenSeq` is beyond the last
   * sequence assigned (the client's state belongs to another log).
   */
  resume(lastSeenSeq: number): ResumeResult {
    if (!Number.isInteger(lastSeenSeq) || lastSeenSeq < 0) {
      throw new RangeError(
        `consumer "${this.id}": expected an integer last seen exec report seq >= 0, found ${lastSeenSeq}`,
      );
    }
    const position = this.#log.position(this.id);
    if (lastSeenSeq > position.head) {
      throw new RangeError(
        `consumer "${this.id}": expected a last seen exec report seq at most ${position.head}, found ${lastSeenSeq}`,
      );
    }
    let next = lastSeenSeq + 1;
    let unavailable = 0;
    if (next < position.oldest) {
      unavailable = position.oldest - next;
      next = position.oldest;
    }
    if (lastSeenSeq > position.cursor) this.#log.ack(this.id, lastSeenSeq);
    this.#execHead = position.head;
    this.#execNext = next;
    this.#execBuffer = [];
    this.#execBufferAt = 0;
    if (!this.#closed) this.#wake();
    return { nextSeq: next, headSeq: position.head, unavailable };
  }

  /**
   * Acknowledges exec reports up to `seq` (persisted; prunes the log). Needed only with
   * `execAck: "manual"`; acknowledging beyond what was delivered throws.
   */
  ackExecReports(seq: number): number {
    if (seq >= this.#execNext) {
      throw new RangeError(
        `consumer "${this.id}": expected an ack of a delivered exec report (< ${this.#execNext}), found ${seq}`,
      );
    }
    return this.#log.ack(this.id, seq);
  }

  /**
   * The messages as an async iterator; it ends when the consumer closes. One reader at a time:
   * throws while another iterator or an `onEvent` handler is attached. Leaving a `for await` loop
   * (break, return, throw) detaches the iterator but keeps the consumer open and subscribed:
   * market data keeps queueing (coalescing, gapping) and exec reports keep accumulating in the
   * log until `close()` or the next reader.
   */
  events(): AsyncIterableIterator<ConsumerMessage> {
    if (this.#handler !== null) {
      throw new Error(
        `consumer "${this.id}": expected no other reader, found an onEvent handler attached`,
      );
    }
    if (this.#reader !== null) {
      throw new Error(
        `consumer "${this.id}": expected no other reader, found an events() iterator active`,
      );
    }
    const reader: Reader = { active: !this.#closed, waiters: [] };
    if (reader.active) this.#reader = reader;
    const iterator: AsyncIterableIterator<ConsumerMessage> = {
      next: () => this.#next(reader),
      return: () => {
        this.#detach(reader);
        return Promise.resolve(DONE);
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Attaches the callback reader (null detaches it). Messages are handed to it from a microtask,
   * in order, one at a time. Exceptions and rejections are counted as `handlerErrors` and passed
   * to the `onError` option; delivery continues. Throws while an `events()` iterator is active.
   */
  onEvent(handler: EventHandler | null): void {
    if (handler !== null && this.#reader !== null) {
      throw new Error(
        `consumer "${this.id}": expected no other reader, found an events() iterator active`,
      );
    }
    if (this.#closed) return;
    this.#handler = handler;
    if (handler !== null) this.#scheduleDrain();
  }

  /**
   * The next deliverable message, synchronously; undefined when none is (nothing queued, or
   * market data waiting for tokens). For readers that pace themselves; throws while an iterator
   * or handler is attached.
   */
  poll(): ConsumerMessage | undefined {
    if (this.#handler !== null || this.#reader !== null) {
      throw new Error(
        `consumer "${this.id}": expected no other reader for poll(), found ${
          this.#handler !== null ? "an onEvent handler" : "an events() iterator"
        }`,
      );
    }
    if (this.#closed) return undefined;
    return this.#pull();
  }

  /**
   * Closes the consumer: unsubscribes everything, discards queued market data (counted), ends
   * the active iterator (pending `next()` calls resolve done), detaches the handler, stops its
   * timer and leaves its stream shares. Exec reports not yet delivered stay in a shared log for
   * the next consumer with this id. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#routes.removeConsumer(this.id, this);
    this.#merged?.removeConsumer(this.id);
    this.#discardedOnClose += this.#queue.clear() + this.#mergedQueue.length - this.#mergedAt;
    this.#mergedQueue = [];
    this.#mergedAt = 0;
    this.#handler = null;
    if (this.#timer !== null) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#shares !== null) {
      for (const member of this.#members.values()) this.#shares.leave(member);
    }
    this.#members.clear();
    this.#execBuffer = [];
    this.#execBufferAt = 0;
    if (this.#ownsLog) this.#log.close();
    const reader = this.#reader;
    if (reader !== null) this.#detach(reader);
    const onClose = this.#onClose;
    this.#onClose = null;
    if (onClose !== null) onClose(this);
  }

  /** A snapshot of this consumer's counters. */
  stats(): ConsumerStats {
    const q = this.#queue;
    return {
      id: this.id,
      closed: this.#closed,
      queued: q.length,
      queueEventsMax: this.queueEventsMax,
      losslessEventsMax: q.losslessEventsMax,
      losslessQueued: q.losslessQueued,
      coalescedQueued: q.coalescedQueued,
      enqueued: this.#enqueued,
      delivered: this.#delivered,
      dropped: q.dropped.total,
      droppedByStream: q.dropped.list(),
      coalesced: q.coalesced.total,
      coalescedByStream: q.coalesced.list(),
      gapsPending: q.gapsPending,
      gapEventsPending: q.gapEventsPending,
      gapMarkers: q.gapMarkers,
      gapsDelivered: this.#gapsDelivered,
      rateEventsPerSec: Number.isFinite(this.rateEventsPerSec) ? this.rateEventsPerSec : null,
      throttled: this.#throttled,
      execHeadSeq: this.#execHead,
      execNextSeq: this.#execNext,
      execReportsAppended: this.#execAppended,
      execReportsDelivered: this.#execDelivered,
      droppedAfterClose: this.#droppedAfterClose,
      discardedOnClose: this.#discardedOnClose,
      handlerErrors: this.#handlerErrors,
      hookErrors: this.#hookErrors,
    };
  }

  /**
   * The next deliverable message: exec reports first, then merged events (not rate limited:
   * at most one per window), then market data if tokens allow.
   */
  #pull(): ConsumerMessage | undefined {
    return this.#pullExecReport() ?? this.#pullMerged() ?? this.#pullMarket();
  }

  #pullMerged(): MergedMessage | undefined {
    if (this.#mergedAt === this.#mergedQueue.length) return undefined;
    const msg = this.#mergedQueue[this.#mergedAt++];
    if (this.#mergedAt === this.#mergedQueue.length) {
      this.#mergedQueue = [];
      this.#mergedAt = 0;
    }
    this.#mergedDelivered++;
    return msg;
  }

  #pullExecReport(): ExecReportMessage | undefined {
    if (this.#execNext > this.#execHead) return undefined;
    if (this.#execBufferAt === this.#execBuffer.length) {
      this.#execBuffer = this.#log.read(this.id, this.#execNext - 1, EXEC_READ_BATCH);
      this.#execBufferAt = 0;
      assert(this.#execBuffer.length > 0, "the log holds every report up to its head");
    }
    const data = this.#execBuffer[this.#execBufferAt++];
    assert(
      data.seq === this.#execNext,
      `exec reports are read without holes (expected seq ${this.#execNext}, found ${data.seq})`,
    );
    this.#execNext++;
    if (this.#execAck === "delivered") this.#log.ack(this.id, data.seq);
    this.#execDelivered++;
    return execReportMessage(data);
  }

  #pullMarket(): ConsumerMessage | undefined {
    const head = this.#queue.peek();
    if (head === undefined) return undefined;
    if (head.type === "gap") {
      this.#queue.shift();
      this.#gapsDelivered++;
      return head;
    }
    if ((this.#bucket !== null || this.#shares !== null) && !this.#admit(head)) return undefined;
    this.#queue.shift();
    this.#delivered++;
    if (this.#onDelivered !== null) {
      try {
        this.#onDelivered(head, this.id);
      } catch {
        this.#hookErrors++;
      }
    }
    return head;
  }

  /** Spends a token of the own bucket and a credit of the stream share, or arms the timer. */
  #admit(ev: CanonicalEventData): boolean {
    const bucket = this.#bucket;
    if (bucket !== null) {
      const waitMs = bucket.waitMs();
      if (waitMs > 0) return this.#throttle(waitMs);
    }
    if (this.#shares !== null) {
      let member = this.#members.get(ev.provider, ev.symbol, ev.kind);
      if (member === undefined) {
        member = this.#shares.join(ev, this.rateEventsPerSec);
        this.#members.set(ev.provider, ev.symbol, ev.kind, member);
      }
      if (!member.tryTake()) return this.#throttle(member.waitMs());
    }
    if (bucket !== null) bucket.tryTake();
    return true;
  }

  /** Market delivery waits: wake up when tokens are due. Always false (for `#admit`). */
  #throttle(waitMs: number): boolean {
    if (this.#timer === null && Number.isFinite(waitMs)) {
      this.#throttled++;
      // Whole ms, at least 1: the tokens are surely there when the timer fires.
      this.#timer = this.#clock.setTimeout(this.#timerTask, Math.max(1, Math.ceil(waitMs)));
    }
    return false;
  }

  /** Something may be deliverable: hand it to the waiting iterator or schedule the handler. */
  #wake(): void {
    const reader = this.#reader;
    if (reader !== null) this.#serveWaiters(reader);
    else if (this.#handler !== null) this.#scheduleDrain();
  }

  #serveWaiters(reader: Reader): void {
    while (reader.waiters.length > 0) {
      let msg: ConsumerMessage | undefined;
      try {
        msg = this.#pull();
      } catch (err) {
        reader.waiters.shift()!.reject(err);
        continue;
      }
      if (msg === undefined) return;
      reader.waiters.shift()!.resolve({ value: msg, done: false });
    }
  }

  #next(reader: Reader): Promise<IteratorResult<ConsumerMessage, undefined>> {
    if (!reader.active) return Promise.resolve(DONE);
    const waiting = new Promise<IteratorResult<ConsumerMessage, undefined>>((resolve, reject) => {
      reader.waiters.push({ resolve, reject });
    });
    // Earlier next() calls are served first, so concurrent calls keep the order.
    this.#serveWaiters(reader);
    return waiting;
  }

  #detach(reader: Reader): void {
    if (!reader.active) return;
    reader.active = false;
    if (this.#reader === reader) this.#reader = null;
    // Nothing is lost: waiters only wait while nothing is deliverable.
    for (const waiter of reader.waiters.splice(0)) waiter.resolve(DONE);
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled || this.#draining) return;
    this.#drainScheduled = true;
    queueMicrotask(this.#drainTask);
  }

  async #drain(): Promise<void> {
    this.#drainScheduled = false;
    this.#draining = true;
    try {
      // Re-read the handler each turn: it may be swapped or cleared while a promise is awaited.
      for (let handler = this.#handler; handler !== null; handler = this.#handler) {
        let msg: ConsumerMessage | undefined;
        try {
          msg = this.#pull();
        } catch (err) {
          // The exec report log failed: report it and stop; the next wake-up retries.
          this.#reportHandlerError(err);
          break;
        }
        if (msg === undefined) break;
        try {
          const pending = handler(msg);
          if (pending !== undefined && pending !== null) await pending;
        } catch (err) {
          this.#reportHandlerError(err);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #queueListener(): MarketQueueListener {
    return {
      coalesced: (replaced) => {
        const hook = this.#hooks.onCoalesced;
        if (hook === undefined) return;
        try {
          hook(replaced, this.id);
        } catch {
          this.#hookErrors++;
        }
      },
      dropped: (ev, reason) => {
        const hook = this.#hooks.onDropped;
        if (hook === undefined) return;
        try {
          hook(ev, this.#dropInfo[reason]);
        } catch {
          this.#hookErrors++;
        }
      },
      gap: (marker) => {
        const hook = this.#hooks.onGap;
        if (hook === undefined) return;
        try {
          hook({ ...marker }, this.id);
        } catch {
          this.#hookErrors++;
        }
      },
    };
  }

  #reportHandlerError(err: unknown): void {
    this.#handlerErrors++;
    if (this.#onError === null) return;
    try {
      this.#onError(err, this.id);
    } catch {
      // The error reporter failed too; the count above is all that can be kept.
    }
  }

  #noMergedResult(): SubscriptionResult {
    return {
      ok: false,
      error: `consumer "${this.id}": expected a merged-stream registry, found none configured`,
      version: this.#routes.version,
    };
  }

  #closedResult(): SubscriptionResult {
    return {
      ok: false,
      error: `consumer "${this.id}": expected an open consumer, found it closed`,
      version: this.#routes.version,
    };
  }
}

/** Invariant check: a failure is a bug in the consumer, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`consumer invariant violated: ${what}`);
}
