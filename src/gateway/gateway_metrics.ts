/**
 * The gateway's Prometheus families: those that read live state at scrape time (pools,
 * adapter, dispatcher and ordering buffers, books, consumer queues), and the two fed from the
 * consumers' delivery hooks (per-consumer coalesced / gap / dropped counters, per-stream-class
 * delivery latency).
 *
 * Label cardinality stays bounded: latency is labelled by `provider` and `kind` only (never the
 * symbol), and the per-consumer families give their own series to the first
 * {@linkcode CONSUMER_SERIES_MAX} consumer ids seen; later ids share the series
 * `consumer="~other"` (`~` is not allowed in a consumer id, so it cannot collide). The registry
 * cannot drop a series, so a consumer that is gone keeps its counters; its gauges read 0.
 *
 * @module
 */

import type { MarketFeed } from "./market_feeds.ts";
import type { Consumer } from "../consumer/mod.ts";
import type { Dispatcher } from "../dispatcher/mod.ts";
import type { PoolManager, PoolStats } from "../pool/mod.ts";
import type { CanonicalEventData } from "../schema/canonical_event.ts";
import type {
  Counter,
  CounterChild,
  Gauge,
  GaugeChild,
  Histogram,
  HistogramChild,
  MetricsRegistry,
} from "../telemetry/mod.ts";

/** What {@linkcode registerPipelineMetrics} reads. */
export interface PipelineMetricsSources {
  metrics: MetricsRegistry;
  feeds: () => readonly MarketFeed[];
  dispatcher: Dispatcher<Consumer>;
}

/** Consumer ids with a series of their own in the per-consumer families. */
export const CONSUMER_SERIES_MAX = 256;
/** The `consumer` label shared by the ids beyond {@linkcode CONSUMER_SERIES_MAX}. */
export const CONSUMER_OVERFLOW_LABEL = "~other";
/**
 * Upper bounds of the delivery-latency buckets, ms: from well under a millisecond (in-process
 * fan-out) to ten seconds (a client far behind).
 */
export const DELIVERY_LATENCY_BOUNDS_MS: readonly number[] = [
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1000,
  2500,
  5000,
  10_000,
];

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
    for (const feed of src.feeds()) {
      const c = feed.counters();
      frames.labels(feed.provider).syncTo(c.frames);
      decodeErrors.labels(feed.provider).syncTo(c.decodeErrors);
      for (const [kind, n] of Object.entries(feed.eventsByKind())) {
        events.labels(feed.provider, kind).syncTo(n);
      }
    }
    const d = src.dispatcher.stats();
    dispatched.labels().syncTo(d.dispatched);
    clones.labels().syncTo(d.clones);
    unrouted.labels().syncTo(d.unrouted);
    for (const b of src.feeds().flatMap((f) => f.books())) {
      for (const state of ["SYNCING", "LIVE", "RESYNCING", "STALE"]) {
        books.labels(b.provider, b.symbol, state).set(b.state === state ? 1 : 0);
      }
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

/**
 * `performance.timeOrigin`, read once: the getter returns a fresh number each call, which would
 * cost an allocation per observation.
 */
const TIME_ORIGIN_MS = performance.timeOrigin;

/** Options of {@linkcode DeliveryLatencyMetric}. */
export interface DeliveryLatencyOptions {
  /**
   * Epoch ms now (tests). Default `performance.timeOrigin + performance.now()`, the adapters'
   * time base, read inline (an injected clock's return value may be boxed: use it in tests).
   */
  nowMs?: () => number;
}

/**
 * `switchyard_delivery_latency_ms{provider,kind}`: from an event's frame receive time
 * (`recvTsMs`) to the moment a consumer's reader takes it off the consumer's queue (the
 * `onDelivered` consumer hook): an in-process strategy's iterator, callback or poll, or a
 * WebSocket session encoding it for its socket (which sends it at once unless the socket is
 * backed up, then within a poll interval, or after its pause).
 *
 * @example
 * ```ts
 * const latency = new DeliveryLatencyMetric(metrics);
 * const registry = new ConsumerRegistry({ routes, hooks: { onDelivered: latency.observe } });
 * ```
 */
export class DeliveryLatencyMetric {
  /** The histogram family. */
  readonly histogram: Histogram;
  readonly #nowMs: (() => number) | null;
  /** Series by provider, then kind: looked up without building a label key. */
  readonly #series = new Map<string, Map<string, HistogramChild>>();

  /** Registers the family in `metrics`. */
  constructor(metrics: MetricsRegistry, opts?: DeliveryLatencyOptions) {
    this.histogram = metrics.histogram(
      "switchyard_delivery_latency_ms",
      "Frame receive to consumer dequeue (in-process reader or WebSocket encoder), ms",
      { labelNames: ["provider", "kind"], bounds: DELIVERY_LATENCY_BOUNDS_MS },
    );
    this.#nowMs = opts?.nowMs ?? null;
  }

  /**
   * Records one delivered event; allocation-free once its (provider, kind) was seen. Events
   * without a receive time are skipped; a negative delay (clock step) counts as 0.
   */
  readonly observe = (ev: CanonicalEventData): void => {
    if (!(ev.recvTsMs > 0)) return;
    const s = this.#series.get(ev.provider)?.get(ev.kind) ?? this.#addSeries(ev.provider, ev.kind);
    const now = this.#nowMs === null ? TIME_ORIGIN_MS + performance.now() : this.#nowMs();
    const elapsed = now - ev.recvTsMs;
    s.observe(elapsed > 0 ? elapsed : 0);
  };

  /** First event of a (provider, kind): control-plane rate, may allocate. */
  #addSeries(provider: string, kind: string): HistogramChild {
    let byKind = this.#series.get(provider);
    if (byKind === undefined) {
      byKind = new Map();
      this.#series.set(provider, byKind);
    }
    const child = this.histogram.labels(provider, kind);
    byKind.set(kind, child);
    return child;
  }
}

/** What one consumer label has. */
interface ConsumerSeries {
  readonly coalesced: CounterChild;
  readonly gaps: CounterChild;
  readonly dropped: CounterChild;
  readonly queueEvents: GaugeChild;
  readonly execPending: GaugeChild;
}

/** Options of {@linkcode ConsumerMetrics}. */
export interface ConsumerMetricsOptions {
  /** Where the families are registered. */
  metrics: MetricsRegistry;
  /** The live consumers, read at scrape time (queue depth, exec reports pending). */
  consumers: () => Iterable<Consumer>;
  /** Ids with their own series. Default {@linkcode CONSUMER_SERIES_MAX}. */
  seriesMax?: number;
}

/**
 * The per-consumer families:
 *
 * - `switchyard_consumer_coalesced_total{consumer}`: events superseded in the queue by a newer
 *   one of their stream (latest wins); counted by the `onCoalesced` hook.
 * - `switchyard_consumer_gaps_total{consumer}`: gap markers queued (each stands for a run of
 *   trades or book updates not delivered); the `onGap` hook.
 * - `switchyard_consumer_dropped_total{consumer}`: events that will never be delivered, whether
 *   counted into a gap or refused for lack of room; the `onDropped` hook. This replaces the
 *   scrape-time version, which could not count a consumer re-created under a used id.
 * - `switchyard_consumer_queue_events{consumer}`: market events waiting in the queue now.
 * - `switchyard_consumer_exec_reports_pending{consumer}`: exec reports assigned to a live
 *   consumer and not yet handed to its reader.
 *
 * The counters are exact (counted as it happens, not sampled); the gauges are read at scrape
 * time from the live consumers, 0 for the ones gone.
 */
export class ConsumerMetrics {
  readonly #seriesMax: number;
  readonly #consumers: () => Iterable<Consumer>;
  readonly #coalesced: Counter;
  readonly #gaps: Counter;
  readonly #dropped: Counter;
  readonly #queueEvents: Gauge;
  readonly #execPending: Gauge;
  readonly #series = new Map<string, ConsumerSeries>();
  #overflow: ConsumerSeries | null = null;

  /** Registers the families and their scrape-time collector. */
  constructor(opts: ConsumerMetricsOptions) {
    const m = opts.metrics;
    this.#seriesMax = opts.seriesMax ?? CONSUMER_SERIES_MAX;
    if (!Number.isInteger(this.#seriesMax) || this.#seriesMax < 1) {
      throw new RangeError(`expected an integer seriesMax >= 1, found ${this.#seriesMax}`);
    }
    this.#consumers = opts.consumers;
    const labels = ["consumer"];
    this.#coalesced = m.counter(
      "switchyard_consumer_coalesced_total",
      "Events superseded in a consumer queue by a newer one of their stream (latest wins)",
      labels,
    );
    this.#gaps = m.counter(
      "switchyard_consumer_gaps_total",
      "Gap markers queued for a consumer (runs of trades or book updates not delivered)",
      labels,
    );
    this.#dropped = m.counter(
      "switchyard_consumer_dropped_total",
      "Events a consumer will never receive (counted into a gap, or no room in its queue)",
      labels,
    );
    this.#queueEvents = m.gauge(
      "switchyard_consumer_queue_events",
      "Market events waiting in a consumer queue",
      labels,
    );
    this.#execPending = m.gauge(
      "switchyard_consumer_exec_reports_pending",
      "Exec reports assigned to a live consumer and not yet handed to its reader",
      labels,
    );
    m.collect(() => this.#collect());
  }

  /** Hook: one event of `consumerId` was superseded (`ConsumerHooks.onCoalesced`). */
  coalesced(consumerId: string): void {
    this.#seriesOf(consumerId).coalesced.inc();
  }

  /** Hook: one event of `consumerId` will not be delivered (`ConsumerHooks.onDropped`). */
  dropped(consumerId: string): void {
    this.#seriesOf(consumerId).dropped.inc();
  }

  /** Hook: a gap marker was queued for `consumerId` (`ConsumerHooks.onGap`). */
  gap(consumerId: string): void {
    this.#seriesOf(consumerId).gaps.inc();
  }

  #collect(): void {
    for (const s of this.#series.values()) zeroGauges(s);
    if (this.#overflow !== null) zeroGauges(this.#overflow);
    for (const c of this.#consumers()) {
      const s = this.#seriesOf(c.id);
      const st = c.stats();
      s.queueEvents.set(s.queueEvents.value + st.losslessQueued + st.coalescedQueued);
      const pending = Math.max(0, st.execHeadSeq - st.execNextSeq + 1);
      s.execPending.set(s.execPending.value + pending);
    }
  }

  /** The consumer's series: its own while there is room, else the shared overflow series. */
  #seriesOf(consumerId: string): ConsumerSeries {
    const own = this.#series.get(consumerId);
    if (own !== undefined) return own;
    if (this.#series.size < this.#seriesMax) {
      const created = this.#newSeries(consumerId);
      this.#series.set(consumerId, created);
      return created;
    }
    if (this.#overflow === null) this.#overflow = this.#newSeries(CONSUMER_OVERFLOW_LABEL);
    return this.#overflow;
  }

  #newSeries(label: string): ConsumerSeries {
    return {
      coalesced: this.#coalesced.labels(label),
      gaps: this.#gaps.labels(label),
      dropped: this.#dropped.labels(label),
      queueEvents: this.#queueEvents.labels(label),
      execPending: this.#execPending.labels(label),
    };
  }
}

function zeroGauges(s: ConsumerSeries): void {
  s.queueEvents.set(0);
  s.execPending.set(0);
}
