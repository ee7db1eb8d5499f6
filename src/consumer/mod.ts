/**
 * The in-process consumer API: {@linkcode ConsumerRegistry} creates {@linkcode Consumer}s, each
 * with a bounded queue read as an async iterator or through a callback, and subscriptions that
 * go straight to the dispatcher's routing table.
 *
 * Ownership (MISSION R-18): consumers receive plain heap clones made by the dispatcher, one per
 * consumer per event. A consumer owns its clones outright and never releases anything to a pool;
 * the pooled original was already released by the dispatcher once every clone was enqueued.
 *
 * This module defines the contracts the dispatcher fulfils ({@linkcode ConsumerRoutes},
 * {@linkcode StreamKey}), so the import arrow stays dispatcher -> consumer.
 *
 * @example
 * ```ts
 * const routes = new RoutingTable<Consumer>();
 * const consumers = new ConsumerRegistry({ routes });
 * const c = consumers.create("my-strategy");
 * c.subscribe({ provider: "binance", symbol: "BTC-USDT", kind: "trade" });
 * for await (const ev of c.events()) console.log(ev.price, ev.qty);
 * ```
 *
 * @module
 */

export {
  Consumer,
  type ConsumerErrorHandler,
  type ConsumerEvent,
  type ConsumerOptions,
  type ConsumerStats,
  type EventHandler,
  QUEUE_EVENTS_MAX_DEFAULT,
  QUEUE_EVENTS_MAX_LIMIT,
} from "./consumer.ts";
export {
  ConsumerRegistry,
  type ConsumerRegistryOptions,
  type CreateConsumerOptions,
} from "./consumer_registry.ts";
export type { ConsumerRoutes, SubscriptionResult } from "./consumer_routes.ts";
export { EventRing } from "./event_ring.ts";
export { type StreamCount, StreamCounters } from "./stream_counters.ts";
export { ANY_PROVIDER, type StreamKey, validateStreamKey } from "./stream_key.ts";
