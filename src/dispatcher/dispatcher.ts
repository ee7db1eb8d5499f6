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
 * @module
 */

import type { BoundedPool } from "../pool/bounded_pool.ts";
import type { CanonicalEvent } from "../schema/canonical_event.ts";
import type { DeliveryTarget } from "./delivery_target.ts";
import type { RoutingTable } from "./routing_table.ts";

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
  /** Clones made (one per subscriber per event). */
  clones: number;
  /** Events that had no subscriber. */
  unrouted: number;
  /** Clones accepted, all subscribers together. */
  enqueued: number;
  /** Clones refused, all subscribers together. */
  rejected: number;
  /** Deliveries that threw, all subscribers together. */
  failed: number;
  /** Per subscriber still registered, in first-delivery order. */
  consumers: ConsumerDeliveryStats[];
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
 * const dispatcher = new Dispatcher({ routes: table, pool: pools.canonical });
 * const ev = pools.canonical.tryAcquire()!;
 * fill(ev);
 * dispatcher.dispatch(ev); // clones to every subscriber, then releases ev
 * ```
 */
export class Dispatcher<T extends DeliveryTarget = DeliveryTarget> {
  readonly #routes: RoutingTable<T>;
  readonly #pool: BoundedPool<CanonicalEvent>;
  readonly #onError: ((err: unknown, info: DeliveryErrorInfo) => void) | null;
  readonly #counters = new Map<T, DeliveryCounters>();
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
  }

  /**
   * Delivers one clone of `ev` to each subscriber of its stream, then releases `ev` to the pool
   * exactly once. Takes ownership of `ev` (see the module doc). Throws only on a pool misuse
   * (`ev` not in flight in this pool: a double dispatch or a use after release), which is a
   * programmer error upstream; in debug mode that is caught before any clone is made.
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
      const targets = this.#routes.lookup(ev.provider, ev.symbol, ev.kind);
      if (targets.length === 0) {
        this.#unrouted++;
        return;
      }
      for (let i = 0; i < targets.length; i++) this.#deliver(targets[i], ev);
    } finally {
      this.#pool.release(ev);
    }
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
    };
  }

  #deliver(target: T, ev: CanonicalEvent): void {
    const counters = this.#counters.get(target) ?? this.#addCounters(target);
    try {
      const clone = ev.clone();
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

  #reportError(err: unknown, target: T, ev: CanonicalEvent): void {
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
