import assert from "node:assert/strict";
import {
  type Consumer,
  type ConsumerMessage,
  ConsumerRegistry,
  type DropInfo,
  MarketQueue,
  type MarketQueueListener,
  TaggedRing,
} from "../../src/consumer/mod.ts";
import { DeliveryClasses } from "../../src/consumer/mod.ts";
import { RoutingTable } from "../../src/dispatcher/mod.ts";
import { ManualClock } from "../../src/pool/clock.ts";
import type { CanonicalEventData, GapMessage } from "../../src/schema/mod.ts";
import {
  sampleBookSnapshot,
  sampleBookUpdate,
  sampleExecReport,
  sampleKline,
  sampleTicker,
  sampleTrade,
} from "../support/schema_samples.ts";

/** What the telemetry hooks saw. */
interface Seen {
  coalesced: CanonicalEventData[];
  dropped: { ev: CanonicalEventData; info: DropInfo }[];
  gaps: GapMessage[];
}

function setup(opts?: { clock?: ManualClock; rateEventsPerSec?: number; burstEvents?: number }) {
  const seen: Seen = { coalesced: [], dropped: [], gaps: [] };
  const routes = new RoutingTable<Consumer>();
  const registry = new ConsumerRegistry({
    routes,
    clock: opts?.clock,
    rateEventsPerSec: opts?.rateEventsPerSec,
    burstEvents: opts?.burstEvents,
    hooks: {
      onCoalesced: (replaced) => seen.coalesced.push(replaced),
      onDropped: (ev, info) => seen.dropped.push({ ev, info }),
      onGap: (gap) => seen.gaps.push(gap),
    },
  });
  return { routes, registry, seen };
}

/** Reads every message deliverable now (the consumer must have no other reader). */
function drain(c: Consumer): ConsumerMessage[] {
  const out: ConsumerMessage[] = [];
  for (let msg = c.poll(); msg !== undefined; msg = c.poll()) out.push(msg);
  return out;
}

function trade(seq: number, symbol = "BTC-USDT"): CanonicalEventData {
  return sampleTrade({ seq, seqFirst: seq, tradeId: String(seq), symbol });
}

/** A compact description of messages for deepEqual. */
function describe(msgs: ConsumerMessage[]): string[] {
  return msgs.map((m) => {
    switch (m.type) {
      case "gap":
        return `gap ${m.provider}/${m.symbol}/${m.kind} ${m.fromSeq}..${m.toSeq} x${m.count}`;
      case "exec_report":
        return `exec ${m.seq} ${m.clientOrderId} ${m.state}`;
      default:
        return `${m.kind} ${m.provider}/${m.symbol} ${m.seq}`;
    }
  });
}

Deno.test("a burst of 10 ticker or book-top updates delivers only the latest, while all 10 exec reports arrive in order", async (t) => {
  for (
    const [name, make] of [
      ["ticker", (seq: number) => sampleTicker({ seq, seqFirst: seq, bidPx: `${63000 + seq}` })],
      ["book_snapshot", (seq: number) => sampleBookSnapshot({ seq, seqFirst: seq })],
    ] as const
  ) {
    await t.step(name, async () => {
      const { registry, seen } = setup();
      const c = registry.create("strat-a");
      for (let i = 1; i <= 10; i++) {
        assert.equal(c.enqueue(make(i)), true, "coalescing accepts the event");
        const seq = c.enqueueExecReport(
          sampleExecReport({ consumerId: "strat-a", clientOrderId: `o${i}`, state: "ACK" }),
        );
        assert.equal(seq, i, "per-consumer exec sequence 1, 2, 3, ...");
      }
      const got: ConsumerMessage[] = [];
      for await (const msg of c.events()) {
        got.push(msg);
        if (got.length === 11) break;
      }
      assert.deepEqual(describe(got), [
        ...Array.from({ length: 10 }, (_, i) => `exec ${i + 1} o${i + 1} ACK`),
        `${name} ${make(10).provider}/${make(10).symbol} 10`,
      ]);
      assert.deepEqual(seen.coalesced.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const s = c.stats();
      assert.equal(s.coalesced, 9);
      assert.deepEqual(s.coalescedByStream.map((x) => [x.kind, x.count]), [[name, 9]]);
      assert.equal(s.dropped, 0, "coalescing is not dropping");
      assert.equal(s.delivered, 1);
      assert.equal(s.execReportsDelivered, 10);
      registry.close();
    });
  }
});

Deno.test("trades over the lossless bound become one gap marker with the right range, then delivery resumes", () => {
  const { registry, seen } = setup();
  const c = registry.create("c", { losslessEventsMax: 4 });
  for (let seq = 101; seq <= 110; seq++) c.enqueue(trade(seq));
  let s = c.stats();
  assert.equal(s.losslessQueued, 4);
  assert.equal(s.dropped, 6);
  assert.equal(s.gapsPending, 1);
  assert.equal(s.gapEventsPending, 6);
  assert.equal(seen.dropped.length, 6);
  assert.ok(seen.dropped.every((d) => d.info.reason === "gap" && d.info.consumerId === "c"));
  assert.equal(seen.gaps.length, 0, "the gap stays open until the reader catches up");

  // Reading two brings the queue to the resume mark (half the bound): the gap closes behind
  // what is queued.
  assert.deepEqual(describe(drain(c)), [
    "trade binance/BTC-USDT 101",
    "trade binance/BTC-USDT 102",
    "trade binance/BTC-USDT 103",
    "trade binance/BTC-USDT 104",
    "gap binance/BTC-USDT/trade 105..110 x6",
  ]);
  assert.deepEqual(seen.gaps, [{
    type: "gap",
    provider: "binance",
    symbol: "BTC-USDT",
    kind: "trade",
    fromSeq: 105,
    toSeq: 110,
    count: 6,
  }]);

  // Deliveries resume with the next event of the stream.
  c.enqueue(trade(111));
  c.enqueue(trade(112));
  assert.deepEqual(describe(drain(c)), [
    "trade binance/BTC-USDT 111",
    "trade binance/BTC-USDT 112",
  ]);
  s = c.stats();
  assert.equal(s.gapMarkers, 1);
  assert.equal(s.gapsDelivered, 1);
  assert.equal(s.gapsPending, 0);
  assert.equal(s.delivered, 6);
  registry.close();
});

Deno.test("a gap marker comes before the stream's next event, even when that event arrives first", () => {
  const { registry } = setup();
  const c = registry.create("c", { losslessEventsMax: 2 });
  for (let seq = 1; seq <= 5; seq++) c.enqueue(trade(seq));
  // Take one: 1 left = the resume mark, so the gap closes now, before event 6 arrives.
  assert.equal(describe([c.poll()!])[0], "trade binance/BTC-USDT 1");
  c.enqueue(trade(6));
  assert.deepEqual(describe(drain(c)), [
    "trade binance/BTC-USDT 2",
    "gap binance/BTC-USDT/trade 3..5 x3",
    "trade binance/BTC-USDT 6",
  ]);
  registry.close();
});

Deno.test("book update gaps cover the provider range of the missed diffs", () => {
  const { registry } = setup();
  const c = registry.create("c", { losslessEventsMax: 1 });
  // Diffs U..u: 100..105, 106..110, 111..120, 121..125.
  const ranges = [[100, 105], [106, 110], [111, 120], [121, 125]];
  for (const [first, last] of ranges) {
    c.enqueue(sampleBookUpdate({ seqFirst: first, seq: last }));
  }
  assert.deepEqual(describe(drain(c)), [
    "book_update binance/BTC-USDT 105",
    "gap binance/BTC-USDT/book_update 106..125 x3",
  ]);
  registry.close();
});

Deno.test("coalescing never drops other streams, and a full coalesced bound drops the newcomer", () => {
  const { registry, seen } = setup();
  const c = registry.create("c", { queueEventsMax: 3 });
  const tick = (symbol: string, seq: number) =>
    sampleTicker({ provider: "kraken", symbol, seq, seqFirst: seq });
  c.enqueue(tick("BTC-USD", 1));
  c.enqueue(tick("ETH-USD", 1));
  c.enqueue(trade(1));
  // A hot BTC ticker: every update replaces BTC's own entry, never ETH's.
  for (let seq = 2; seq <= 50; seq++) c.enqueue(tick("BTC-USD", seq));
  c.enqueue(tick("SOL-USD", 1));
  c.enqueue(tick("ETH-USD", 2));
  // A fourth stream finds the bound (3 entries) reached: it is the one dropped.
  assert.equal(c.enqueue(tick("XRP-USD", 1)), false);
  assert.deepEqual(describe(drain(c)), [
    "ticker kraken/BTC-USD 50",
    "ticker kraken/ETH-USD 2",
    "trade binance/BTC-USDT 1",
    "ticker kraken/SOL-USD 1",
  ]);
  assert.deepEqual(seen.dropped.map((d) => [d.ev.symbol, d.info.reason]), [
    ["XRP-USD", "coalesced_overflow"],
  ]);
  assert.equal(seen.coalesced.length, 50, "49 BTC updates and ETH's first were superseded");
  const s = c.stats();
  assert.equal(s.coalesced, 50);
  assert.deepEqual(s.droppedByStream.map((x) => [x.symbol, x.count]), [["XRP-USD", 1]]);
  // Delivered entries free their stream: the next update queues afresh.
  c.enqueue(tick("XRP-USD", 2));
  assert.deepEqual(describe(drain(c)), ["ticker kraken/XRP-USD 2"]);
  registry.close();
});

Deno.test("kline bars coalesce per bar: a final bar is never replaced by the next one", () => {
  const { registry } = setup();
  const c = registry.create("c");
  const bar0 = 1767225600000;
  const bar1 = bar0 + 60_000;
  c.enqueue(sampleKline({ seq: 1, openTimeMs: bar0, closed: false }));
  c.enqueue(sampleKline({ seq: 2, openTimeMs: bar0, closed: true }));
  c.enqueue(sampleKline({ seq: 3, openTimeMs: bar1, closed: false }));
  c.enqueue(sampleKline({ seq: 4, openTimeMs: bar1, closed: false }));
  c.enqueue(sampleKline({ seq: 5, interval: "5m", openTimeMs: bar0, closed: false }));
  const got = drain(c).map((m) => {
    assert.ok(m.type === undefined);
    return [m.seq, m.interval, m.closed];
  });
  assert.deepEqual(got, [[2, "1m", true], [4, "1m", false], [5, "5m", false]]);
  assert.equal(c.stats().coalesced, 2);
  registry.close();
});

Deno.test("an empty bucket coalesces market data while exec reports still flow", () => {
  const clock = new ManualClock();
  const { registry, seen } = setup({ clock, rateEventsPerSec: 10, burstEvents: 1 });
  const c = registry.create("strat-a");
  c.enqueue(sampleTicker({ seq: 1 }));
  assert.deepEqual(describe(drain(c)), ["ticker kraken/BTC-USD 1"], "the burst token");
  for (let seq = 2; seq <= 5; seq++) c.enqueue(sampleTicker({ seq }));
  c.enqueue(trade(7));
  c.enqueue(trade(8));
  c.enqueueExecReport(sampleExecReport({ clientOrderId: "o1", state: "ACK" }));
  c.enqueueExecReport(sampleExecReport({ clientOrderId: "o1", state: "FILLED" }));
  // No token: only the exec reports (free, first) come out.
  assert.deepEqual(describe(drain(c)), ["exec 1 o1 ACK", "exec 2 o1 FILLED"]);
  assert.equal(c.stats().throttled, 1);
  assert.equal(clock.pendingTimers(), 1, "a wake-up is armed for the next token");
  c.enqueue(sampleTicker({ seq: 6 }));
  clock.advance(100);
  // One token per 100 ms: the ticker's latest first (it holds its queue position), then the
  // trades, one per token, in order.
  assert.deepEqual(describe(drain(c)), ["ticker kraken/BTC-USD 6"]);
  clock.advance(100);
  assert.deepEqual(describe(drain(c)), ["trade binance/BTC-USDT 7"]);
  clock.advance(100);
  assert.deepEqual(describe(drain(c)), ["trade binance/BTC-USDT 8"]);
  assert.deepEqual(seen.coalesced.map((e) => e.seq), [2, 3, 4, 5]);
  assert.equal(c.stats().coalesced, 4);
  registry.close();
  assert.equal(clock.pendingTimers(), 0, "close clears the timer");
});

Deno.test("a throttled iterator wakes when tokens are due; gap markers pass without tokens", async () => {
  const clock = new ManualClock();
  const { registry } = setup({ clock, rateEventsPerSec: 1, burstEvents: 1 });
  const c = registry.create("c", { losslessEventsMax: 2 });
  for (let seq = 1; seq <= 4; seq++) c.enqueue(trade(seq));
  const it = c.events();
  assert.deepEqual(describe([(await it.next()).value!]), ["trade binance/BTC-USDT 1"]);
  // Queue: 2, gap(3..4). No token for 2: the iterator waits on the clock.
  let next: ConsumerMessage | undefined;
  const pending = it.next().then((r) => next = r.value);
  await Promise.resolve();
  assert.equal(next, undefined);
  clock.advance(1000);
  await pending;
  assert.deepEqual(describe([next!]), ["trade binance/BTC-USDT 2"]);
  // The gap marker needs no token: it is there at once.
  assert.deepEqual(describe([(await it.next()).value!]), ["gap binance/BTC-USDT/trade 3..4 x2"]);
  registry.close();
});

Deno.test("onEvent handlers receive the union in order: exec reports, then market data", async () => {
  const { registry } = setup();
  const c = registry.create("strat-a");
  const got: ConsumerMessage[] = [];
  c.onEvent((msg) => {
    got.push(msg);
  });
  c.enqueue(trade(1));
  c.enqueueExecReport(sampleExecReport({ clientOrderId: "o1", state: "ACK" }));
  assert.deepEqual(got, [], "nothing runs inside enqueue");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(describe(got), ["exec 1 o1 ACK", "trade binance/BTC-USDT 1"]);
  registry.close();
});

Deno.test("market queue: a pending gap per stream, other lossless streams keep queueing", () => {
  const log: string[] = [];
  const listener: MarketQueueListener = {
    coalesced: (e) => log.push(`coalesced ${e.seq}`),
    dropped: (e, reason) => log.push(`dropped ${e.symbol} ${e.seq} ${reason}`),
    gap: (g) => log.push(`gap ${g.symbol} ${g.fromSeq}..${g.toSeq}`),
  };
  const q = new MarketQueue({
    classes: new DeliveryClasses(),
    losslessEventsMax: 4,
    coalescedEventsMax: 4,
    gapStreamsMax: 1,
    listener,
  });
  for (let seq = 1; seq <= 4; seq++) q.offer(trade(seq));
  assert.equal(q.offer(trade(5)), "gap");
  assert.equal(
    q.offer(trade(1, "ETH-USDT")),
    "dropped",
    "a second pending gap exceeds gapStreamsMax",
  );
  assert.deepEqual(log, ["dropped BTC-USDT 5 gap", "dropped ETH-USDT 1 gap_untracked"]);
  q.shift();
  q.shift();
  assert.equal(q.gapsPending, 0, "closed at the resume mark (2)");
  assert.equal(q.offer(trade(2, "ETH-USDT")), "queued");
  assert.equal(q.length, 4, "2 events, the marker, ETH's event");
  assert.equal(q.clear(), 3);
  assert.throws(
    () =>
      new MarketQueue({
        classes: new DeliveryClasses(),
        losslessEventsMax: 4,
        losslessResumeEvents: 3,
        coalescedEventsMax: 1,
        gapStreamsMax: 1,
        listener,
      }),
    /expected an integer losslessResumeEvents in 0\.\.2, found 3/,
  );
});

Deno.test("tagged ring grows by doubling up to its bound and keeps FIFO order across wrap-around", () => {
  const ring = new TaggedRing<number>(40);
  let next = 0;
  let expected = 0;
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 7; i++) {
      assert.equal(ring.push(next, next % 3), true);
      next++;
    }
    for (let i = 0; i < 5; i++) {
      assert.equal(ring.peekTag(), expected % 3);
      assert.equal(ring.peek(), expected);
      assert.equal(ring.shift(), expected++);
    }
  }
  assert.equal(ring.length, 20);
  while (ring.length < 40) ring.push(next++, 0);
  assert.equal(ring.push(next, 0), false, "full at capacityMax");
  assert.equal(ring.shift(), expected);
  assert.equal(ring.clear(), 39);
  assert.equal(ring.peekTag(), -1);
  assert.equal(ring.shift(), undefined);
  assert.throws(() => new TaggedRing(0), /expected an integer ring capacityMax >= 1, found 0/);
});

Deno.test("with the system clock a throttled handler resumes on its own timer (and close clears it)", async () => {
  const { registry } = setup({ rateEventsPerSec: 200, burstEvents: 1 });
  const c = registry.create("c");
  const got: number[] = [];
  c.onEvent((msg) => {
    if (msg.type === undefined) got.push(msg.seq);
  });
  for (let seq = 1; seq <= 5; seq++) c.enqueue(trade(seq));
  const start = performance.now();
  while (got.length < 5 && performance.now() - start < 2000) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.deepEqual(got, [1, 2, 3, 4, 5]);
  assert.ok(c.stats().throttled >= 1);
  // A last event with no token left arms a timer: closing must clear it (sanitizers check).
  c.enqueue(trade(6));
  c.enqueue(trade(7));
  const throttledBefore = c.stats().throttled;
  for (let i = 0; i < 5; i++) await Promise.resolve();
  assert.equal(c.stats().throttled, throttledBefore + 1, "the drain waits on a timer now");
  registry.close();
});
