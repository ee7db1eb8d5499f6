/**
 * The conductor: receives every pooled canonical event from the adapters and passes it through
 * to the dispatcher (MISSION R-05), showing it first to the windowed-merge stages of its symbol
 * and kind (R-06; {@linkcode MergeStage} is the plug-in point, {@linkcode MergeWindow} the
 * windowed merge).
 *
 * Ownership: the conductor takes a pooled event from an adapter and passes it on to the
 * dispatcher, which releases it exactly once; the conductor never releases anything.
 *
 * @example
 * ```ts
 * const conductor = new Conductor({ sink: dispatcher });
 * adapter.onEvent = (ev) => conductor.ingest(ev);
 * ```
 *
 * @module
 */

export {
  Conductor,
  type ConductorOptions,
  type ConductorStats,
  type EventSink,
  MERGE_STAGES_MAX_DEFAULT,
} from "./conductor.ts";
export type { MergeStage } from "./merge_stage.ts";
export {
  MERGE_PROVIDERS_MAX,
  MERGE_WINDOW_EVENTS_MAX_DEFAULT,
  MERGE_WINDOW_EVENTS_MAX_LIMIT,
  MERGE_WINDOW_MS_DEFAULT,
  MERGE_WINDOW_MS_MAX,
  type MergedEventSource,
  type MergeLateDrop,
  type MergePartialPolicy,
  type MergePoolExhausted,
  type MergeSuppressed,
  MergeWindow,
  type MergeWindowOptions,
  type MergeWindowSpec,
  type MergeWindowStats,
} from "./merge_window.ts";
export {
  MERGED_SUBSCRIPTIONS_PER_CONSUMER_MAX_DEFAULT,
  type MergedStreamInfo,
  MergedStreams,
  type MergedStreamsOptions,
  type MergeStageHost,
  type RoutingVersion,
} from "./merged_streams.ts";
