/**
 * ConsumerRegistry: creates, finds and removes the in-process consumers, and keeps the routing
 * table in step (a consumer is registered with the table on creation; removing or closing it
 * unsubscribes everything it held).
 *
 * @module
 */

import { CONSUMER_ID_LENGTH_MAX, isConsumerId } from "../schema/order_request.ts";
import {
  Consumer,
  type ConsumerErrorHandler,
  type ConsumerStats,
  QUEUE_EVENTS_MAX_DEFAULT,
} from "./consumer.ts";
import type { ConsumerRoutes } from "./consumer_routes.ts";

/** Options of {@linkcode ConsumerRegistry}. */
export interface ConsumerRegistryOptions {
  /** The routing table (the dispatcher's `RoutingTable`). */
  routes: ConsumerRoutes;
  /** Default queue bound of new consumers. Default {@linkcode QUEUE_EVENTS_MAX_DEFAULT}. */
  queueEventsMax?: number;
  /** Told about exceptions from any consumer's `onEvent` handler. */
  onError?: ConsumerErrorHandler;
}

/** Options of {@linkcode ConsumerRegistry.create}. */
export interface CreateConsumerOptions {
  /** Queue bound of this consumer; defaults to the registry's. */
  queueEventsMax?: number;
}

/**
 * The set of live consumers.
 *
 * @example
 * ```ts
 * const registry = new ConsumerRegistry({ routes: routingTable });
 * const c = registry.create("my-strategy");
 * c.subscribe({ provider: "binance", symbol: "BTC-USDT", kind: "trade" });
 * c.onEvent((ev) => console.log(ev.price));
 * registry.remove("my-strategy"); // unsubscribes everything, closes the consumer
 * ```
 */
export class ConsumerRegistry {
  readonly #routes: ConsumerRoutes;
  readonly #queueEventsMax: number;
  readonly #onError: ConsumerErrorHandler | undefined;
  readonly #consumers = new Map<string, Consumer>();
  readonly #forget = (consumer: Consumer): void => {
    // Only forget the consumer registered under that id (a closed one is never re-added).
    if (this.#consumers.get(consumer.id) === consumer) this.#consumers.delete(consumer.id);
  };

  /** Creates an empty registry over `opts.routes`. */
  constructor(opts: ConsumerRegistryOptions) {
    this.#routes = opts.routes;
    this.#queueEventsMax = opts.queueEventsMax ?? QUEUE_EVENTS_MAX_DEFAULT;
    this.#onError = opts.onError;
  }

  /** Number of live consumers. */
  get size(): number {
    return this.#consumers.size;
  }

  /**
   * Creates and registers an open consumer with no subscriptions. Throws when `id` is not a
   * consumer id (1..64 of `A-Z a-z 0-9 . _ : -`), is already live, or the routing table is full.
   */
  create(id: string, opts?: CreateConsumerOptions): Consumer {
    if (!isConsumerId(id)) {
      throw new TypeError(
        `expected a consumer id of 1..${CONSUMER_ID_LENGTH_MAX} of A-Z a-z 0-9 . _ : -, found "${
          String(id)
        }"`,
      );
    }
    if (this.#consumers.has(id)) {
      throw new Error(`expected a new consumer id, found "${id}" already in use`);
    }
    const consumer = new Consumer({
      id,
      routes: this.#routes,
      queueEventsMax: opts?.queueEventsMax ?? this.#queueEventsMax,
      onError: this.#onError,
      onClose: this.#forget,
    });
    const added = this.#routes.addConsumer(consumer);
    if (!added.ok) throw new Error(added.error);
    this.#consumers.set(id, consumer);
    return consumer;
  }

  /** The live consumer with this id, if any. */
  get(id: string): Consumer | undefined {
    return this.#consumers.get(id);
  }

  /** Closes and forgets the consumer (unsubscribing everything); false when no such consumer. */
  remove(id: string): boolean {
    const consumer = this.#consumers.get(id);
    if (consumer === undefined) return false;
    consumer.close();
    assert(!this.#consumers.has(id), "a closed consumer stayed registered");
    return true;
  }

  /** The live consumers, in creation order. */
  list(): Consumer[] {
    return [...this.#consumers.values()];
  }

  /** Counters of every live consumer. */
  stats(): ConsumerStats[] {
    return this.list().map((c) => c.stats());
  }

  /** Closes every consumer (shutdown). */
  closeAll(): void {
    for (const consumer of this.list()) consumer.close();
  }
}

/** Invariant check: a failure is a bug in the registry, never an operating condition. */
function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`consumer registry invariant violated: ${what}`);
}
