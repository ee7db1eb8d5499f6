/**
 * The dispatcher: the versioned {@linkcode RoutingTable} (who receives which stream), the
 * {@linkcode StreamOrderingBuffer} (per-stream ordering and de-duplication), and the
 * {@linkcode Dispatcher} that fans each pooled event out as one plain clone per subscriber, in
 * stream order, and then releases the original exactly once (MISSION ).
 *
 * Nothing here knows an exchange's wire format: the dispatcher sees canonical events only.
 *
 * @example
 * ```ts
 * const routes = new RoutingTable<Consumer>();
 * const dispatcher = new Dispatcher({
 *   routes,
 *   pool: pools.canonical,
 *   ordering: { onLate: (info) => dlq.add(info) },
 * });
 * const consumers = new ConsumerRegistry({ routes });
 * // on shutdown
 * dispatcher.close();
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
  MergedDispatcher,
  type MergedDispatcherOptions,
  type MergedDispatcherStats,
  type MergedEventSink,
} from "./merged_dispatcher.ts";
export {
  DEDUP_WINDOW_EVENTS_DEFAULT,
  MERGE_IDS_MAX_DEFAULT,
  MergeIdDedup,
  type MergeIdDedupOptions,
  type MergeIdDedupStats,
  RecentSeqWindow,
} from "./dedup_window.ts";
export {
  BUFFER_EVENTS_MAX_DEFAULT,
  type DuplicateEventInfo,
  FLUSH_INTERVAL_MS_DEFAULT,
  type GapCause,
  type GapInfo,
  type LateEventInfo,
  LATENESS_MS_DEFAULT,
  type LateReason,
  ORDERING_MODES_DEFAULT,
  type OrderingCounters,
  type OrderingMode,
  type OrderingStreamKey,
  type OrderingTotals,
  SEQUENCE_RESET_MS_DEFAULT,
  type SequenceResetInfo,
  StreamOrderingBuffer,
  type StreamOrderingBufferOptions,
  type StreamOrderingOptions,
  type StreamOrderingStats,
  STREAMS_MAX_DEFAULT,
} from "./stream_ordering_buffer.ts";
export {
  CONSUMERS_MAX_DEFAULT,
  type RoutingSnapshot,
  type RoutingSnapshotConsumer,
  RoutingTable,
  type RoutingTableOptions,
  SUBSCRIPTIONS_PER_CONSUMER_MAX_DEFAULT,
} from "./routing_table.ts";
