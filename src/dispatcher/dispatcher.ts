/**
 * Dispatcher: fans each pooled event out to its subscribers as per-subscriber clones.
 *
 * Ownership (MISSION R-18), the rules this file enforces:
 *
 * 1. `dispatch(ev)` takes ownership of a pooled {@linkcode CanonicalEvent}; the caller (the
 *    conductor) must not touch `ev` after the call, whether it returns or throws.
 * 2. For each subscriber the dispatcher makes ONE plain heap clone (`ev.clone()`) and enqueues it
 *    on that subscriber. Clones are never pooled; subscribers own them and never release them.
 *    No two subscribers share an object, so one mutating its clone cannot affect another.
 * 3. Once every clone is enqueued, the dispatcher releases `ev` to its pool exactly once, in a
 *    `finally`, so neither a throwing subscriber nor any other exception leaks it. An event
 *    nobody subscribes to is released at once (counted as `unrouted`).
 * 4. A subscriber's `enqueue` must not call back into the dispatcher. If it throws, the error is
 *    counted and reported through `onError`, and delivery continues with the next subscriber.
 *
 * Merged events and execution reports will get their own `dispatch*` entry points with their own
 * pools, under the same rules.
 *
 * Ordering and de-duplication (MISSION) are opt-in through `ordering`: with it, each
 * event first passes a {@linkcode StreamOrderingBuffer}, which releases it (and anything it
 * unblocks) to fan-out in stream order, holds a plain clone of it while an earlier event is
 * missing, or drops it as late or duplicate (reported through `onLate` / `onDuplicate`, never
 * delivered). Whatever happens, rule 3 stands: the pooled original is released exactly once,
 * before `dispatch` returns; held events are clones, so no pooled event waits in a buffer.
 * In-order events take a fast path with no timer and no allocation beyond the per-subscriber
 * clones. Without `ordering`, events are fanned out in arrival order exactly as before.
 *
 * @module
 */

import type { BoundedPool } from "../pool/bounded_pool.ts";
import {
  type CanonicalEvent,
  type CanonicalEventLike,
  cloneCanonicalEventData,
} from "../schema/canonical_event.ts";
import type { DeliveryTarget } from "./delivery_target.ts";
import type { RoutingTable } from "./routing_table.ts";
import {
  type OrderingStreamKey,
  type OrderingTotals,
  StreamOrderingBuffer,
  type StreamOrderingOptions,
  type StreamOrderingStats,
} from "./stream_ordering_buffer.ts";

/** Where a delivery failed, passed to {@linkcode DispatcherOptions.onError}. */
export interface DeliveryErrorInfo {
  /** The subscriber whose `enqueue` threw. */
  consumerId: string;
  /** The event's stream. */
  provider: string;
  /** The event's stream. */
  symbol: string;
  /** The event's stream. */
  kind: string;
}

/** Options of {@linkcode Dispatcher}. */
export interface DispatcherOptions<T extends DeliveryTarget> {
  /** The routing table consulted for every event. */
  routes: RoutingTable<T>;
  /** The pool every dispatched event was acquired from; each is released back to it once. */
  pool: BoundedPool<CanonicalEvent>;
  /**
   * Told about each exception a subscriber's `enqueue` throws (already counted). Must not throw;
   * if it does, that is ignored so the remaining subscribers still get the event.
   */
  onError?: (err: unknown, info: DeliveryErrorInfo) => void;
  /**
   * Per-stream ordering and de-duplication: bounds, clock, modes, and the
   * `onLate` / `onDuplicate` / `onGap` / `onSequenceReset` telemetry callbacks. `{}` takes every
   * default. Absent: no ordering, events fan out in arrival order.
   */
  ordering?: StreamOrderingOptions;
}

/** Delivery counters of one subscriber. */
export interface ConsumerDeliveryStats {
  /** Consumer id. */
  consumerId: string;
  /** Clones the subscriber accepted. */
  enqueued: number;
  /** Clones the subscriber refused (queue full, closed). */
  rejected: number;
  /** Clones whose `enqueue` threw. */
  failed: number;
}

/** A snapshot of the dispatcher's counters. */
export interface DispatcherStats {
  /** Events handed to `dispatch` (each released exactly once). */
  dispatched: number;
  /** Clones made (one per subscriber per event fanned out). */
  clones: number;
  /** Events fanned out (in order) that had no subscriber. */
  unrouted: number;
  /** Clones accepted, all subscribers together. */
  enqueued: number;
  /** Clones refused, all subscribers together. */
  rejected: number;
  /** Deliveries that threw, all subscribers together. */
  failed: number;
  /** Per subscriber still registered, in first-delivery order. */
  consumers: ConsumerDeliveryStats[];
  /** Ordering and de-duplication totals; null when ordering is off. */
  ordering: OrderingTotals | null;
}

/** Per-target counters; kept by target object so the hot path needs no id lookup. */
interface DeliveryCounters {
  enqueued: number;
  rejected: number;
  failed: number;
}

/**
 * Fans canonical events out to their subscribers.
 *
 * @example
 * ```ts
 * const dispatcher = new Dispatcher({
 *   routes: table,
 *   pool: pools.canonical,
 *   ordering: { onLate: (info) => dlq.add(info), onDuplicate: (info) => dupes.inc(info) },
 * });
 * const ev = pools.canonical.tryAcquire()!;
 * fill(ev);
 * dispatcher.dispatch(ev); // in order: clones to every subscriber; then releases ev
 * // ...
 * dispatcher.close(); // releases what is held, stops the ordering timer
 * ```
 */
export class Dispatcher<T extends DeliveryTarget = DeliveryTarget> {
  readonly #routes: RoutingTable<T>;
  readonly #pool: BoundedPool<CanonicalEvent>;
  readonly #onError: ((err: unknown, info: DeliveryErrorInfo) => void) | null;
  readonly #counters = new Map<T, DeliveryCounters>();
  readonly #ordering: StreamOrderingBuffer | null;
  #dispatched = 0;
  #clones = 0;
  #unrouted = 0;
  #enqueued = 0;
  #rejected = 0;
  #failed = 0;

  /** Creates a dispatcher over a routing table and the canonical-event pool. */
  constructor(opts: DispatcherOptions<T>) {
    this.#routes = opts.routes;
    this.#pool = opts.pool;
    this.#onError = opts.onError ?? null;
    this.#ordering = opts.ordering === undefined
      ? null
      : new StreamOrderingBuffer({ ...opts.ordering, release: this.#fanOut });
  }

  /**
   * Delivers one clone of `ev` to each subscriber of its stream (with ordering: when the stream
   * order allows; otherwise a clone is held, or `ev` is dropped as late or duplicate), then
   * releases `ev` to the pool exactly once. Takes ownership of `ev` (see the module doc). Throws
   * only on a pool misuse (`ev` not in flight in this pool: a double dispatch or a use after
   * release), which is a programmer error upstream; in debug mode that is caught before any
   * clone is made.
   */
  dispatch(ev: CanonicalEvent): void {
    // Debug mode: catch a use after release before poisoned clones reach consumers. Outside
    // the try: an event not in flight is not ours to release.
    if (this.#pool.debug && !this.#pool.isInFlight(ev)) {
      throw new Error(
        `dispatcher: expected an event in flight in pool "${this.#pool.name}", found one not acquired (id ${
          this.#pool.idOf(ev)
        })`,
      );
    }
    try {
      this.#dispatched++;
      if (this.#ordering === null) this.#fanOut(ev);
      else this.#ordering.offer(ev);
    } finally {
      this.#pool.release(ev);
    }
  }

  /**
   * Runs the ordering stage's lateness sweep now (its own timer does so every
   * `flushIntervalMs` while anything is held). No-op without ordering.
   */
  tick(): void {
    this.#ordering?.tick();
  }

  /**
   * Forgets one stream's ordering state, for a caller that knows the provider's sequence
   * restarted (resubscription, book resync): held events are delivered first, in order, and the
   * stream's next event starts afresh. False when the stream was not tracked (or ordering is off).
   */
  resetStream(key: OrderingStreamKey): boolean {
    return this.#ordering?.resetStream(key) ?? false;
  }

  /**
   * Delivers every held event in order (gaps skipped) and clears the ordering timer; later
   * dispatches still work, but gaps are skipped at once instead of waited for. Idempotent; call
   * it on shutdown so no timer outlives the dispatcher.
   */
  close(): void {
    this.#ordering?.close();
  }

  /** Ordering state per tracked stream, most recently used first (empty without ordering). */
  streamStats(): StreamOrderingStats[] {
    return this.#ordering?.streamStats() ?? [];
  }

  /** A snapshot of the counters; drops the counters of subscribers no longer registered. */
  stats(): DispatcherStats {
    this.#pruneCounters();
    const consumers: ConsumerDeliveryStats[] = [];
    for (const [target, c] of this.#counters) {
      consumers.push({
        consumerId: target.id,
        enqueued: c.enqueued,
        rejected: c.rejected,
        failed: c.failed,
      });
    }
    return {
      dispatched: this.#dispatched,
      clones: this.#clones,
      unrouted: this.#unrouted,
      enqueued: this.#enqueued,
      rejected: this.#rejected,
      failed: this.#failed,
      consumers,
      ordering: this.#ordering?.totals() ?? null,
    };
  }

  /**
   * Fan-out of one event in stream order: the pooled original on the fast path, or a held clone
   * released later (by the ordering timer, say). Never throws: each delivery is guarded.
   */
  readonly #fanOut = (ev: CanonicalEventLike): void => {
    const targets = this.#routes.lookup(ev.provider, ev.symbol, ev.kind);
    if (targets.length === 0) {
      this.#unrouted++;
      return;
    }
    for (let i = 0; i < targets.length; i++) this.#deliver(targets[i], ev);
  };

  #deliver(target: T, ev: CanonicalEventLike): void {
    const counters = this.#counters.get(target) ?? this.#addCounters(target);
    try {
      const clone = cloneCanonicalEventData(ev);
      this.#clones++;
      if (target.enqueue(clone)) {
        counters.enqueued++;
        this.#enqueued++;
      } else {
        counters.rejected++;
        this.#rejected++;
      }
    } catch (err) {
      counters.failed++;
      this.#failed++;
      this.#reportError(err, target, ev);
    }
  }

  #reportError(err: unknown, target: T, ev: CanonicalEventLike): void {
    if (this.#onError === null) return;
    try {
      this.#onError(err, {
        consumerId: target.id,
        provider: ev.provider,
        symbol: ev.symbol,
        kind: ev.kind,
      });
    } catch {
      // The reporter failed as well; the counters above keep the record.
    }
  }

  /** First delivery to a target (control-plane rate): make its counters, bounding the map. */
  #addCounters(target: T): DeliveryCounters {
    if (this.#counters.size >= this.#routes.consumersMax) this.#pruneCounters();
    const counters: DeliveryCounters = { enqueued: 0, rejected: 0, failed: 0 };
    this.#counters.set(target, counters);
    return counters;
  }

  #pruneCounters(): void {
    for (const target of this.#counters.keys()) {
      if (this.#routes.targetOf(target.id) !== target) this.#counters.delete(target);
    }
  }
}
