/**
 * The in-process consumer API: {@linkcode ConsumerRegistry} creates {@linkcode Consumer}s, each
 * read as an async iterator, through a callback or by polling, with subscriptions that go
 * straight to the dispatcher's routing table.
 *
 * Delivery guarantees (MISSION ), per consumer:
 *
 * - Market data is queued by delivery class (`delivery_class.ts`, `market_queue.ts`): tickers,
 *   klines and book snapshots are latest-wins per stream; trades and book updates are lossless
 *   up to a bound, then an explicit `gap` marker replaces the missing range.
 * - Execution reports go through a durable per-consumer sqlite log ({@linkcode ExecReportLog})
 *   and are never dropped or coalesced; a consumer re-created under the same id, or a client
 *   that reconnects ({@linkcode Consumer.resume}), continues from its cursor.
 * - Bandwidth: each consumer has a {@linkcode TokenBucket} budget, and a stream's fan-out
 *   capacity is shared fairly across its consumers ({@linkcode FairShareScheduler}; the model
 *   and its 25 % guarantee are documented in `fair_share.ts`).
 *
 * Readers receive a {@linkcode ConsumerMessage}: market event clones (no `type` field), gap
 * markers (`type: "gap"`) and exec reports (`type: "exec_report"`).
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
 * for await (const msg of c.events()) if (msg.type === undefined) console.log(msg.price);
 * ```
 *
 * @module
 */

export {
  Consumer,
  type ConsumerErrorHandler,
  type ConsumerEvent,
  type ConsumerHooks,
  type ConsumerMergedStats,
  type ConsumerOptions,
  type ConsumerStats,
  type DropInfo,
  type EventHandler,
  type ExecAckMode,
  GAP_STREAMS_MAX_DEFAULT,
  MERGED_EVENTS_MAX_DEFAULT,
  QUEUE_EVENTS_MAX_DEFAULT,
  QUEUE_EVENTS_MAX_LIMIT,
  type ResumeResult,
} from "./consumer.ts";
export {
  type ConsumerMessage,
  type ExecReportMessage,
  execReportMessage,
  isExecReportMessage,
  isGapMessage,
  isMarketMessage,
  isMergedMessage,
  type MarketMessage,
  type MergedMessage,
  mergedMessage,
} from "./consumer_message.ts";
export type {
  MergedMarket,
  MergedRoutes,
  MergedSpec,
  MergedSubscription,
  MergedTarget,
} from "./merged_routes.ts";
export {
  ConsumerRegistry,
  type ConsumerRegistryOptions,
  type CreateConsumerOptions,
} from "./consumer_registry.ts";
export type { ConsumerRoutes, SubscriptionResult } from "./consumer_routes.ts";
export {
  COALESCABLE_KINDS_DEFAULT,
  type DeliveryClass,
  DeliveryClasses,
} from "./delivery_class.ts";
export { EventRing } from "./event_ring.ts";
export {
  type ExecLogPosition,
  ExecReportLog,
  type ExecReportLogOptions,
  MEMORY_PATH,
  READ_ENTRIES_MAX,
  REPLAY_ENTRIES_MAX_DEFAULT,
} from "./exec_report_log.ts";
export {
  type FairShareOptions,
  FairShareScheduler,
  SHARE_FLOOR_DEFAULT,
  ShareMember,
  STREAM_BURST_EVENTS_DEFAULT,
  type StreamRef,
  StreamShare,
  type StreamShareStats,
} from "./fair_share.ts";
export {
  type DropReason,
  MarketQueue,
  type MarketQueueListener,
  type MarketQueueOptions,
  type OfferOutcome,
} from "./market_queue.ts";
export { type StreamCount, StreamCounters } from "./stream_counters.ts";
export { ANY_PROVIDER, type StreamKey, validateStreamKey } from "./stream_key.ts";
export { StreamMap } from "./stream_map.ts";
export { TaggedRing } from "./tagged_ring.ts";
export { TokenBucket, type TokenBucketOptions } from "./token_bucket.ts";
