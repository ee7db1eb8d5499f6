/**
 * Consumer: one in-process reader of the gateway's market data.
 *
 * A consumer holds a bounded queue of event clones (`queueEventsMax`). The dispatcher calls
 * {@linkcode Consumer.enqueue}, which only stores the clone (or hands it to a waiting reader) and
 * never runs consumer code, so a slow strategy cannot stall the hot path. The consumer reads the
 * queue in exactly one of two ways at a time:
 *
 * - an async iterator, `for await (const ev of consumer.events()) { ... }`, or
 * - a callback, `consumer.onEvent((ev) => { ... })`, run from a microtask after the dispatcher
 *   returns; a handler that returns a promise is awaited before the next event, so events reach
 *   it one at a time and in order.
 *
 * Overflow (this first version): when the queue is full the NEW event is dropped and counted, in
 * total and per stream. Delivery classes (latest-wins coalescing, never-drop exec reports) come
 * later and will change only {@linkcode Consumer.enqueue}.
 *
 * Ownership (MISSION R-18): every event a consumer receives is a plain heap clone made by the
 * dispatcher for this consumer alone. The consumer owns it: it may keep it, mutate it, or let it
 * be collected; it never releases anything to a pool, and no other consumer sees the same object.
 *
 * @module
 */

import type { CanonicalEventData } from "../schema/canonical_event.ts";
import type { ConsumerRoutes, SubscriptionResult } from "./consumer_routes.ts";
import { EventRing } from "./event_ring.ts";
import { type StreamCount, StreamCounters } from "./stream_counters.ts";
import type { StreamKey } from "./stream_key.ts";

/** Events a consumer queues by default before it drops new ones. */
export const QUEUE_EVENTS_MAX_DEFAULT = 4096;
/** Largest `queueEventsMax` accepted (the ring is preallocated, so bound its memory). */
export const QUEUE_EVENTS_MAX_LIMIT = 1_048_576;

/**
 * What a consumer receives: a plain clone. Market data only for now; merged events and
 * execution reports widen this type when their delivery lands.
 */
export type ConsumerEvent = CanonicalEventData;

/** A callback reader; a returned promise is awaited before the next event is handed over. */
export type EventHandler = (ev: ConsumerEvent) => void | PromiseLike<void>;

/** Told about errors thrown by a consumer's own callback. Must not throw (it is ignored). */
export type ConsumerErrorHandler = (err: unknown, consumerId: string) => void;

/** Options of {@linkcode Consumer}. Applications use `ConsumerRegistry.create` instead. */
export interface ConsumerOptions {
  /** Consumer id, unique in its registry. */
  id: string;
  /** The routing table that `subscribe` / `unsubscribe` delegate to. */
  routes: ConsumerRoutes;
  /** Bound of the event queue (1..{@linkcode QUEUE_EVENTS_MAX_LIMIT}). Default 4096. */
  queueEventsMax?: number;
  /** Told about exceptions from the `onEvent` handler (they are counted either way). */
  onError?: ConsumerErrorHandler;
  /** Called once when the consumer closes (the registry uses it to forget the consumer). */
  onClose?: (consumer: Consumer) => void;
}

/** A snapshot of one consumer's counters. */
export interface ConsumerStats {
  /** Consumer id. */
  id: string;
  /** True once closed. */
  closed: boolean;
  /** Events waiting in the queue. */
  queued: number;
  /** Bound of the queue. */
  queueEventsMax: number;
  /** Events accepted (queued or handed straight to a waiting reader). */
  enqueued: number;
  /** Events handed to the reader. */
  delivered: number;
  /** Events refused because the queue was full. */
  dropped: number;
  /** `dropped`, per stream. */
  droppedByStream: StreamCount[];
  /** Events refused because the consumer was already closed. */
  droppedAfterClose: number;
  /** Queued events thrown away by `close()`. */
  discardedOnClose: number;
  /** Exceptions thrown (or promises rejected) by the `onEvent` handler. */
  handlerErrors: number;
}

type IteratorSettle = (result: IteratorResult<ConsumerEvent, undefined>) => void;

/** The one active iterator of a consumer, with its pending `next()` calls (oldest first). */
interface Reader {
  active: boolean;
  readonly waiters: IteratorSettle[];
}

const DONE: IteratorResult<ConsumerEvent, undefined> = Object.freeze({
  value: undefined,
  done: true,
});

/**
 * An in-process consumer of market data.
 *
 * @example
 * ```ts
 * const c = registry.create("my-strategy");
 * c.subscribe({ provider: "binance", symbol: "BTC-USDT", kind: "trade" });
 * for await (const ev of c.events()) {
 *   if (ev.price === "0") c.close(); // ends the loop
 * }
 * ```
 */
export class Consumer {
  /** Consumer id. */
  readonly id: string;
  /** Bound of the event queue. */
  readonly queueEventsMax: number;

  readonly #routes: ConsumerRoutes;
  readonly #queue: EventRing<ConsumerEvent>;
  readonly #onError: ConsumerErrorHandler | null;
  #onClose: ((consumer: Consumer) => void) | null;
  #closed = false;
  #reader: Reader | null = null;
  #handler: EventHandler | null = null;
  #drainScheduled = false;
  #draining = false;
  readonly #drainTask = (): void => {
    // #drain catches everything it runs into, so the promise never rejects.
    void this.#drain();
  };

  #enqueued = 0;
  #delivered = 0;
  readonly #dropped = new StreamCounters();
  #droppedAfterClose = 0;
  #discardedOnClose = 0;
  #handlerErrors = 0;

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
    this.id = opts.id;
    this.queueEventsMax = queueEventsMax;
    this.#routes = opts.routes;
    this.#queue = new EventRing(queueEventsMax);
    this.#onError = opts.onError ?? null;
    this.#onClose = opts.onClose ?? null;
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

  /**
   * Called by the dispatcher with a clone this consumer now owns. Hands it to a waiting iterator,
   * or queues it; returns false when it was dropped (queue full, or consumer closed). Never runs
   * reader code synchronously.
   */
  enqueue(ev: ConsumerEvent): boolean {
    if (this.#closed) {
      this.#droppedAfterClose++;
      return false;
    }
    const reader = this.#reader;
    if (reader !== null && reader.waiters.length > 0) {
      // A reader only waits on an empty queue, so handing over directly keeps the order.
      assert(this.#queue.length === 0, "a reader waited while events were queued");
      this.#enqueued++;
      this.#delivered++;
      reader.waiters.shift()!({ value: ev, done: false });
      return true;
    }
    if (!this.#queue.push(ev)) {
      this.#dropped.increment(ev.provider, ev.symbol, ev.kind);
      return false;
    }
    this.#enqueued++;
    if (this.#handler !== null) this.#scheduleDrain();
    return true;
  }

  /**
   * The queue as an async iterator; it ends when the consumer closes. One reader at a time:
   * throws while another iterator or an `onEvent` handler is attached. Leaving a `for await` loop
   * (break, return, throw) detaches the iterator but keeps the consumer open and subscribed: events
   * keep queueing (and dropping once full) until `close()` or the next reader.
   */
  events(): AsyncIterableIterator<ConsumerEvent> {
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
    const iterator: AsyncIterableIterator<ConsumerEvent> = {
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
   * Attaches the callback reader (null detaches it). Events are handed to it from a microtask,
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
    if (handler !== null && this.#queue.length > 0) this.#scheduleDrain();
  }

  /**
   * Closes the consumer: unsubscribes everything, discards queued events (counted), ends the
   * active iterator (pending `next()` calls resolve done) and detaches the handler. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#routes.removeConsumer(this.id, this);
    this.#discardedOnClose += this.#queue.clear();
    this.#handler = null;
    const reader = this.#reader;
    if (reader !== null) this.#detach(reader);
    const onClose = this.#onClose;
    this.#onClose = null;
    if (onClose !== null) onClose(this);
  }

  /** A snapshot of this consumer's counters. */
  stats(): ConsumerStats {
    return {
      id: this.id,
      closed: this.#closed,
      queued: this.#queue.length,
      queueEventsMax: this.queueEventsMax,
      enqueued: this.#enqueued,
      delivered: this.#delivered,
      dropped: this.#dropped.total,
      droppedByStream: this.#dropped.list(),
      droppedAfterClose: this.#droppedAfterClose,
      discardedOnClose: this.#discardedOnClose,
      handlerErrors: this.#handlerErrors,
    };
  }

  #next(reader: Reader): Promise<IteratorResult<ConsumerEvent, undefined>> {
    if (!reader.active) return Promise.resolve(DONE);
    const ev = this.#queue.shift();
    if (ev !== undefined) {
      this.#delivered++;
      return Promise.resolve({ value: ev, done: false });
    }
    return new Promise((resolve) => reader.waiters.push(resolve));
  }

  #detach(reader: Reader): void {
    if (!reader.active) return;
    reader.active = false;
    if (this.#reader === reader) this.#reader = null;
    // Nothing is lost: a reader only waits on an empty queue.
    for (const settle of reader.waiters.splice(0)) settle(DONE);
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
        const ev = this.#queue.shift();
        if (ev === undefined) break;
        this.#delivered++;
        try {
          const pending = handler(ev);
          if (pending !== undefined && pending !== null) await pending;
        } catch (err) {
          this.#reportHandlerError(err);
        }
      }
    } finally {
      this.#draining = false;
    }
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
