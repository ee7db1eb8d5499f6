import assert from "node:assert/strict";
import {
  type DeadLetterInput,
  type DeadLetterPriority,
  DeadLetterQueue,
  type DeadLetterQueueOptions,
  registerDeadLetterMetrics,
  summarizePayload,
} from "../../src/telemetry/dead_letter_queue.ts";
import { MetricsRegistry } from "../../src/telemetry/metrics.ts";
import { parsePrometheusText } from "../support/prometheus_text.ts";

function input(priority: DeadLetterPriority, over: Partial<DeadLetterInput> = {}): DeadLetterInput {
  return {
    priority,
    reason: priority === "low" ? "queue_full" : "exec_report_undeliverable",
    stream: "binance:BTC-USDT:ticker",
    consumer: "strat-a",
    trace_id: "t-test-1",
    decision_id: "d-test-1",
    payload: { seq: 1 },
    ...over,
  };
}

function setup(opts: DeadLetterQueueOptions = {}) {
  const errors: { message: string; properties: Record<string, unknown> }[] = [];
  let now = 5_000;
  const dlq = new DeadLetterQueue({
    now: () => now++,
    errorLog: (message, properties) => errors.push({ message, properties }),
    ...opts,
  });
  return { dlq, errors };
}

/** Ids of every stored entry, newest first, tagged `L`/`H`. */
function stored(dlq: DeadLetterQueue): string[] {
  return dlq.query(dlq.entriesMax).entries.map((e) => `${e.priority === "low" ? "L" : "H"}${e.id}`);
}

Deno.test("dlq evicts the oldest LOW entries first, HIGH only when no low remain", async (t) => {
  const { dlq, errors } = setup({ entriesMax: 5 });
  for (const p of ["low", "high", "low", "high", "low"] as const) dlq.add(input(p));
  assert.deepEqual(stored(dlq), ["L5", "H4", "L3", "H2", "L1"]);

  await t.step("a new low entry pushes out the oldest low", () => {
    assert.equal(dlq.add(input("low")), 6);
    assert.deepEqual(stored(dlq), ["L6", "L5", "H4", "L3", "H2"]);
  });
  await t.step("a new high entry also pushes out the oldest low, not a high", () => {
    dlq.add(input("high")); // 7 evicts L3
    dlq.add(input("high")); // 8 evicts L5
    dlq.add(input("high")); // 9 evicts L6
    assert.deepEqual(stored(dlq), ["H9", "H8", "H7", "H4", "H2"]);
    assert.equal(dlq.stats().low.evicted, 4);
    assert.equal(dlq.stats().high.evicted, 0);
    assert.equal(errors.length, 0);
  });
  await t.step("a low entry is refused when only high entries are left", () => {
    assert.equal(dlq.add(input("low")), 0);
    assert.deepEqual(stored(dlq), ["H9", "H8", "H7", "H4", "H2"]);
    assert.equal(dlq.stats().low.refused, 1);
  });
  await t.step("a high entry with no low left evicts the oldest high, loudly", () => {
    const id = dlq.add(input("high", { consumer: "strat-b", trace_id: "t-order-9" }));
    assert.equal(id, 10);
    assert.deepEqual(stored(dlq), ["H10", "H9", "H8", "H7", "H4"]);
    assert.equal(dlq.stats().high.evicted, 1);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /evicted HIGH-priority entry \{id\}/);
    assert.equal(errors[0].properties.id, 2);
    assert.equal(errors[0].properties.reason, "exec_report_undeliverable");
    assert.equal(errors[0].properties.high_evictions_total, 1);
  });
  await t.step("counters add up", () => {
    const s = dlq.stats();
    assert.equal(s.entries, 5);
    assert.equal(s.low.entries, 0);
    assert.equal(s.high.entries, 5);
    assert.equal(s.low.added, 4);
    assert.equal(s.high.added, 6);
    assert.equal(s.low.added - s.low.evicted, s.low.entries);
    assert.equal(s.high.added - s.high.evicted, s.high.entries);
  });
});

Deno.test("dlq byte bound: evicts oldest low by bytes, refuses low when highs fill it", async (t) => {
  // One summary field of up to 1000 characters: an entry with a long text payload is large
  // (about 2.6 KB by the estimate) and one with a tiny payload is small (about 0.5 KB).
  const opts = { summaryFieldsMax: 1, summaryCharsMax: 1000, entriesMax: 1000 };
  const probe = setup(opts).dlq;
  probe.add(input("low", { payload: "x".repeat(1000) }));
  const big = probe.query(1).entries[0].bytes;
  assert.ok(big <= probe.entryBytesBound(), "the bound covers a real entry");
  const bytesMax = Math.max(3 * big + 10, probe.entryBytesBound());
  const fits = Math.floor(bytesMax / big);
  const { dlq, errors } = setup({ ...opts, bytesMax });
  const bigLow = () => dlq.add(input("low", { payload: "x".repeat(5000) }));
  // Same reason as the lows, so every big entry has the same estimate.
  const bigHigh = () => dlq.add(input("high", { reason: "queue_full", payload: "y".repeat(5000) }));

  await t.step("low entries beyond the byte bound push out the oldest low", () => {
    for (let i = 0; i < fits + 2; i++) bigLow();
    const s = dlq.stats();
    assert.equal(s.entries, fits);
    assert.ok(s.bytes <= bytesMax, `${s.bytes} <= ${bytesMax}`);
    assert.equal(s.low.evicted, 2);
    assert.equal(dlq.query(1).entries[0].id, fits + 2, "the newest is kept");
    assert.equal(dlq.query(100).entries.at(-1)!.id, 3, "the two oldest are gone");
  });
  await t.step("high entries take the room of low ones", () => {
    for (let i = 0; i < fits; i++) bigHigh();
    const s = dlq.stats();
    assert.equal(s.low.entries, 0);
    assert.equal(s.high.entries, fits);
    assert.ok(s.bytes <= bytesMax);
    assert.equal(errors.length, 0);
  });
  await t.step("a small low entry is refused when highs use the bytes", () => {
    assert.equal(dlq.add(input("low", { payload: "tiny" })), 0);
    assert.equal(dlq.stats().low.refused, 1);
  });
  await t.step("one more high evicts the oldest high, with an error log", () => {
    bigHigh();
    assert.equal(dlq.stats().high.evicted, 1);
    assert.equal(errors.length, 1);
    assert.ok(dlq.stats().bytes <= bytesMax);
  });
  await t.step("a byte bound smaller than one entry is refused at construction", () => {
    assert.throws(
      () => new DeadLetterQueue({ bytesMax: 100 }),
      /bytesMax: expected at least \d+ \(the largest possible entry\), found 100/,
    );
    assert.throws(
      () => new DeadLetterQueue({ entriesMax: 0 }),
      /entriesMax: expected a positive integer, found 0/,
    );
  });
});

Deno.test("dlq query filters by priority, reason, consumer, stream; newest first; limit and matched", () => {
  const { dlq } = setup();
  dlq.add(input("low", { reason: "queue_full", consumer: "a" })); // 1
  dlq.add(input("high", { reason: "order_refused", consumer: "a", stream: "" })); // 2
  dlq.add(input("low", { reason: "rate_limited", consumer: "b" })); // 3
  dlq.add(input("low", { reason: "queue_full", consumer: "b", stream: "okx:ETH-USDT:book" })); // 4
  dlq.add(input("high", { reason: "control_refused", consumer: "b", stream: "" })); // 5
  const ids = (r: { entries: { id: number }[] }) => r.entries.map((e) => e.id);
  assert.deepEqual(ids(dlq.query(10)), [5, 4, 3, 2, 1]);
  assert.deepEqual(ids(dlq.query(10, { priority: "high" })), [5, 2]);
  assert.deepEqual(ids(dlq.query(10, { priority: "low" })), [4, 3, 1]);
  assert.deepEqual(ids(dlq.query(10, { reason: "queue_full" })), [4, 1]);
  assert.deepEqual(ids(dlq.query(10, { consumer: "b", priority: "low" })), [4, 3]);
  assert.deepEqual(ids(dlq.query(10, { stream: "okx:ETH-USDT:book" })), [4]);
  assert.deepEqual(ids(dlq.query(10, { reason: "nope" })), []);
  const limited = dlq.query(2, { consumer: "b" });
  assert.deepEqual(ids(limited), [5, 4]);
  assert.equal(limited.matched, 3);
  assert.deepEqual(dlq.query(0).entries, []);
  assert.equal(dlq.query(0).matched, 5);
  assert.throws(() => dlq.query(-1), /query: expected limit a non-negative integer, found -1/);
  const e = dlq.query(1).entries[0];
  assert.equal(e.ts_ms, 5_004);
  assert.equal(e.trace_id, "t-test-1");
  assert.equal(e.decision_id, "d-test-1");
});

Deno.test("dlq stays correct across many evictions (its FIFOs compact)", () => {
  const { dlq } = setup({ entriesMax: 10 });
  for (let i = 0; i < 3000; i++) dlq.add(input("low"));
  assert.deepEqual(
    dlq.query(100).entries.map((e) => e.id),
    [3000, 2999, 2998, 2997, 2996, 2995, 2994, 2993, 2992, 2991],
  );
  for (let i = 0; i < 3000; i++) dlq.add(input("high"));
  const s = dlq.stats();
  assert.deepEqual(
    dlq.query(100).entries.map((e) => e.id),
    [6000, 5999, 5998, 5997, 5996, 5995, 5994, 5993, 5992, 5991],
  );
  assert.equal(s.entries, 10);
  assert.equal(s.low.evicted, 3000);
  assert.equal(s.high.evicted, 2990);
});

Deno.test("dlq keeps a bounded payload summary, never the payload", async (t) => {
  await t.step("objects: scalar fields, clipped strings, nested shown by shape", () => {
    class PooledLike {
      provider = "binance";
      seq = 42n;
      price = "87250.01";
      bids = [["1", "2"], ["3", "4"]];
      meta = { a: 1 };
      nan = Number.NaN;
      missing = undefined;
      fn = () => 1;
      on = true;
      nothing = null;
      note = "z".repeat(500);
    }
    const s = summarizePayload(new PooledLike(), { charsMax: 10 });
    assert.deepEqual(s, {
      provider: "binance",
      seq: "42",
      price: "87250.01",
      bids: "[array 2]",
      meta: "[object O…",
      nan: "NaN",
      on: true,
      nothing: null,
      note: "zzzzzzzzz…",
    });
  });
  await t.step("at most fieldsMax fields, then _truncated", () => {
    const wide: Record<string, number> = {};
    for (let i = 0; i < 50; i++) wide[`f${i}`] = i;
    const s = summarizePayload(wide, { fieldsMax: 3 });
    assert.deepEqual(s, { f0: 0, f1: 1, f2: 2, _truncated: true });
  });
  await t.step("bare values and failures", () => {
    assert.deepEqual(summarizePayload("hello"), { text: "hello" });
    assert.deepEqual(summarizePayload(7), { value: 7 });
    assert.deepEqual(summarizePayload([1, 2, 3]), { array_length: 3 });
    assert.deepEqual(summarizePayload(undefined), {});
    const hostile = {
      get boom(): string {
        throw new Error("getter failed");
      },
    };
    Object.defineProperty(hostile, "boom", { enumerable: true });
    assert.deepEqual(summarizePayload(hostile), { summary_error: "getter failed" });
  });
  await t.step("the entry does not change when the payload does (no reference kept)", () => {
    const { dlq } = setup();
    const payload = { seq: 1, symbol: "BTC-USDT" };
    dlq.add(input("low", { payload }));
    payload.seq = 999;
    assert.deepEqual(dlq.query(1).entries[0].payload, { seq: 1, symbol: "BTC-USDT" });
  });
  await t.step("long text fields are clipped", () => {
    const { dlq } = setup();
    dlq.add(input("low", { reason: "r".repeat(500), trace_id: "t".repeat(500) }));
    const e = dlq.query(1).entries[0];
    assert.equal(e.reason.length, 64);
    assert.equal(e.trace_id.length, 64);
    assert.ok(e.bytes <= dlq.entryBytesBound());
  });
});

Deno.test("dlq add never throws: internal failures are counted and logged", () => {
  let calls = 0;
  const errors: string[] = [];
  const dlq = new DeadLetterQueue({
    now: () => {
      if (++calls === 2) throw new Error("clock broke");
      return 1;
    },
    errorLog: (message) => errors.push(message),
  });
  assert.equal(dlq.add(input("high")), 1);
  assert.equal(dlq.add(input("high")), 0);
  assert.equal(dlq.errors, 1);
  assert.deepEqual(errors, ["dlq add failed: {error}"]);
  // A throwing error log does not lose a high entry either.
  const loud = new DeadLetterQueue({
    entriesMax: 1,
    errorLog: () => {
      throw new Error("log down");
    },
  });
  loud.add(input("high"));
  assert.equal(loud.add(input("high")), 2);
  assert.deepEqual(loud.query(5).entries.map((e) => e.id), [2]);
  assert.equal(loud.errors, 0);
});

Deno.test("dlq metrics: size, bytes, additions, evictions and refusals by priority", () => {
  const { dlq } = setup({ entriesMax: 2 });
  const metrics = new MetricsRegistry();
  registerDeadLetterMetrics(metrics, dlq);
  let s = parsePrometheusText(metrics.render());
  assert.equal(s.get('switchyard_dlq_entries{priority="low"}'), 0);
  assert.equal(s.get('switchyard_dlq_evictions_total{priority="high"}'), 0);
  assert.equal(s.get('switchyard_dlq_bound{bound="entries"}'), 2);
  dlq.add(input("low"));
  dlq.add(input("high"));
  dlq.add(input("high")); // evicts the low
  dlq.add(input("low")); // refused
  dlq.add(input("high")); // evicts a high
  s = parsePrometheusText(metrics.render());
  assert.equal(s.get('switchyard_dlq_entries{priority="low"}'), 0);
  assert.equal(s.get('switchyard_dlq_entries{priority="high"}'), 2);
  assert.equal(s.get('switchyard_dlq_bytes{priority="high"}'), dlq.stats().high.bytes);
  assert.equal(s.get('switchyard_dlq_added_total{priority="high"}'), 3);
  assert.equal(s.get('switchyard_dlq_evictions_total{priority="low"}'), 1);
  assert.equal(s.get('switchyard_dlq_evictions_total{priority="high"}'), 1);
  assert.equal(s.get('switchyard_dlq_refused_total{priority="low"}'), 1);
  assert.equal(s.get("switchyard_dlq_errors_total"), 0);
});
