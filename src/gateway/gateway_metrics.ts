/**
 * The gateway's Prometheus families that read live state at scrape time: pools, adapter,
 * dispatcher and ordering buffers, books, consumers.
 *
 * @module
 */

import type { BinanceAdapter } from "../adapter/binance/mod.ts";
import type { Consumer, ConsumerRegistry } from "../consumer/mod.ts";
import type { Dispatcher } from "../dispatcher/mod.ts";
import type { PoolManager, PoolStats } from "../pool/mod.ts";
import type { Counter, Gauge, MetricsRegistry } from "../telemetry/mod.ts";

/** What {@linkcode registerPipelineMetrics} reads. */
export interface PipelineMetricsSources {
  metrics: MetricsRegistry;
  adapter: () => BinanceAdapter | null;
  dispatcher: Dispatcher<Consumer>;
  consumers: ConsumerRegistry;
}

/** Registers adapter, dispatcher, ordering, book and consumer families. */
export function registerPipelineMetrics(src: PipelineMetricsSources): void {
  const m = src.metrics;
  const events = m.counter("switchyard_adapter_events_total", "Canonical events emitted", [
    "provider",
    "kind",
  ]);
  const frames = m.counter("switchyard_adapter_frames_total", "WebSocket frames received", [
    "provider",
  ]);
  const decodeErrors = m.counter(
    "switchyard_adapter_decode_errors_total",
    "Frames that failed to decode (counted, logged, skipped)",
    ["provider"],
  );
  const dispatched = m.counter("switchyard_dispatch_events_total", "Events dispatched");
  const clones = m.counter("switchyard_dispatch_clones_total", "Per-subscriber clones enqueued");
  const unrouted = m.counter("switchyard_dispatch_unrouted_total", "Events with no subscriber");
  const books = m.gauge("switchyard_book_state", "1 for the current sync state of each book", [
    "provider",
    "symbol",
    "state",
  ]);
  const consumerDropped = m.counter(
    "switchyard_consumer_dropped_total",
    "Events dropped at a full consumer queue",
    ["consumer"],
  );
  const orderingHeld = m.gauge(
    "switchyard_ordering_buffer_events",
    "Events held by a stream's ordering buffer (capacity 200)",
    ["stream"],
  );
  const orderingTotals = m.counter(
    "switchyard_ordering_events_total",
    "Ordering decisions: reordered, released on timeout/full, late, duplicate, gaps",
    ["outcome"],
  );
  m.collect(() => {
    for (const st of src.dispatcher.streamStats()) {
      orderingHeld.labels(`${st.provider}:${st.symbol}:${st.kind}`).set(st.held);
    }
    const o = src.dispatcher.stats().ordering;
    if (o) {
      orderingTotals.labels("reordered").syncTo(o.reordered);
      orderingTotals.labels("released_on_timeout").syncTo(o.releasedOnTimeout);
      orderingTotals.labels("released_on_full").syncTo(o.releasedOnFull);
      orderingTotals.labels("late_dropped").syncTo(o.lateDropped);
      orderingTotals.labels("duplicate_dropped").syncTo(o.duplicatesDropped);
      orderingTotals.labels("gap_skipped").syncTo(o.gapsSkipped);
    }
    const a = src.adapter()?.stats();
    if (a) {
      frames.labels("binance").syncTo(a.frames);
      decodeErrors.labels("binance").syncTo(a.decodeErrors);
      for (const [kind, n] of Object.entries(a.eventsByKind)) {
        events.labels("binance", kind).syncTo(n);
      }
    }
    const d = src.dispatcher.stats();
    dispatched.labels().syncTo(d.dispatched);
    clones.labels().syncTo(d.clones);
    unrouted.labels().syncTo(d.unrouted);
    for (const b of src.adapter()?.books() ?? []) {
      for (const state of ["SYNCING", "LIVE", "RESYNCING", "STALE"]) {
        books.labels(b.provider, b.symbol, state).set(b.state === state ? 1 : 0);
      }
    }
    for (const c of src.consumers.list()) {
      const n = c.stats().dropped;
      const child = consumerDropped.labels(c.id);
      if (n >= child.value) child.syncTo(n);
    }
  });
}

/** Registers per-pool gauges and counters (capacity, in flight, free, high water, ...). */
export function registerPoolMetrics(metrics: MetricsRegistry, manager: PoolManager): void {
  const labels = ["pool"];
  const gauges: [keyof PoolStats, Gauge][] = [
    ["capacity", metrics.gauge("switchyard_pool_capacity", "Pool capacity (objects)", labels)],
    [
      "inFlight",
      metrics.gauge("switchyard_pool_in_flight", "Objects acquired, not released", labels),
    ],
    ["free", metrics.gauge("switchyard_pool_free", "Objects created and free", labels)],
    [
      "highWater",
      metrics.gauge("switchyard_pool_high_water", "Most objects in flight at once", labels),
    ],
  ];
  const counters: [keyof PoolStats, Counter][] = [
    [
      "acquires",
      metrics.counter("switchyard_pool_acquires_total", "Successful acquisitions", labels),
    ],
    ["releases", metrics.counter("switchyard_pool_releases_total", "Releases", labels)],
    [
      "waits",
      metrics.counter("switchyard_pool_waits_total", "Acquisitions that had to wait", labels),
    ],
    [
      "timeouts",
      metrics.counter("switchyard_pool_timeouts_total", "Acquisitions that timed out", labels),
    ],
  ];
  metrics.collect(() => {
    for (const s of manager.stats()) {
      for (const [field, gauge] of gauges) gauge.labels(s.name).set(s[field] as number);
      for (const [field, counter] of counters) counter.labels(s.name).syncTo(s[field] as number);
    }
  });
}
