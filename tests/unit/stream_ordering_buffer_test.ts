import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type DuplicateEventInfo,
  type GapInfo,
  type LateEventInfo,
  ORDERING_MODES_DEFAULT,
  type SequenceResetInfo,
  StreamOrderingBuffer,
  type StreamOrderingOptions,
} from "../../src/dispatcher/mod.ts";
import { ManualClock } from "../../src/pool/mod.ts";
import { CanonicalEvent, type CanonicalEventLike } from "../../src/schema/canonical_event.ts";
import type { MarketEventKind } from "../../src/schema/event_kind.ts";

const RUNS = 300;

interface EventSpec {
  kind?: MarketEventKind;
  provider?: string;
  symbol?: string;
  seqFirst?: number;
  recvTsMs?: number;
}

/** A (non-pooled) canonical event; the buffer only reads it. */
function event(seq: number, spec: EventSpec = {}): CanonicalEvent {
  const ev = new CanonicalEvent();
  ev.kind = spec.kind ?? "trade";
  ev.provider = spec.provider ?? "binance";
  ev.symbol = spec.symbol ?? "BTC-USDT";
  ev.seq = seq;
  ev.seqFirst = spec.seqFirst ?? seq;
  ev.recvTsMs = spec.recvTsMs ?? 1_700_000_000_000 + seq;
  ev.price = "100.5";
  ev.qty = "1";
  ev.side = "buy";
  return ev;
}

/** A buffer on a manual clock that records everything it reports. */
function harness(opts: Omit<StreamOrderingOptions, "clock"> = {}) {
  const clock = new ManualClock();
  const released: CanonicalEventLike[] = [];
  const late: LateEventInfo[] = [];
  const lateSeqs: number[] = [];
  const duplicates: DuplicateEventInfo[] = [];
  const gaps: GapInfo[] = [];
  const resets: SequenceResetInfo[] = [];
  const buffer = new StreamOrderingBuffer({
    onLate: (info) => {
      late.push(info);
      lateSeqs.push(info.event.seq); // borrowed: read during the call
    },
    onDuplicate: (info) => duplicates.push(info),
    onGap: (info) => gaps.push(info),
    onSequenceReset: (info) => resets.push(info),
    ...opts,
    clock,
    release: (ev) => released.push(ev),
  });
  const seqs = () => released.map((e) => e.seq);
  return { clock, buffer, released, seqs, late, lateSeqs, duplicates, gaps, resets };
}

Deno.test("in-order events are released at once, without a timer or a copy", () => {
  const h = harness();
  const offered = [1, 2, 3, 4].map((s) => event(s));
  for (const ev of offered) h.buffer.offer(ev);
  assert.deepEqual(h.seqs(), [1, 2, 3, 4]);
  // The fast path hands the offered object itself to the sink: nothing was cloned.
  for (let i = 0; i < offered.length; i++) assert.equal(h.released[i], offered[i]);
  assert.equal(h.clock.pendingTimers(), 0, "no timer while nothing is held");
  const t = h.buffer.totals();
  assert.equal(t.released, 4);
  assert.equal(t.held, 0);
  assert.equal(t.reordered + t.gapsSkipped + t.lateDropped + t.duplicatesDropped, 0);
  h.buffer.close();
});

Deno.test("a gap holds later events until the missing one arrives, then releases in order", () => {
  const h = harness();
  h.buffer.offer(event(1));
  const three = event(3);
  h.buffer.offer(three);
  h.buffer.offer(event(4));
  assert.deepEqual(h.seqs(), [1], "3 and 4 wait for 2");
  assert.equal(h.buffer.heldCount, 2);
  assert.equal(h.clock.pendingTimers(), 1, "the lateness sweep is armed");
  three.price = "999"; // the caller may reuse its object: the buffer holds a copy
  h.buffer.offer(event(2));
  assert.deepEqual(h.seqs(), [1, 2, 3, 4]);
  assert.notEqual(h.released[2], three);
  assert.equal(h.released[2].price, "100.5");
  const t = h.buffer.totals();
  assert.equal(t.reordered, 2);
  assert.equal(t.gapsSkipped, 0);
  assert.equal(t.heldMax, 2);
  h.clock.advance(50);
  assert.equal(h.clock.pendingTimers(), 0, "the sweep stops once nothing is held");
  h.buffer.close();
});

Deno.test("after latenessMs the buffer gives up the gap and releases in order", async (t) => {
  await t.step("the gap is skipped between latenessMs and latenessMs + flushIntervalMs", () => {
    const h = harness({ latenessMs: 150, flushIntervalMs: 50 });
    h.buffer.offer(event(1));
    h.buffer.offer(event(3));
    h.buffer.offer(event(4));
    h.clock.advance(149);
    assert.deepEqual(h.seqs(), [1]);
    h.clock.advance(51);
    assert.deepEqual(h.seqs(), [1, 3, 4]);
    assert.deepEqual(h.gaps, [{
      provider: "binance",
      symbol: "BTC-USDT",
      kind: "trade",
      fromSeq: 2,
      toSeq: 2,
      cause: "timeout",
    }]);
    const s = h.buffer.totals();
    assert.equal(s.releasedOnTimeout, 2);
    assert.equal(s.gapsSkipped, 1);
    assert.equal(s.seqsSkipped, 1);
    assert.equal(h.clock.pendingTimers(), 0);
    h.buffer.close();
  });

  await t.step("only gaps below an expired event are given up", () => {
    const h = harness({ latenessMs: 150, flushIntervalMs: 50 });
    h.buffer.offer(event(3));
    h.buffer.offer(event(5)); // t=0: 4 missing
    h.clock.advance(100);
    h.buffer.offer(event(8)); // t=100: 6, 7 missing; 8 has not waited yet
    h.clock.advance(50); // t=150: 5 expired
    assert.deepEqual(h.seqs(), [3, 5]);
    h.buffer.offer(event(7)); // 6 still missing
    h.clock.advance(50); // t=200: 7 and 8 have not waited 150 ms
    assert.deepEqual(h.seqs(), [3, 5]);
    h.clock.advance(100); // t=300: 8 expired (arrived t=100)
    assert.deepEqual(h.seqs(), [3, 5, 7, 8]);
    assert.deepEqual(h.gaps.map((g) => [g.fromSeq, g.toSeq]), [[4, 4], [6, 6]]);
    h.buffer.close();
  });

  await t.step("an event arriving after its gap was skipped is late, never delivered", () => {
    const h = harness();
    h.buffer.offer(event(1));
    h.buffer.offer(event(3));
    h.clock.advance(200);
    h.buffer.offer(event(2));
    assert.deepEqual(h.seqs(), [1, 3]);
    assert.equal(h.late.length, 1);
    assert.equal(h.late[0].reason, "overtaken");
    assert.equal(h.late[0].releasedUpTo, 3);
    assert.deepEqual(h.lateSeqs, [2]);
    assert.equal(h.buffer.totals().lateDropped, 1);
    h.buffer.close();
  });
});

Deno.test("a full buffer releases its lowest events in order", () => {
  const h = harness({ bufferEventsMax: 3 });
  h.buffer.offer(event(10));
  for (const s of [12, 14, 16]) h.buffer.offer(event(s));
  assert.deepEqual(h.seqs(), [10]);
  assert.equal(h.buffer.heldCount, 3);
  h.buffer.offer(event(13)); // 4 held: 12 goes (11 given up), then 13, 14 follow; 15 missing
  assert.deepEqual(h.seqs(), [10, 12, 13, 14]);
  assert.equal(h.buffer.heldCount, 1);
  const t = h.buffer.totals();
  assert.equal(t.releasedOnFull, 1);
  assert.equal(t.reordered, 2, "13 and 14 followed 12 once its gap was given up");
  assert.deepEqual(h.gaps.map((g) => [g.fromSeq, g.toSeq, g.cause]), [[11, 11, "full"]]);
  assert.equal(t.heldMax, 3, "never more than bufferEventsMax held");
  h.buffer.close();
  assert.deepEqual(h.seqs(), [10, 12, 13, 14, 16]);
});

Deno.test("exact duplicates are dropped, whether released or held", () => {
  const h = harness();
  h.buffer.offer(event(1));
  h.buffer.offer(event(2));
  h.buffer.offer(event(2));
  h.buffer.offer(event(4));
  h.buffer.offer(event(4));
  h.buffer.offer(event(1));
  h.buffer.offer(event(3));
  assert.deepEqual(h.seqs(), [1, 2, 3, 4]);
  assert.deepEqual(h.duplicates.map((d) => [d.seq, d.original]), [
    [2, "released"],
    [4, "held"],
    [1, "released"],
  ]);
  assert.equal(h.buffer.totals().duplicatesDropped, 3);
  assert.equal(h.late.length, 0);
  h.buffer.close();
});

Deno.test("an event older than the dedup window is late as below_window", () => {
  const h = harness({ dedupWindowEvents: 4 });
  for (let s = 1; s <= 10; s++) h.buffer.offer(event(s));
  h.buffer.offer(event(7)); // remembered: a duplicate
  h.buffer.offer(event(3)); // forgotten: late or duplicate, cannot tell
  assert.deepEqual(h.duplicates.map((d) => d.seq), [7]);
  assert.deepEqual(h.late.map((l) => [l.event.seq, l.reason]), [[3, "below_window"]]);
  h.buffer.close();
});

Deno.test("book diffs chain by seqFirst..seq", async (t) => {
  const diff = (first: number, last: number) =>
    event(last, { kind: "book_update", seqFirst: first });

  await t.step("a chained diff is released at once; a gap in the chain is held", () => {
    const h = harness();
    h.buffer.offer(diff(100, 105));
    h.buffer.offer(diff(106, 109));
    h.buffer.offer(diff(115, 120)); // 110..114 missing
    assert.deepEqual(h.seqs(), [105, 109]);
    h.buffer.offer(diff(110, 114));
    assert.deepEqual(h.seqs(), [105, 109, 114, 120]);
    h.buffer.close();
  });

  await t.step("an overlapping first diff after a snapshot is accepted (U <= last+1 <= u)", () => {
    const h = harness();
    h.buffer.offer(diff(100, 105));
    h.buffer.offer(diff(103, 110));
    assert.deepEqual(h.seqs(), [105, 110]);
    h.buffer.close();
  });

  await t.step("a skipped chain gap is reported in sequence units", () => {
    const h = harness();
    h.buffer.offer(diff(100, 105));
    h.buffer.offer(diff(200, 250));
    h.clock.advance(200);
    assert.deepEqual(h.seqs(), [105, 250]);
    assert.deepEqual(h.gaps.map((g) => [g.fromSeq, g.toSeq]), [[106, 199]]);
    assert.equal(h.buffer.totals().seqsSkipped, 94);
    h.buffer.close();
  });

  await t.step("a same-u diff is a duplicate", () => {
    const h = harness();
    h.buffer.offer(diff(100, 105));
    h.buffer.offer(diff(100, 105));
    assert.deepEqual(h.seqs(), [105]);
    assert.equal(h.duplicates.length, 1);
    h.buffer.close();
  });
});

Deno.test("increasing mode releases at once across gaps and drops older events", () => {
  const h = harness();
  const snap = (seq: number) => event(seq, { kind: "book_snapshot" });
  h.buffer.offer(snap(100));
  h.buffer.offer(snap(180));
  h.buffer.offer(snap(150));
  h.buffer.offer(snap(180));
  h.buffer.offer(snap(181));
  assert.deepEqual(h.seqs(), [100, 180, 181]);
  assert.equal(h.clock.pendingTimers(), 0, "nothing is ever held");
  assert.deepEqual(h.lateSeqs, [150]);
  assert.deepEqual(h.duplicates.map((d) => d.seq), [180]);
  assert.equal(h.buffer.totals().gapsSkipped, 0, "steps are not gaps in this mode");
  h.buffer.close();
});

Deno.test("receive-time ordering: tickers, klines and events without a sequence", async (t) => {
  await t.step("tickers are ordered by recvTsMs, equal times allowed, no de-duplication", () => {
    const h = harness();
    const tick = (seq: number, recvTsMs: number) => event(seq, { kind: "ticker", recvTsMs });
    h.buffer.offer(tick(500, 10));
    h.buffer.offer(tick(20, 11)); // another id space (24 h ticker): still in order by time
    h.buffer.offer(tick(20, 11));
    h.buffer.offer(tick(501, 9));
    assert.deepEqual(h.released.map((e) => e.recvTsMs), [10, 11, 11]);
    assert.deepEqual(h.late.map((l) => [l.reason, l.releasedUpTo]), [["older_recv_ts", 11]]);
    h.buffer.close();
  });

  await t.step("seq 0 falls back to recvTsMs and is never held", () => {
    const h = harness();
    h.buffer.offer(event(1));
    h.buffer.offer(event(3)); // held
    h.buffer.offer(event(0, { recvTsMs: 5 }));
    h.buffer.offer(event(0, { recvTsMs: 5 }));
    h.buffer.offer(event(0, { recvTsMs: 4 }));
    assert.deepEqual(h.released.map((e) => [e.seq, e.recvTsMs]), [[1, 1_700_000_000_001], [
      0,
      5,
    ], [0, 5]]);
    assert.equal(h.late.length, 1);
    assert.equal(h.duplicates.length, 0, "seq-less events cannot be de-duplicated");
    assert.equal(h.buffer.heldCount, 1);
    h.buffer.close();
  });

  await t.step("a kind configured as none passes straight through", () => {
    const h = harness({ modes: { trade: "none" } });
    for (const s of [3, 1, 1, 2]) h.buffer.offer(event(s));
    assert.deepEqual(h.seqs(), [3, 1, 1, 2]);
    assert.equal(h.buffer.totals().passedThrough, 4);
    assert.equal(h.buffer.totals().streams, 0, "no state for pass-through kinds");
    h.buffer.close();
  });
});

Deno.test("streams are ordered independently", () => {
  const h = harness();
  h.buffer.offer(event(1));
  h.buffer.offer(event(3)); // BTC trade waits for 2
  h.buffer.offer(event(7, { symbol: "ETH-USDT" }));
  h.buffer.offer(event(8, { symbol: "ETH-USDT" }));
  h.buffer.offer(event(1, { provider: "okx" }));
  h.buffer.offer(event(5, { kind: "book_update" }));
  assert.deepEqual(
    h.released.map((e) => `${e.provider}/${e.symbol}/${e.kind}/${e.seq}`),
    [
      "binance/BTC-USDT/trade/1",
      "binance/ETH-USDT/trade/7",
      "binance/ETH-USDT/trade/8",
      "okx/BTC-USDT/trade/1",
      "binance/BTC-USDT/book_update/5",
    ],
  );
  const stats = h.buffer.streamStats();
  assert.equal(stats.length, 4);
  const btc = stats.find((s) =>
    s.symbol === "BTC-USDT" && s.kind === "trade" && s.provider === "binance"
  );
  assert.ok(btc !== undefined);
  assert.deepEqual(
    [btc.mode, btc.held, btc.heldMax, btc.released, btc.lastSeq],
    ["contiguous", 1, 1, 1, 1],
  );
  h.buffer.close();
});

Deno.test("at most streamsMax streams are tracked: the least recently used is evicted", () => {
  const h = harness({ streamsMax: 2 });
  h.buffer.offer(event(1, { symbol: "AAA-USDT" }));
  h.buffer.offer(event(3, { symbol: "AAA-USDT" })); // held
  h.buffer.offer(event(1, { symbol: "BBB-USDT" }));
  h.buffer.offer(event(2, { symbol: "BBB-USDT" })); // BBB most recent
  h.buffer.offer(event(1, { symbol: "CCC-USDT" })); // evicts AAA, flushing 3 in order
  assert.deepEqual(
    h.released.map((e) => `${e.symbol}:${e.seq}`),
    ["AAA-USDT:1", "BBB-USDT:1", "BBB-USDT:2", "AAA-USDT:3", "CCC-USDT:1"],
  );
  let t = h.buffer.totals();
  assert.equal(t.streams, 2);
  assert.equal(t.streamsEvicted, 1);
  assert.equal(t.releasedOnFlush, 1);
  assert.equal(t.released, 5, "totals keep the evicted stream's counters");
  assert.deepEqual(h.buffer.streamStats().map((s) => s.symbol), ["CCC-USDT", "BBB-USDT"]);
  h.buffer.offer(event(3, { symbol: "BBB-USDT" })); // touch BBB: CCC is now the oldest
  h.buffer.offer(event(1, { symbol: "AAA-USDT" })); // AAA starts afresh; CCC evicted
  assert.deepEqual(h.buffer.streamStats().map((s) => s.symbol), ["AAA-USDT", "BBB-USDT"]);
  t = h.buffer.totals();
  assert.equal(t.streamsEvicted, 2);
  assert.equal(h.late.length, 0);
  h.buffer.close();
});

Deno.test("a sequence that restarts below is reset after sequenceResetMs of late events", () => {
  const h = harness({ sequenceResetMs: 1000 });
  for (let s = 1000; s <= 1002; s++) h.buffer.offer(event(s));
  h.buffer.offer(event(1)); // late: the run starts
  h.clock.advance(500);
  h.buffer.offer(event(2)); // still late
  h.clock.advance(500);
  h.buffer.offer(event(3)); // 1000 ms of late-only: reset; 3 starts the new sequence
  h.buffer.offer(event(4));
  assert.deepEqual(h.seqs(), [1000, 1001, 1002, 3, 4]);
  assert.deepEqual(h.lateSeqs, [1, 2]);
  assert.deepEqual(h.resets, [{
    provider: "binance",
    symbol: "BTC-USDT",
    kind: "trade",
    releasedUpTo: 1002,
    seq: 3,
  }]);
  assert.equal(h.buffer.totals().sequenceResets, 1);
  h.buffer.close();
});

Deno.test("a release in between ends the late run: isolated late events never reset", () => {
  const h = harness({ sequenceResetMs: 1000 });
  h.buffer.offer(event(10));
  h.buffer.offer(event(5));
  h.clock.advance(600);
  h.buffer.offer(event(11));
  h.clock.advance(600);
  h.buffer.offer(event(6));
  assert.deepEqual(h.seqs(), [10, 11]);
  assert.equal(h.resets.length, 0);
  h.buffer.close();
});

Deno.test("resetStream delivers what is held and lets the stream start afresh", () => {
  const h = harness();
  h.buffer.offer(event(100));
  h.buffer.offer(event(102));
  const key = { provider: "binance", symbol: "BTC-USDT", kind: "trade" };
  assert.equal(h.buffer.resetStream(key), true);
  assert.deepEqual(h.seqs(), [100, 102]);
  h.buffer.offer(event(1));
  h.buffer.offer(event(2));
  assert.deepEqual(h.seqs(), [100, 102, 1, 2]);
  assert.equal(h.buffer.resetStream({ ...key, symbol: "ETH-USDT" }), false);
  assert.equal(h.clock.pendingTimers(), 1, "an idle timer may still be armed until it fires");
  h.clock.advance(50);
  assert.equal(h.clock.pendingTimers(), 0);
  h.buffer.close();
});

Deno.test("close releases what is held and leaves no timer; later events are never held", () => {
  const h = harness();
  h.buffer.offer(event(1));
  h.buffer.offer(event(4));
  h.buffer.offer(event(3));
  assert.equal(h.clock.pendingTimers(), 1);
  h.buffer.close();
  assert.equal(h.buffer.closed, true);
  assert.equal(h.clock.pendingTimers(), 0);
  assert.deepEqual(h.seqs(), [1, 3, 4]);
  assert.deepEqual(h.gaps.map((g) => [g.fromSeq, g.toSeq, g.cause]), [[2, 2, "flush"]]);
  h.buffer.offer(event(6));
  h.buffer.offer(event(5));
  assert.deepEqual(h.seqs(), [1, 3, 4, 6], "6 went at once; 5 is late, never out of order");
  assert.equal(h.gaps.at(-1)?.cause, "immediate");
  assert.equal(h.clock.pendingTimers(), 0);
  h.buffer.close();
});

Deno.test("latenessMs 0 never holds: gaps are skipped at once", () => {
  const h = harness({ latenessMs: 0 });
  for (const s of [1, 3, 2, 4]) h.buffer.offer(event(s));
  assert.deepEqual(h.seqs(), [1, 3, 4]);
  assert.deepEqual(h.lateSeqs, [2]);
  assert.equal(h.clock.pendingTimers(), 0);
  h.buffer.close();
});

Deno.test("holdStreamStart holds a stream's first events so they can be reordered", () => {
  const h = harness({ holdStreamStart: true });
  h.buffer.offer(event(12));
  h.buffer.offer(event(10));
  h.buffer.offer(event(11));
  assert.deepEqual(h.seqs(), []);
  h.clock.advance(200);
  assert.deepEqual(h.seqs(), [10, 11, 12]);
  assert.equal(h.gaps.length, 0, "no baseline yet, so no gap before the first event");
  h.buffer.offer(event(13));
  assert.deepEqual(h.seqs(), [10, 11, 12, 13]);
  h.buffer.close();
});

Deno.test("throwing telemetry callbacks do not break ordering", () => {
  const boom = () => {
    throw new Error("telemetry down");
  };
  const h = harness({ onLate: boom, onDuplicate: boom, onGap: boom, latenessMs: 0 });
  for (const s of [1, 1, 3, 2, 4]) h.buffer.offer(event(s));
  assert.deepEqual(h.seqs(), [1, 3, 4]);
  const t = h.buffer.totals();
  assert.deepEqual([t.duplicatesDropped, t.lateDropped, t.gapsSkipped], [1, 1, 1]);
  h.buffer.close();
});

Deno.test("options are validated with clear errors", () => {
  const release = () => {};
  const cases: [Partial<StreamOrderingOptions>, RegExp][] = [
    [{ latenessMs: -1 }, /expected a finite latenessMs >= 0, found -1/],
    [{ flushIntervalMs: 0 }, /expected a finite flushIntervalMs > 0, found 0/],
    [{ bufferEventsMax: 0 }, /expected an integer bufferEventsMax >= 1, found 0/],
    [{ streamsMax: 1.5 }, /expected an integer streamsMax >= 1, found 1.5/],
    [{ dedupWindowEvents: 0 }, /expected an integer dedupWindowEvents >= 1/],
    [{ sequenceResetMs: NaN }, /expected sequenceResetMs >= 0/],
    [
      { modes: { trade: "sorted" as "none" } },
      /expected an ordering mode \(none, contiguous, chained, increasing, recv_ts\) for "trade", found "sorted"/,
    ],
    [
      { modes: { exec_report: "none" } as StreamOrderingOptions["modes"] },
      /expected ordering modes keyed by market event kind, found "exec_report"/,
    ],
  ];
  for (const [opts, message] of cases) {
    assert.throws(() => new StreamOrderingBuffer({ ...opts, release }), message);
  }
  assert.deepEqual(Object.keys(ORDERING_MODES_DEFAULT).sort(), [
    "book_snapshot",
    "book_update",
    "kline",
    "ticker",
    "trade",
  ]);
});

/** Arrivals of one stream: which seq, when (ms on the manual clock). */
interface Arrival {
  seq: number;
  atMs: number;
}

/** Feeds arrivals in time order (ties: list order), then lets every timer run and closes. */
function run(arrivals: Arrival[], opts: Omit<StreamOrderingOptions, "clock">) {
  const h = harness({ ...opts });
  const ordered = arrivals.map((a, i) => ({ ...a, i })).sort((a, b) =>
    a.atMs - b.atMs || a.i - b.i
  );
  for (const a of ordered) {
    h.clock.advance(a.atMs - h.clock.nowMs());
    h.buffer.offer(event(a.seq));
  }
  h.clock.advance(1_000);
  h.buffer.close();
  return h;
}

/**
 * A contiguous range `start..start+n-1` sent every `spacingMs`, each delayed by less than
 * `latenessMs`, plus duplicates of some events arriving up to 3 windows later: no event arrives
 * `latenessMs` or more after an event with a higher sequence.
 */
function withinWindow(latenessMs: number) {
  return fc.record({
    start: fc.integer({ min: 2, max: 1_000_000 }), // start - 1 is a real seq, not 0
    spacingMs: fc.integer({ min: 0, max: 30 }),
    delaysMs: fc.array(fc.integer({ min: 0, max: latenessMs - 1 }), {
      minLength: 1,
      maxLength: 120,
    }),
    duplicates: fc.array(
      fc.record({ index: fc.nat(), extraMs: fc.integer({ min: 0, max: 3 * latenessMs }) }),
      { maxLength: 30 },
    ),
  }).map(({ start, spacingMs, delaysMs, duplicates }) => {
    const arrivals: Arrival[] = delaysMs.map((d, i) => ({
      seq: start + i,
      atMs: i * spacingMs + d,
    }));
    for (const dup of duplicates) {
      const original = arrivals[dup.index % delaysMs.length];
      arrivals.push({ seq: original.seq, atMs: original.atMs + dup.extraMs });
    }
    return { start, n: delaysMs.length, duplicates: duplicates.length, arrivals };
  });
}

Deno.test("property: displacement within the lateness window gives zero out-of-order, no loss", async (t) => {
  const latenessMs = 150;

  await t.step("running stream (baseline released first), any permutation in the window", () => {
    fc.assert(
      fc.property(withinWindow(latenessMs), ({ start, n, duplicates, arrivals }) => {
        const h = run([
          { seq: start - 1, atMs: 0 },
          ...arrivals.map((a) => ({ ...a, atMs: a.atMs + 1 })),
        ], {
          latenessMs,
          flushIntervalMs: 50,
        });
        const expected = Array.from({ length: n + 1 }, (_, i) => start - 1 + i);
        assert.deepEqual(h.seqs(), expected);
        assert.equal(h.late.length, 0);
        assert.equal(h.gaps.length, 0);
        assert.equal(h.duplicates.length, duplicates);
      }),
      { numRuns: RUNS },
    );
  });

  await t.step(
    "stream start with holdStreamStart: the first arrival need not be the lowest",
    () => {
      fc.assert(
        fc.property(withinWindow(latenessMs), ({ start, n, duplicates, arrivals }) => {
          const h = run(arrivals, { latenessMs, flushIntervalMs: 50, holdStreamStart: true });
          assert.deepEqual(h.seqs(), Array.from({ length: n }, (_, i) => start + i));
          assert.equal(h.late.length, 0);
          assert.equal(h.duplicates.length, duplicates);
        }),
        { numRuns: RUNS },
      );
    },
  );
});

Deno.test("property: any arrival order is released strictly increasing and fully accounted", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ seq: fc.integer({ min: 1, max: 60 }), atMs: fc.nat({ max: 2_000 }) }), {
        maxLength: 150,
      }),
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 200 }),
      fc.boolean(),
      (arrivals, latenessMs, bufferEventsMax, dedupWindowEvents, holdStreamStart) => {
        const h = run(arrivals, {
          latenessMs,
          flushIntervalMs: 50,
          bufferEventsMax,
          dedupWindowEvents,
          holdStreamStart,
          sequenceResetMs: Infinity,
        });
        const seqs = h.seqs();
        for (let i = 1; i < seqs.length; i++) {
          assert.ok(seqs[i] > seqs[i - 1], `out of order: ${seqs[i - 1]} then ${seqs[i]}`);
        }
        const t = h.buffer.totals();
        assert.equal(t.released + t.lateDropped + t.duplicatesDropped, arrivals.length);
        assert.equal(t.released, seqs.length);
        assert.equal(t.held, 0);
        assert.ok(t.heldMax <= bufferEventsMax);
        // Every distinct seq that was offered is either released or reported late/duplicate.
        const distinct = new Set(arrivals.map((a) => a.seq));
        for (const seq of distinct) {
          assert.ok(
            seqs.includes(seq) || h.lateSeqs.includes(seq) ||
              h.duplicates.some((d) => d.seq === seq),
            `seq ${seq} vanished`,
          );
        }
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("property: book diffs chained with random range lengths are reordered within the window", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ width: fc.integer({ min: 1, max: 50 }), delayMs: fc.nat({ max: 149 }) }),
        { minLength: 1, maxLength: 80 },
      ),
      (diffs) => {
        const h = harness({ latenessMs: 150, flushIntervalMs: 50 });
        const arrivals: { first: number; last: number; atMs: number; i: number }[] = [];
        let next = 1_000;
        h.buffer.offer(event(next - 1, { kind: "book_update", seqFirst: 900 }));
        diffs.forEach((d, i) => {
          arrivals.push({ first: next, last: next + d.width - 1, atMs: 1 + i * 10 + d.delayMs, i });
          next += d.width;
        });
        arrivals.sort((a, b) => a.atMs - b.atMs || a.i - b.i);
        for (const a of arrivals) {
          h.clock.advance(a.atMs - h.clock.nowMs());
          h.buffer.offer(event(a.last, { kind: "book_update", seqFirst: a.first }));
        }
        h.clock.advance(1_000);
        h.buffer.close();
        const got = h.released.map((e) => [e.seqFirst, e.seq]);
        let expectFirst = 1_000;
        assert.equal(got.length, diffs.length + 1);
        for (const [first, last] of got.slice(1)) {
          assert.equal(first, expectFirst, "each released diff chains on the previous one");
          expectFirst = last + 1;
        }
        assert.equal(h.gaps.length + h.late.length, 0);
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("an invalid seq is ordered by receive time instead of breaking the buffer", () => {
  const h = harness();
  h.buffer.offer(event(1));
  h.buffer.offer(event(3)); // held
  h.buffer.offer(event(NaN, { recvTsMs: 10 }));
  h.buffer.offer(event(-4, { recvTsMs: 11 }));
  h.buffer.offer(event(2.5, { recvTsMs: 12 }));
  assert.deepEqual(h.released.map((e) => e.recvTsMs), [1_700_000_000_001, 10, 11, 12]);
  h.clock.advance(200);
  assert.deepEqual(h.seqs().slice(-1), [3]);
  h.buffer.close();
});
