/**
 * The control-plane contract between consumers and the routing table. The consumer module
 * defines it and the dispatcher's `RoutingTable` fulfils it, so the import arrow stays
 * dispatcher -> consumer (ARCHITECTURE: no cycles).
 *
 * @module
 */

import type { Consumer } from "./consumer.ts";
import type { StreamKey } from "./stream_key.ts";

/**
 * Outcome of a routing change. `ok: true` with `changed: false` is the idempotent case
 * (subscribing twice, unsubscribing an absent subscription); `version` is the routing-table
 * version after the command either way.
 */
export type SubscriptionResult =
  | { readonly ok: true; readonly changed: boolean; readonly version: number }
  | { readonly ok: false; readonly error: string; readonly version: number };

/**
 * What a consumer and its registry need of the routing table. Every method applies its change
 * synchronously: the next event dispatched already sees it. `C` is the registered object (the
 * table hands it to the dispatcher); for the in-process API it is {@linkcode Consumer}.
 */
export interface ConsumerRoutes<C extends { readonly id: string } = Consumer> {
  /** Current routing-table version (increments on every effective change). */
  readonly version: number;
  /** Registers a consumer under its id; fails when the id is taken or the table is full. */
  addConsumer(consumer: C): SubscriptionResult;
  /**
   * Unregisters a consumer and drops all its subscriptions; absent ids are a no-op. With
   * `expected`, only when that very object is the one registered under the id.
   */
  removeConsumer(consumerId: string, expected?: C): SubscriptionResult;
  /** Adds one subscription of a registered consumer. */
  subscribe(consumerId: string, key: StreamKey): SubscriptionResult;
  /** Removes one subscription of a registered consumer. */
  unsubscribe(consumerId: string, key: StreamKey): SubscriptionResult;
  /** The consumer's subscriptions in the order they were made (copies; empty when unknown). */
  subscriptionsOf(consumerId: string): StreamKey[];
}
