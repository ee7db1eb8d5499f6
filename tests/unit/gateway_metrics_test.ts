import assert from "node:assert/strict";
import { type Consumer, ConsumerRegistry } from "../../src/consumer/mod.ts";
import { RoutingTable } from "../../src/dispatcher/mod.ts";
import {
  CONSUMER_OVERFLOW_LABEL,
  ConsumerMetrics,
  DeliveryLatencyMetric,
} from "../../src/gateway/gateway_metrics.ts";
import { MetricsRegistry } from "../../src/telemetry/metrics.ts";
import { parsePrometheusText } from "../support/prometheus_text.ts";
import {
  sampleBookUpdate,
  sampleExecReport,
  sampleTicker,
  sampleTrade,
} from "../support/schema_samples.ts";

Deno.test("delivery latency: histogram by provider and kind, from recvTsMs to the dequeue", async (t) => {
  const metrics = new MetricsRegistry();
  let now = 1_767_225_600_000;
  const latency = new DeliveryLatencyMetric(metrics, { nowMs: () => now });
  const routes = new RoutingTable<Consumer>();
  const registry = new ConsumerRegistry({ routes, hooks: { onDelivered: latency.observe } });
  const c = registry.create("strat-a");

  await t.step("observed when a reader takes the event, not when it is queued", () => {
    c.enqueue(sampleTrade({ recvTsMs: now - 3, symbol: "BTC-USDT" }));
    c.enqueue(sampleTrade({ recvTsMs: now - 3, symbol: "ETH-USDT", seq: 2 }));
    c.enqueue(sampleBookUpdate({ provider: "okx", recvTsMs: now - 0.2 }));
    let s = parsePrometheusText(metrics.render());
    assert.ok(!s.has('switchyard_delivery_latency_ms_count{provider="binance",kind="trade"}'));
    now += 7; // time spent in the queue counts
    while (c.poll() !== undefined) { /* drain */ }
    s = parsePrometheusText(metrics.render());
    const trade = '{provider="binance",kind="trade"';
    assert.equal(s.get(`switchyard_delivery_latency_ms_count${trade}}`), 2);
    assert.equal(s.get(`switchyard_delivery_latency_ms_sum${trade}}`), 20);
    assert.equal(s.get(`switchyard_delivery_latency_ms_bucket${trade},le="5"}`), 0);
    assert.equal(s.get(`switchyard_delivery_latency_ms_bucket${trade},le="10"}`), 2);
    const book = '{provider="okx",kind="book_update"';
    assert.equal(s.get(`switchyard_delivery_latency_ms_bucket${book},le="10"}`), 1);
    assert.ok(![...s.keys()].some((k) => k.includes("symbol=")), "no symbol label");
  });

  await t.step("no receive time: skipped; a receive time in the future: 0", () => {
    c.enqueue(sampleTrade({ recvTsMs: 0, seq: 3 }));
    c.enqueue(sampleTrade({ recvTsMs: now + 50, seq: 4 }));
    while (c.poll() !== undefined) { /* drain */ }
    const s = parsePrometheusText(metrics.render());
    const trade = '{provider="binance",kind="trade"';
    assert.equal(s.get(`switchyard_delivery_latency_ms_count${trade}}`), 3);
    assert.equal(s.get(`switchyard_delivery_latency_ms_bucket${trade},le="0.1"}`), 1);
  });

  await t.step("the system clock: epoch ms, the adapters' time base", () => {
    // Allocation per call is measured by the fanout bench (coverage runs box every number).
    const own = new DeliveryLatencyMetric(new MetricsRegistry());
    own.observe(sampleTrade({ recvTsMs: performance.timeOrigin + performance.now() - 0.3 }));
    const child = own.histogram.labels("binance", "trade");
    assert.equal(child.count, 1);
    assert.equal(child.counts[0] + child.counts[1], 0, "at least 0.25 ms");
    assert.equal(child.counts.slice(0, 13).reduce((a, b) => a + b), 1, "within 1000 ms");
  });
  registry.close();
});

Deno.test("consumer metrics: exact counters from the hooks, gauges from the live consumers", async (t) => {
  const metrics = new MetricsRegistry();
  const routes = new RoutingTable<Consumer>();
  let registry: ConsumerRegistry | null = null;
  const m = new ConsumerMetrics({ metrics, consumers: () => registry!.list(), seriesMax: 2 });
  registry = new ConsumerRegistry({
    routes,
    queueEventsMax: 4,
    hooks: {
      onCoalesced: (_, id) => m.coalesced(id),
      onDropped: (_, info) => m.dropped(info.consumerId),
      onGap: (_, id) => m.gap(id),
    },
  });
  const scrape = () => parsePrometheusText(metrics.render());

  await t.step(
    "queue depth, coalesced, dropped into a gap, gap markers, exec reports pending",
    () => {
      const a = registry!.create("strat-a");
      for (let seq = 1; seq <= 6; seq++) a.enqueue(sampleTrade({ seq, tradeId: String(seq) }));
      for (let seq = 1; seq <= 3; seq++) a.enqueue(sampleTicker({ seq }));
      registry!.enqueueExecReport(sampleExecReport({ consumerId: "strat-a" }));
      registry!.enqueueExecReport(sampleExecReport({ consumerId: "strat-a" }));
      let s = scrape();
      assert.equal(s.get('switchyard_consumer_queue_events{consumer="strat-a"}'), 5); // 4 + 1 ticker
      assert.equal(s.get('switchyard_consumer_coalesced_total{consumer="strat-a"}'), 2);
      assert.equal(s.get('switchyard_consumer_dropped_total{consumer="strat-a"}'), 2);
      assert.equal(s.get('switchyard_consumer_gaps_total{consumer="strat-a"}'), 0);
      assert.equal(s.get('switchyard_consumer_exec_reports_pending{consumer="strat-a"}'), 2);
      // Reading brings the queue below the resume mark: the gap closes into one marker.
      while (a.poll() !== undefined) { /* drain */ }
      s = scrape();
      assert.equal(s.get('switchyard_consumer_queue_events{consumer="strat-a"}'), 0);
      assert.equal(s.get('switchyard_consumer_gaps_total{consumer="strat-a"}'), 1);
      assert.equal(s.get('switchyard_consumer_exec_reports_pending{consumer="strat-a"}'), 0);
      assert.equal(a.stats().dropped, 2, "the counter agrees with the consumer's own");
    },
  );

  await t.step("a consumer re-created under its id keeps counting; a gone one reads 0", () => {
    registry!.remove("strat-a");
    const again = registry!.create("strat-a");
    again.enqueue(sampleTrade({ seq: 100 }));
    for (let seq = 1; seq <= 5; seq++) again.enqueue(sampleTrade({ seq: 100 + seq }));
    let s = scrape();
    assert.equal(s.get('switchyard_consumer_dropped_total{consumer="strat-a"}'), 4);
    assert.equal(s.get('switchyard_consumer_queue_events{consumer="strat-a"}'), 4);
    registry!.remove("strat-a");
    s = scrape();
    assert.equal(s.get('switchyard_consumer_queue_events{consumer="strat-a"}'), 0);
    assert.equal(s.get('switchyard_consumer_dropped_total{consumer="strat-a"}'), 4);
  });

  await t.step("ids beyond the series bound share one overflow series", () => {
    for (const id of ["strat-b", "strat-c", "strat-d"]) {
      const c = registry!.create(id);
      for (let seq = 1; seq <= 6; seq++) c.enqueue(sampleTrade({ seq }));
    }
    const s = scrape();
    const other = `{consumer="${CONSUMER_OVERFLOW_LABEL}"}`;
    assert.equal(s.get('switchyard_consumer_dropped_total{consumer="strat-b"}'), 2);
    assert.equal(s.get(`switchyard_consumer_dropped_total${other}`), 4);
    assert.equal(s.get(`switchyard_consumer_queue_events${other}`), 8);
    assert.ok(!s.has('switchyard_consumer_queue_events{consumer="strat-c"}'));
  });
  registry.close();
});
