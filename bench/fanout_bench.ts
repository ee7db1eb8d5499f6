/**
 * Fan-out suite: what delivery to in-process consumers costs, and whether one slow consumer
 * hurts the others.
 *
 * (a) Cost per consumer. A pooled CanonicalEvent (a trade, or a book update with 10 levels a
 *     side) is filled, dispatched to 1, 3, 10 or 100 consumers subscribed to its stream, and
 *     every consumer drains its queue at once (`poll()`), as a strategy that keeps up does.
 *     One op = one event through dispatch, clone per consumer, enqueue, dequeue and pool
 *     release. ns/clone divides by the consumers; the marginal figure subtracts the 1-consumer
 *     row (what the 100th consumer adds). A row with the `onDelivered` latency hook shows what
 *     `switchyard_delivery_latency_ms` costs per delivery.
 * (b) Isolation. Three fast consumers (unlimited budget, callback readers) and one consumer
 *     whose token bucket allows a tenth of the stream rate, fed at a fixed rate by a 1 ms timer
 *     for a few seconds; latency is event creation (`recvTsMs`, set when the event is
 *     dispatched) to the fast consumers' handler. The baseline is the same run without the slow
 *     consumer, interleaved with it (baseline, slow, baseline, slow) so drift hits both alike.
 *
 * @module
 */

import { getHeapStatistics } from "node:v8";
import { type Consumer, ConsumerRegistry, type ConsumerStats } from "../src/consumer/mod.ts";
import { Dispatcher, RoutingTable } from "../src/dispatcher/mod.ts";
import { DeliveryLatencyMetric } from "../src/gateway/gateway_metrics.ts";
import { BoundedPool } from "../src/pool/mod.ts";
import { CanonicalEvent, type CanonicalEventData } from "../src/schema/canonical_event.ts";
import { MetricsRegistry } from "../src/telemetry/metrics.ts";
import { type BenchRow, measure } from "./harness.ts";
import type { BenchSuiteResult } from "./run.ts";

const CONSUMER_COUNTS = [1, 3, 10, 100] as const;
/** Roughly this many clones per timed round (tens of ms). */
const CLONES_PER_ROUND = 60_000;
const BOOK_LEVELS = 10;
/** Part (b): events per second, all streams together, and how long each run lasts. */
const STREAM_RATE_EVENTS_PER_SEC = 10_000;
const RUN_MS = 3000;
/** Samples from the first part of a run are dropped (JIT warm-up, first queue fills). */
const WARMUP_MS = 500;
const FAST_CONSUMERS = 3;
/** The slow consumer's budget: a tenth of the stream rate. */
const SLOW_FRACTION = 0.1;
/** Isolation target: fast p99 with the slow consumer within 2× baseline, or +1 ms. */
const ISOLATION_RATIO_MAX = 2;
const ISOLATION_SLACK_MS = 1;
/** Bytes/op below which a row counts as allocation-free. */
const ALLOCATION_NOISE_BYTES_MAX = 4;

const TIME_ORIGIN_MS = performance.timeOrigin;
const RECV_TS_MS = 1_767_225_600_000.25;

/** Keeps the last message of every drain alive, so the reads are not optimised away. */
let sink: unknown = null;

function allocatedBytes(): number {
  return (getHeapStatistics() as unknown as { total_allocated_bytes: number })
    .total_allocated_bytes;
}

function tradeTemplate(): CanonicalEventData {
  return {
    ...new CanonicalEvent().clone(),
    kind: "trade",
    provider: "binance",
    symbol: "BTC-USDT",
    seq: 1,
    seqFirst: 1,
    exchangeTsMs: 1_767_225_600_000,
    recvTsMs: RECV_TS_MS,
    tradeId: "5123456789",
    price: "87250.01000000",
    qty: "0.00120000",
    side: "buy",
  };
}

function bookUpdateTemplate(): CanonicalEventData {
  const bids: string[] = [];
  const asks: string[] = [];
  for (let i = 0; i < BOOK_LEVELS; i++) {
    bids.push((87_250 - i * 0.01).toFixed(2), (0.5 + i).toFixed(8));
    asks.push((87_250.01 + i * 0.01).toFixed(2), (0.25 + i).toFixed(8));
  }
  return {
    ...tradeTemplate(),
    kind: "book_update",
    tradeId: "",
    price: "",
    qty: "",
    side: "",
    bids,
    asks,
  };
}

function tickerTemplate(): CanonicalEventData {
  return {
    ...tradeTemplate(),
    kind: "ticker",
    tradeId: "",
    side: "",
    bidPx: "87250.00",
    bidQty: "1.25",
    askPx: "87250.01",
    askQty: "0.5",
    high: "88000.00",
    low: "86000.00",
    volume: "1234.5",
  };
}

interface FanoutSetup {
  pool: BoundedPool<CanonicalEvent>;
  dispatcher: Dispatcher<Consumer>;
  consumers: Consumer[];
  registry: ConsumerRegistry;
}

function fanoutSetup(
  count: number,
  kinds: readonly string[],
  onDelivered?: (ev: CanonicalEventData) => void,
): FanoutSetup {
  const pool = new BoundedPool<CanonicalEvent>({
    name: "bench_fanout",
    capacity: 64,
    create: () => new CanonicalEvent(),
  });
  const routes = new RoutingTable<Consumer>();
  const registry = new ConsumerRegistry({ routes, hooks: onDelivered ? { onDelivered } : {} });
  const dispatcher = new Dispatcher({ routes, pool });
  const consumers: Consumer[] = [];
  for (let i = 0; i < count; i++) {
    const c = registry.create(`bench-${i}`);
    for (const kind of kinds) {
      const r = c.subscribe({ provider: "binance", symbol: "BTC-USDT", kind: kind as "trade" });
      if (!r.ok) throw new Error(`bench: expected a subscription, found ${r.error}`);
    }
    consumers.push(c);
  }
  return { pool, dispatcher, consumers, registry };
}

/** One op: fill a pooled event, dispatch it to every consumer, let each drain. */
function fanoutRound(s: FanoutSetup, template: CanonicalEventData): (ops: number) => void {
  const { pool, dispatcher, consumers } = s;
  return (ops: number): void => {
    for (let i = 0; i < ops; i++) {
      const ev = pool.tryAcquire();
      if (ev === null) throw new Error("bench: expected a free event, found the pool exhausted");
      ev.copyFrom(template);
      ev.seq = i + 1;
      dispatcher.dispatch(ev);
      for (let j = 0; j < consumers.length; j++) {
        const c = consumers[j];
        for (let m = c.poll(); m !== undefined; m = c.poll()) sink = m;
      }
    }
  };
}

function partA(rows: BenchRow[], verdicts: string[]): void {
  const templates: [string, CanonicalEventData][] = [
    ["trade", tradeTemplate()],
    [`book_update ${BOOK_LEVELS} levels`, bookUpdateTemplate()],
  ];
  for (const [label, template] of templates) {
    const byCount = new Map<number, BenchRow>();
    for (const n of CONSUMER_COUNTS) {
      const s = fanoutSetup(n, [template.kind]);
      const ops = Math.max(200, Math.round(CLONES_PER_ROUND / n));
      const row = measure(
        `fanout ${label}`,
        `${n} consumer${n === 1 ? "" : "s"}`,
        fanoutRound(s, template),
        {
          opsPerRound: ops,
        },
      );
      const one = byCount.get(1);
      const perClone = row.nsPerOp / n;
      const marginal = one === undefined ? perClone : (row.nsPerOp - one.nsPerOp) / (n - 1);
      row.note = `${perClone.toFixed(1)} ns and ${(row.bytesPerOp / n).toFixed(0)} B per clone` +
        (one === undefined ? "" : `; marginal ${marginal.toFixed(1)} ns/consumer`);
      byCount.set(n, row);
      rows.push(row);
      s.registry.close();
    }
    const r1 = byCount.get(1)!;
    const r100 = byCount.get(100)!;
    const perClone = (r100.bytesPerOp - r1.bytesPerOp) / 99;
    const perEvent = r1.bytesPerOp - perClone;
    verdicts.push(
      `${label}: ${r1.nsPerOp.toFixed(0)} ns/event to 1 consumer, ${
        (r100.nsPerOp / 1000).toFixed(1)
      } µs to 100 (${(r100.nsPerOp / 100).toFixed(1)} ns per clone); ${
        perClone.toFixed(0)
      } B per clone (the per-consumer copy, R-18) and ${
        Math.max(0, perEvent).toFixed(0)
      } B per event whatever the fan-out${
        perEvent > ALLOCATION_NOISE_BYTES_MAX
          ? " (UNEXPECTED: the pooled event keeps its level storage across reset(), so only the clones should allocate)"
          : ""
      }`,
    );
  }

  // The delivery-latency hook: its own cost, and a 10-consumer fan-out with and without it.
  const metric = new DeliveryLatencyMetric(new MetricsRegistry());
  const ev = { ...tradeTemplate(), recvTsMs: TIME_ORIGIN_MS + performance.now() };
  const observe = measure("latency hook", "DeliveryLatencyMetric.observe", (ops) => {
    for (let i = 0; i < ops; i++) metric.observe(ev);
  }, { opsPerRound: 200_000 });
  observe.note = "one clock read + bucket update per delivered event";
  rows.push(observe);
  const plain = fanoutSetup(10, ["trade"]);
  const without = measure(
    "latency hook",
    "trade to 10 consumers, no hook",
    fanoutRound(plain, tradeTemplate()),
    {
      opsPerRound: 6000,
    },
  );
  plain.registry.close();
  const hooked = fanoutSetup(10, ["trade"], metric.observe);
  const withHook = measure(
    "latency hook",
    "trade to 10 consumers, onDelivered hook",
    fanoutRound(hooked, tradeTemplate()),
    {
      opsPerRound: 6000,
    },
  );
  hooked.registry.close();
  const extra = (withHook.nsPerOp - without.nsPerOp) / 10;
  withHook.note = `+${extra.toFixed(1)} ns per delivery`;
  rows.push(without, withHook);
  const free = observe.bytesPerOp < ALLOCATION_NOISE_BYTES_MAX;
  verdicts.push(
    `latency observe ${free ? "is allocation-free" : "ALLOCATES"} (${
      observe.bytesPerOp.toFixed(2)
    } B/op < ${ALLOCATION_NOISE_BYTES_MAX}: noise, not an object per call) and costs ${
      observe.nsPerOp.toFixed(0)
    } ns, most of it performance.now(); it adds ${extra.toFixed(0)} ns per delivery to a fan-out`,
  );
}

/** Latency samples of one consumer, ms. */
class Samples {
  readonly values: Float64Array;
  length = 0;
  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }
  push(v: number): void {
    if (this.length < this.values.length) this.values[this.length++] = v;
  }
  sorted(): Float64Array {
    return this.values.slice(0, this.length).sort();
  }
}

interface RunResult {
  fast: Samples[];
  slow: ConsumerStats | null;
  slowDelivered: number;
  /** Events the fast consumers will never receive (gaps, overflow), summed. */
  fastDropped: number;
  /** Tickers the fast consumers had replaced by a newer one still queued, summed. */
  fastCoalesced: number;
  dispatched: number;
  bytesPerEvent: number;
}

/** Part (b), one run: a fixed-rate feed to the fast consumers (and the slow one, if asked). */
async function isolationRun(withSlow: boolean): Promise<RunResult> {
  const pool = new BoundedPool<CanonicalEvent>({
    name: "bench_isolation",
    capacity: 256,
    create: () => new CanonicalEvent(),
  });
  const routes = new RoutingTable<Consumer>();
  const registry = new ConsumerRegistry({ routes });
  const dispatcher = new Dispatcher({ routes, pool });
  const kinds = ["trade", "book_update", "ticker"];
  const capacity = Math.ceil((STREAM_RATE_EVENTS_PER_SEC * (RUN_MS + 1000)) / 1000);
  let startMs = 0;
  const fast: Samples[] = [];
  for (let i = 0; i < FAST_CONSUMERS; i++) {
    const c = registry.create(`fast-${i}`);
    const samples = new Samples(capacity);
    fast.push(samples);
    for (const kind of kinds) {
      c.subscribe({ provider: "binance", symbol: "BTC-USDT", kind: kind as "trade" });
    }
    c.onEvent((msg) => {
      if (msg.type !== undefined) return;
      const now = TIME_ORIGIN_MS + performance.now();
      if (now - TIME_ORIGIN_MS - startMs >= WARMUP_MS) samples.push(now - msg.recvTsMs);
    });
  }
  let slow: Consumer | null = null;
  let slowDelivered = 0;
  if (withSlow) {
    slow = registry.create("slow", {
      rateEventsPerSec: STREAM_RATE_EVENTS_PER_SEC * SLOW_FRACTION,
    });
    for (const kind of kinds) {
      slow.subscribe({ provider: "binance", symbol: "BTC-USDT", kind: kind as "trade" });
    }
    slow.onEvent((msg) => {
      if (msg.type === undefined) slowDelivered++;
      sink = msg;
    });
  }
  // A mix like a busy book: 6 trades, 2 book updates, 2 tickers in every 10 events.
  const templates = [
    tradeTemplate(),
    tradeTemplate(),
    bookUpdateTemplate(),
    tradeTemplate(),
    tickerTemplate(),
    tradeTemplate(),
    tradeTemplate(),
    bookUpdateTemplate(),
    tradeTemplate(),
    tickerTemplate(),
  ];
  const seqs = { trade: 0, book_update: 0, ticker: 0 } as Record<string, number>;
  let dispatched = 0;
  startMs = performance.now();
  const bytesBefore = allocatedBytes();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - startMs;
      const due = Math.min(
        Math.floor((elapsed * STREAM_RATE_EVENTS_PER_SEC) / 1000),
        Math.floor((RUN_MS * STREAM_RATE_EVENTS_PER_SEC) / 1000),
      );
      const created = TIME_ORIGIN_MS + performance.now();
      while (dispatched < due) {
        const template = templates[dispatched % templates.length];
        const ev = pool.tryAcquire();
        if (ev === null) throw new Error("bench: expected a free event, found the pool exhausted");
        ev.copyFrom(template);
        const seq = ++seqs[template.kind];
        ev.seq = seq;
        ev.seqFirst = seq;
        ev.recvTsMs = created;
        dispatcher.dispatch(ev);
        dispatched++;
      }
      if (elapsed >= RUN_MS) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  // Let the fast consumers' last microtasks run.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const bytesPerEvent = (allocatedBytes() - bytesBefore) / dispatched;
  const slowStats = slow?.stats() ?? null;
  let fastDropped = 0;
  let fastCoalesced = 0;
  for (const c of registry.list()) {
    if (c === slow) continue;
    const st = c.stats();
    fastDropped += st.dropped;
    fastCoalesced += st.coalesced;
  }
  registry.close();
  return {
    fast,
    slow: slowStats,
    slowDelivered,
    fastDropped,
    fastCoalesced,
    dispatched,
    bytesPerEvent,
  };
}

function quantile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

interface LatencySummary {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

function summarize(runs: RunResult[]): LatencySummary {
  let total = 0;
  for (const r of runs) for (const s of r.fast) total += s.length;
  const all = new Float64Array(total);
  let at = 0;
  for (const r of runs) {
    for (const s of r.fast) {
      all.set(s.values.subarray(0, s.length), at);
      at += s.length;
    }
  }
  all.sort();
  return {
    samples: total,
    p50: quantile(all, 0.5),
    p99: quantile(all, 0.99),
    max: all.length > 0 ? all[all.length - 1] : NaN,
  };
}

async function partB(rows: BenchRow[], verdicts: string[]): Promise<void> {
  const baseline: RunResult[] = [];
  const withSlow: RunResult[] = [];
  for (let i = 0; i < 2; i++) {
    baseline.push(await isolationRun(false));
    withSlow.push(await isolationRun(true));
  }
  const b = summarize(baseline);
  const w = summarize(withSlow);
  const mean = (xs: RunResult[], f: (r: RunResult) => number) =>
    xs.reduce((a, r) => a + f(r), 0) / xs.length;
  const row = (name: string, s: LatencySummary, runs: RunResult[]): BenchRow => ({
    group: "slow consumer isolation",
    name,
    ops: s.samples,
    nsPerOp: s.p99 * 1e6,
    bytesPerOp: mean(runs, (r) => r.bytesPerEvent),
    note: `ns/op column = fast consumers' p99 latency; p50 ${s.p50.toFixed(3)} ms, p99 ${
      s.p99.toFixed(3)
    } ms, max ${s.max.toFixed(2)} ms; bytes/op = heap bytes per event dispatched`,
  });
  rows.push(row(`baseline: ${FAST_CONSUMERS} fast consumers`, b, baseline));
  rows.push(row(`${FAST_CONSUMERS} fast + 1 consumer at 1/10 of the rate`, w, withSlow));

  const st = withSlow.map((r) => r.slow!);
  const sum = (f: (s: ConsumerStats) => number) => st.reduce((a, s) => a + f(s), 0) / st.length;
  const slowDelivered = mean(withSlow, (r) => r.slowDelivered);
  const dispatched = mean(withSlow, (r) => r.dispatched);
  const bound = Math.max(b.p99 * ISOLATION_RATIO_MAX, b.p99 + ISOLATION_SLACK_MS);
  const met = w.p99 <= bound;
  verdicts.push(
    `isolation target "fast p99 with a slow consumer within ${ISOLATION_RATIO_MAX}× baseline or +${ISOLATION_SLACK_MS} ms": ${
      met ? "met" : "MISSED"
    } (p99 ${w.p99.toFixed(3)} ms vs baseline ${b.p99.toFixed(3)} ms; p50 ${w.p50.toFixed(3)} vs ${
      b.p50.toFixed(3)
    } ms; ${STREAM_RATE_EVENTS_PER_SEC} events/s, ${RUN_MS} ms runs, 2 each, interleaved)`,
  );
  verdicts.push(
    `the slow consumer (budget ${STREAM_RATE_EVENTS_PER_SEC * SLOW_FRACTION} events/s) received ${
      slowDelivered.toFixed(0)
    } of ${dispatched.toFixed(0)} events per run: ${
      sum((s) => s.coalesced).toFixed(0)
    } tickers coalesced, ${
      sum((s) => s.dropped).toFixed(0)
    } trades/book updates counted into gaps, ${
      sum((s) => s.gapMarkers).toFixed(1)
    } gap markers queued, throttled ${sum((s) => s.throttled).toFixed(0)} times`,
  );
  verdicts.push(
    `the fast consumers dropped ${
      mean(withSlow, (r) => r.fastDropped).toFixed(0)
    } trades/book updates per run with the slow consumer (baseline ${
      mean(baseline, (r) => r.fastDropped).toFixed(0)
    }); their tickers coalesced ${
      mean(withSlow, (r) => r.fastCoalesced / FAST_CONSUMERS).toFixed(0)
    } times per consumer and run (baseline ${
      mean(baseline, (r) => r.fastCoalesced / FAST_CONSUMERS).toFixed(0)
    }): the feed timer dispatches several tickers per tick and latest-wins keeps the newest`,
  );
}

/** Runs the suite. */
export async function run(): Promise<BenchSuiteResult> {
  const rows: BenchRow[] = [];
  const verdicts: string[] = [];
  partA(rows, verdicts);
  await partB(rows, verdicts);
  if (sink === undefined) verdicts.push("(sink)");
  return { title: "Fan-out to in-process consumers, and slow-consumer isolation", rows, verdicts };
}
