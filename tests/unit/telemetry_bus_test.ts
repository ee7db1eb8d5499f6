import assert from "node:assert/strict";
import { setupLogging, teardownLogging } from "../../src/telemetry/logger.ts";
import { MetricsRegistry } from "../../src/telemetry/metrics.ts";
import {
  isTelemetryType,
  LISTENERS_MAX,
  registerTelemetryBusMetrics,
  TELEMETRY_TYPES,
  TelemetryBus,
  type TelemetryEvent,
  type TelemetryLogLevel,
} from "../../src/telemetry/telemetry_bus.ts";
import {
  IdSource,
  newDecisionId,
  newTraceId,
  NO_ID,
  PROCESS_ID_PREFIX,
} from "../../src/telemetry/trace_id.ts";
import { parsePrometheusText } from "../support/prometheus_text.ts";

interface LogLine {
  level: TelemetryLogLevel;
  message: string;
  properties: Record<string, unknown>;
}

function collector() {
  const lines: LogLine[] = [];
  const log = (level: TelemetryLogLevel, message: string, properties: Record<string, unknown>) =>
    lines.push({ level, message, properties });
  return { lines, log };
}

function dropped(count: number, consumer = "strat-a"): TelemetryEvent {
  return {
    type: "dropped",
    consumer,
    stream: "binance:BTC-USDT:ticker",
    count,
    reason: "queue_full",
    trace_id: `t-test-${count}`,
    decision_id: `d-test-${count}`,
  };
}

function duplicate(seq: number): TelemetryEvent {
  return {
    type: "duplicate",
    stream: "binance:BTC-USDT:trade",
    seq,
    trace_id: NO_ID,
    decision_id: NO_ID,
  };
}

Deno.test("trace and decision ids: tag, process prefix, counter; unique and cheap to make", async (t) => {
  await t.step("default sources share the process-random prefix", () => {
    const a = newTraceId();
    const b = newTraceId();
    const d = newDecisionId();
    assert.match(PROCESS_ID_PREFIX, /^[0-9a-f]{8}$/);
    assert.ok(a.startsWith(`t-${PROCESS_ID_PREFIX}-`), a);
    assert.ok(d.startsWith(`d-${PROCESS_ID_PREFIX}-`), d);
    assert.notEqual(a, b);
  });
  await t.step("a source counts in base 36 from 1", () => {
    const ids = new IdSource("x", { prefix: "abc" });
    assert.equal(ids.next(), "x-abc-1");
    for (let i = 0; i < 34; i++) ids.next();
    assert.equal(ids.next(), "x-abc-10"); // 36 in base 36
    assert.equal(ids.issued, 36);
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(ids.next());
    assert.equal(seen.size, 10_000);
  });
  await t.step("bad tags and prefixes are refused", () => {
    assert.throws(() => new IdSource("T"), /id tag: expected 1-8 of \[a-z0-9\]/);
    assert.throws(() => new IdSource("toolongtag"), /id tag/);
    assert.throws(() => new IdSource("t", { prefix: "has-dash" }), /id prefix: expected/);
  });
});

Deno.test("telemetry bus ring keeps the newest events up to its bound, newest first", async (t) => {
  let now = 1000;
  const bus = new TelemetryBus({ ringEventsMax: 4, log: false, now: () => now });
  for (let i = 1; i <= 10; i++) {
    now = 1000 + i;
    bus.publish(i % 2 === 0 ? duplicate(i) : dropped(i));
  }
  await t.step("bounded: only the last 4 are kept", () => {
    const all = bus.recent(100);
    assert.deepEqual(all.map((r) => r.busSeq), [10, 9, 8, 7]);
    assert.deepEqual(all.map((r) => r.tsMs), [1010, 1009, 1008, 1007]);
    assert.equal(all[0].event.type, "duplicate");
    assert.equal(bus.stats().ringSize, 4);
    assert.equal(bus.stats().ringEventsMax, 4);
  });
  await t.step("n and the type filter bound the answer", () => {
    assert.deepEqual(bus.recent(2).map((r) => r.busSeq), [10, 9]);
    assert.deepEqual(bus.recent(10, { type: "dropped" }).map((r) => r.busSeq), [9, 7]);
    assert.deepEqual(bus.recent(1, { type: "dropped" }).map((r) => r.busSeq), [9]);
    assert.deepEqual(bus.recent(10, { type: "gap" }), []);
    assert.deepEqual(bus.recent(0), []);
  });
  await t.step("a partly filled ring answers what it has", () => {
    const small = new TelemetryBus({ ringEventsMax: 8, log: false });
    small.publish(dropped(1));
    small.publish(dropped(2));
    assert.deepEqual(small.recent(10).map((r) => (r.event as { count: number }).count), [2, 1]);
  });
  await t.step("misuse throws clearly", () => {
    assert.throws(() => bus.recent(-1), /recent: expected n a non-negative integer, found -1/);
    assert.throws(
      () => new TelemetryBus({ ringEventsMax: 0 }),
      /ringEventsMax: expected a positive integer, found 0/,
    );
    assert.throws(() => new TelemetryBus({ logWindowMs: 1.5 }), /logWindowMs/);
  });
});

Deno.test("telemetry bus counts events per type and exports them as Prometheus counters", () => {
  const bus = new TelemetryBus({ log: false });
  const metrics = new MetricsRegistry();
  registerTelemetryBusMetrics(metrics, bus);
  let s = parsePrometheusText(metrics.render());
  for (const type of TELEMETRY_TYPES) {
    assert.equal(s.get(`switchyard_telemetry_events_total{type="${type}"}`), 0, type);
  }
  for (let i = 0; i < 3; i++) bus.publish(dropped(i));
  bus.publish(duplicate(7));
  bus.publish({
    type: "book.resync",
    provider: "binance",
    symbol: "BTC-USDT",
    reason: "gap",
    trace_id: NO_ID,
    decision_id: "d-x-1",
  });
  bus.publish({ type: "nope" } as unknown as TelemetryEvent);
  assert.equal(bus.count("dropped"), 3);
  assert.equal(bus.count("gap"), 0);
  const stats = bus.stats();
  assert.equal(stats.published, 5);
  assert.equal(stats.byType.duplicate, 1);
  assert.equal(stats.rejected, 1);
  s = parsePrometheusText(metrics.render());
  assert.equal(s.get('switchyard_telemetry_events_total{type="dropped"}'), 3);
  assert.equal(s.get('switchyard_telemetry_events_total{type="duplicate"}'), 1);
  assert.equal(s.get('switchyard_telemetry_events_total{type="book.resync"}'), 1);
  assert.equal(s.get("switchyard_telemetry_rejected_total"), 1);
  assert.equal(s.get('switchyard_telemetry_log_suppressed_total{type="dropped"}'), 0);
  assert.ok(isTelemetryType("consumer.slow"));
  assert.ok(!isTelemetryType("consumer"));
  assert.ok(!isTelemetryType(3));
});

Deno.test("telemetry bus logs at most N lines per type per window, then a suppressed summary", async (t) => {
  let now = 10_000;
  const { lines, log } = collector();
  const bus = new TelemetryBus({ logLinesPerWindowMax: 2, logWindowMs: 1000, log, now: () => now });

  await t.step("the first N of a window are logged, the rest counted", () => {
    for (let i = 1; i <= 5; i++) bus.publish(dropped(i));
    assert.equal(lines.length, 2);
    assert.equal(lines[0].level, "warning");
    assert.equal(lines[0].message, "dropped {count} on {stream} for {consumer} reason={reason}");
    assert.equal(lines[0].properties.count, 1);
    assert.equal(lines[0].properties.trace_id, "t-test-1");
    assert.equal(lines[1].properties.count, 2);
    assert.equal(bus.stats().logSuppressedByType.dropped, 3);
  });

  await t.step("each type has its own budget", () => {
    now += 10;
    bus.publish(duplicate(1));
    assert.equal(lines.length, 3);
    assert.equal(lines[2].level, "debug");
    assert.equal(lines[2].properties.type, "duplicate");
  });

  await t.step("still inside the window: more suppression, no summary yet", () => {
    now = 10_999;
    bus.publish(dropped(6));
    assert.equal(lines.length, 3);
    assert.equal(bus.stats().logSuppressedByType.dropped, 4);
  });

  await t.step("the next event after the window logs the summary, then itself", () => {
    now = 11_000;
    bus.publish(dropped(7));
    assert.equal(lines.length, 5);
    assert.match(lines[3].message, /^telemetry \{type\}: suppressed \{suppressed\}/);
    assert.deepEqual(lines[3].properties, {
      type: "dropped",
      suppressed: 4,
      window_ms: 1000,
      limit_per_window: 2,
    });
    assert.equal(lines[4].properties.count, 7);
  });

  await t.step("flushLogSummaries closes ended windows when no later event comes", () => {
    now = 20_000;
    for (let i = 0; i < 4; i++) bus.publish(dropped(100 + i));
    assert.equal(lines.length, 7);
    now = 20_500;
    assert.equal(bus.flushLogSummaries(), 0, "the window has not ended");
    now = 21_000;
    assert.equal(bus.flushLogSummaries(), 1);
    assert.equal(lines.length, 8);
    assert.equal(lines[7].properties.suppressed, 2);
    assert.equal(bus.flushLogSummaries(), 0, "nothing left to summarise");
    // A fresh window starts with the next event.
    now = 21_001;
    bus.publish(dropped(200));
    assert.equal(lines.length, 9);
    assert.equal(lines[8].properties.count, 200);
  });

  await t.step("totals", () => {
    const s = bus.stats();
    assert.equal(s.logSuppressedByType.dropped, 6);
    assert.equal(s.logged, 2 + 1 + 1 + 2 + 1);
    assert.equal(s.published, 5 + 1 + 1 + 1 + 4 + 1);
  });
});

Deno.test("telemetry bus log levels can be overridden per type", () => {
  const { lines, log } = collector();
  const bus = new TelemetryBus({ log, logLevels: { duplicate: "error" } });
  bus.publish(duplicate(3));
  bus.publish({
    type: "coalesced",
    consumer: "c",
    stream: "binance:BTC-USDT:ticker",
    count: 2,
    trace_id: NO_ID,
    decision_id: "d-1",
  });
  assert.deepEqual(lines.map((l) => l.level), ["error", "debug"]);
});

Deno.test("telemetry bus publish never throws: failing sinks, listeners, clocks and bad events are counted", async (t) => {
  await t.step("a throwing log sink", () => {
    const bus = new TelemetryBus({
      log: () => {
        throw new Error("sink down");
      },
    });
    bus.publish(dropped(1));
    assert.equal(bus.stats().logErrors, 1);
    assert.equal(bus.count("dropped"), 1);
    assert.equal(bus.recent(1).length, 1);
  });
  await t.step("a throwing listener does not stop the others", () => {
    const bus = new TelemetryBus({ log: false });
    const seen: string[] = [];
    bus.subscribe(() => {
      throw new Error("listener bug");
    });
    bus.subscribe((e, ts) => seen.push(`${e.type}@${ts >= 0}`));
    bus.publish(duplicate(1));
    assert.deepEqual(seen, ["duplicate@true"]);
    assert.equal(bus.stats().listenerErrors, 1);
  });
  await t.step("a throwing clock", () => {
    const bus = new TelemetryBus({
      log: false,
      now: () => {
        throw new Error("clock");
      },
    });
    bus.publish(dropped(1));
    assert.equal(bus.stats().rejected, 1);
  });
  await t.step("null and unknown events", () => {
    const bus = new TelemetryBus({ log: false });
    bus.publish(null as unknown as TelemetryEvent);
    bus.publish({ type: "dropped.nope" } as unknown as TelemetryEvent);
    assert.equal(bus.stats().rejected, 2);
    assert.equal(bus.stats().published, 0);
    assert.deepEqual(bus.recent(10), []);
  });
});

Deno.test("telemetry bus listeners: subscribe, unsubscribe, bounded count", () => {
  const bus = new TelemetryBus({ log: false });
  let calls = 0;
  const off = bus.subscribe(() => calls++);
  bus.publish(duplicate(1));
  off();
  off(); // idempotent
  bus.publish(duplicate(2));
  assert.equal(calls, 1);
  for (let i = 0; i < LISTENERS_MAX; i++) bus.subscribe(() => {});
  assert.throws(() => bus.subscribe(() => {}), /expected at most 16 listeners/);
});

Deno.test("telemetry bus default sink writes JSON lines through the logtape logger", async () => {
  const lines: string[] = [];
  await setupLogging({ level: "info", format: "json", write: (l) => lines.push(l) });
  try {
    const bus = new TelemetryBus();
    bus.publish({
      type: "merge.suppressed_partial",
      symbol: "BTC-USDT",
      kind: "trade",
      missing_providers: ["okx", "kraken"],
      merge_id: "m-42",
      trace_id: NO_ID,
      decision_id: "d-abc-1",
    });
    bus.publish(duplicate(9)); // debug: below the configured level
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]);
    assert.equal(line.level, "warning");
    assert.equal(line.logger, "switchyard.telemetry");
    assert.equal(
      line.msg,
      'merge.suppressed_partial BTC-USDT trade missing=["okx","kraken"] merge_id=m-42',
    );
    assert.equal(line.type, "merge.suppressed_partial");
    assert.equal(line.decision_id, "d-abc-1");
    assert.deepEqual(line.missing_providers, ["okx", "kraken"]);
  } finally {
    await teardownLogging();
  }
});
