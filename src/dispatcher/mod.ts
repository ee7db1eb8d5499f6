/**
 * The dispatcher: the versioned {@linkcode RoutingTable} (who receives which stream) and the
 * {@linkcode Dispatcher} that fans each pooled event out as one plain clone per subscriber and
 * then releases the original exactly once (MISSION ).
 *
 * Nothing here knows an exchange's wire format: the dispatcher sees canonical events only.
 *
 * @example
 * ```ts
 * const routes = new RoutingTable<Consumer>();
 * const dispatcher = new Dispatcher({ routes, pool: pools.canonical });
 * const consumers = new ConsumerRegistry({ routes });
 * ```
 *
 * @module
 */

export type { DeliveryTarget } from "./delivery_target.ts";
export {
  type ConsumerDeliveryStats,
  type DeliveryErrorInfo,
  Dispatcher,
  type DispatcherOptions,
  type DispatcherStats,
} from "./dispatcher.ts";
export {
  CONSUMERS_MAX_DEFAULT,
  type RoutingSnapshot,
  type RoutingSnapshotConsumer,
  RoutingTable,
  type RoutingTableOptions,
  SUBSCRIPTIONS_PER_CONSUMER_MAX_DEFAULT,
} from "./routing_table.ts";
