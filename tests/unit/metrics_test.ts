import assert from "node:assert/strict";
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from "../../src/telemetry/metrics.ts";
import { parsePrometheusText } from "../support/prometheus_text.ts";

Deno.test("metrics registry renders valid Prometheus text for every metric type", () => {
  const r = new MetricsRegistry();
  const c = r.counter("sy_frames_total", "frames", ["provider"]);
  const g = r.gauge("sy_depth", "depth");
  const h = r.histogram("sy_latency_ms", "latency", { labelNames: ["stream"], bounds: [1, 5, 10] });
  c.labels("binance").inc();
  c.labels("binance").inc(2);
  c.labels('we"ird\\').inc();
  g.labels().set(4);
  const hs = h.labels("a");
  hs.observe(0.5);
  hs.observe(7);
  hs.observe(50);
  const text = r.render();
  const s = parsePrometheusText(text);
  assert.equal(s.get('sy_frames_total{provider="binance"}'), 3);
  assert.equal(s.get('sy_frames_total{provider="we\\"ird\\\\"}'), 1);
  assert.equal(s.get("sy_depth"), 4);
  assert.equal(s.get('sy_latency_ms_bucket{stream="a",le="1"}'), 1);
  assert.equal(s.get('sy_latency_ms_bucket{stream="a",le="5"}'), 1);
  assert.equal(s.get('sy_latency_ms_bucket{stream="a",le="10"}'), 2);
  assert.equal(s.get('sy_latency_ms_bucket{stream="a",le="+Inf"}'), 3);
  assert.equal(s.get('sy_latency_ms_sum{stream="a"}'), 57.5);
  assert.equal(s.get('sy_latency_ms_count{stream="a"}'), 3);
  assert.match(text, /# TYPE sy_frames_total counter/);
  assert.match(text, /# TYPE sy_latency_ms histogram/);
  assert.match(PROMETHEUS_CONTENT_TYPE, /version=0\.0\.4/);
});

Deno.test("metrics collectors run at scrape time; counters sync monotonically", () => {
  const r = new MetricsRegistry();
  const c = r.counter("sy_acq_total", "acquires", ["pool"]);
  let total = 0;
  r.collect(() => c.labels("p").syncTo(total));
  total = 5;
  assert.equal(parsePrometheusText(r.render()).get('sy_acq_total{pool="p"}'), 5);
  total = 3;
  assert.throws(() => r.render(), /expected a total >= 5, found 3/);
});

Deno.test("metrics registry rejects misuse clearly", () => {
  const r = new MetricsRegistry();
  r.counter("a_total", "x");
  assert.throws(() => r.counter("a_total", "x"), /registered twice/);
  assert.throws(() => r.gauge("bad name", "x"), /metric name/);
  assert.throws(() => r.gauge("ok", "x", ["bad-label"]), /label name/);
  assert.throws(() => r.histogram("h", "x", { bounds: [2, 1] }), /increasing bucket bounds/);
  const c = r.counter("b_total", "x", ["l"]);
  assert.throws(() => c.labels(), /expected 1 label values, found 0/);
  assert.throws(() => c.labels("v").inc(-1), /expected n >= 0/);
});
