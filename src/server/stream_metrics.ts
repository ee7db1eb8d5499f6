/**
 * Prometheus families of the consumer WebSocket endpoint (`switchyard_ws_*`), read from the
 * endpoint's counters at scrape time, so the send path only bumps plain numbers.
 *
 * Per-connection counters are not exported as series: the registry cannot drop a series, and a
 * label per consumer id would grow with every connection ever made. They are in
 * `GET /v1/consumers` instead.
 *
 * @module
 */

import type { Counter, MetricsRegistry } from "../telemetry/metrics.ts";
import {
  DISCONNECT_REASONS,
  REJECT_REASONS,
  type StreamServerStats,
  type TrafficCounters,
} from "./stream_stats.ts";

/** Something that reports the endpoint's counters. */
export interface StreamStatsSource {
  /** Server-wide counters. */
  stats(): StreamServerStats;
}

const TRAFFIC_FAMILIES: readonly [keyof TrafficCounters, string, string][] = [
  ["commands", "switchyard_ws_commands_total", "Commands received (text and binary frames)"],
  [
    "badCommands",
    "switchyard_ws_bad_commands_total",
    "Commands refused as unreadable or invalid (bad JSON, schema, binary, too large)",
  ],
  [
    "unsupportedCommands",
    "switchyard_ws_unsupported_commands_total",
    "Valid commands not supported (merged without merging, orders without an order gateway)",
  ],
  [
    "refusedCommands",
    "switchyard_ws_refused_commands_total",
    "Valid commands refused (routing table, order desk, missing trading credential)",
  ],
  ["acksSent", "switchyard_ws_acks_sent_total", "Acks sent"],
  ["framesSent", "switchyard_ws_frames_sent_total", "WebSocket frames sent (acks and events)"],
  ["messagesSent", "switchyard_ws_messages_sent_total", "Event messages sent"],
  ["batches", "switchyard_ws_batches_total", "Array frames sent (two or more messages)"],
  ["charsSent", "switchyard_ws_sent_bytes_total", "Bytes sent in frames (payload, ASCII)"],
  [
    "backpressurePauses",
    "switchyard_ws_backpressure_pauses_total",
    "Times a connection's send buffer passed the high-water mark",
  ],
];

/** Registers the endpoint's families in `metrics`, refreshed from `source` at each scrape. */
export function registerStreamMetrics(metrics: MetricsRegistry, source: StreamStatsSource): void {
  const active = metrics.gauge("switchyard_ws_connections_active", "Consumer connections open")
    .labels();
  const accepted = metrics.counter(
    "switchyard_ws_connections_total",
    "Consumer connections accepted",
  ).labels();
  const rejected = metrics.counter(
    "switchyard_ws_connections_rejected_total",
    "Upgrade requests refused, by reason",
    ["reason"],
  );
  const disconnects = metrics.counter(
    "switchyard_ws_disconnects_total",
    "Consumer connections ended, by reason",
    ["reason"],
  );
  const traffic: [keyof TrafficCounters, Counter][] = TRAFFIC_FAMILIES.map((
    [field, name, help],
  ) => [field, metrics.counter(name, help)]);
  // Fetch every labelled child once: the collector then allocates no label keys.
  const rejectedChildren = REJECT_REASONS.map((r) => [r, rejected.labels(r)] as const);
  const disconnectChildren = DISCONNECT_REASONS.map((r) => [r, disconnects.labels(r)] as const);
  const trafficChildren = traffic.map(([field, counter]) => [field, counter.labels()] as const);
  metrics.collect(() => {
    const s = source.stats();
    active.set(s.connectionsActive);
    accepted.syncTo(s.connectionsAccepted);
    for (const [reason, child] of rejectedChildren) child.syncTo(s.connectionsRejected[reason]);
    for (const [reason, child] of disconnectChildren) child.syncTo(s.disconnects[reason]);
    for (const [field, child] of trafficChildren) child.syncTo(s[field]);
  });
}
