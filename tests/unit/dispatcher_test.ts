import assert from "node:assert/strict";
import fc from "fast-check";
import { type Consumer, ConsumerRegistry, type StreamKey } from "../../src/consumer/mod.ts";
import {
  type DeliveryErrorInfo,
  type DeliveryTarget,
  Dispatcher,
  type DuplicateEventInfo,
  type LateEventInfo,
  RoutingTable,
  type StreamOrderingOptions,
} from "../../src/dispatcher/mod.ts";
import { BoundedPool, ManualClock, PoolMisuseError } from "../../src/pool/mod.ts";
import { CanonicalEvent, type CanonicalEventData } from "../../src/schema/canonical_event.ts";
import { POISON_STRING } from "../../src/schema/poison.ts";

const BTC_BOOK: StreamKey = { provider: "binance", symbol: "BTC-USDT", kind: "book_update" };

/** A debug pool: a double release throws, released events are poisoned. */
function eventPool(capacity = 8): BoundedPool<CanonicalEvent> {
  return new BoundedPool<CanonicalEvent>({
    name: "canonical",
    capacity,
    create: () => new CanonicalEvent(),
    debug: true,
  });
}

/** Acquires and fills a book update of the BTC-USDT stream. */
function bookEvent(pool: BoundedPool<CanonicalEvent>, seq = 1): CanonicalEvent {
  const ev = pool.tryAcquire();
  assert.ok(ev !== null, "expected a free event in the test pool");
  ev.kind = "book_update";
  ev.provider = "binance";
  ev.symbol = "BTC-USDT";
  ev.seq = seq;
  ev.seqFirst = seq;
  ev.exchangeTsMs = 1_700_000_000_000 + seq;
  ev.recvTsMs = 1_700_000_000_001.5 + seq;
  ev.setBids(["100.10", "1.5", "100.00", "2"]);
  ev.pushAsk("100.20", "0.7");
  return ev;
}

/** A target that records what it gets. */
class RecordingTarget implements DeliveryTarget {
  readonly received: CanonicalEventData[] = [];
  constructor(readonly id: string, private readonly accept = true) {}
  enqueue(ev: CanonicalEventData): boolean {
    if (this.accept) this.received.push(ev);
    return this.accept;
  }
}

/** A target whose enqueue always throws. */
class ThrowingTarget implements DeliveryTarget {
  calls = 0;
  constructor(readonly id: string) {}
  enqueue(_ev: CanonicalEventData): boolean {
    this.calls++;
    throw new Error(`target ${this.id} exploded`);
  }
}

function setup<T extends DeliveryTarget>(targets: T[], opts?: {
  onError?: (err: unknown, info: DeliveryErrorInfo) => void;
}) {
  const pool = eventPool();
  const routes = new RoutingTable<T>();
  for (const t of targets) {
    assert.equal(routes.addConsumer(t).ok, true);
    assert.equal(routes.subscribe(t.id, BTC_BOOK).ok, true);
  }
  const dispatcher = new Dispatcher({ routes, pool, onError: opts?.onError });
  return { pool, routes, dispatcher };
}

Deno.test("dispatcher fans out to 0, 1 and 3 subscribers and releases once", async (t) => {
  await t.step("no subscriber: released at once and counted unrouted", () => {
    const { pool, dispatcher } = setup<RecordingTarget>([]);
    dispatcher.dispatch(bookEvent(pool));
    assert.equal(pool.inFlightCount(), 0);
    assert.equal(pool.stats().releases, 1);
    const s = dispatcher.stats();
    assert.equal(s.dispatched, 1);
    assert.equal(s.unrouted, 1);
    assert.equal(s.clones, 0);
  });

  await t.step("one subscriber gets a plain clone equal to the event", () => {
    const a = new RecordingTarget("a");
    const { pool, dispatcher } = setup([a]);
    const ev = bookEvent(pool, 7);
    const expected = ev.clone();
    dispatcher.dispatch(ev);
    assert.equal(pool.inFlightCount(), 0);
    assert.equal(pool.stats().releases, 1);
    assert.equal(a.received.length, 1);
    const got = a.received[0];
    assert.ok(!(got instanceof CanonicalEvent), "a clone is a plain object, not the pooled event");
    assert.deepEqual(got, expected);
    // The pooled original was released (and poisoned in debug mode); the clone is untouched.
    assert.equal(ev.provider, POISON_STRING);
    assert.equal(got.provider, "binance");
    assert.deepEqual(got.bids, ["100.10", "1.5", "100.00", "2"]);
  });

  await t.step("three subscribers each get an independent deep copy", () => {
    const targets = [new RecordingTarget("a"), new RecordingTarget("b"), new RecordingTarget("c")];
    const { pool, dispatcher } = setup(targets);
    dispatcher.dispatch(bookEvent(pool));
    assert.equal(pool.inFlightCount(), 0);
    assert.equal(pool.stats().releases, 1);
    const [a, b, c] = targets.map((x) => {
      assert.equal(x.received.length, 1);
      return x.received[0];
    });
    assert.notEqual(a, b);
    assert.notEqual(a.bids, b.bids);
    assert.notEqual(b.asks, c.asks);
    a.bids[0] = "999";
    a.asks.push("1", "1");
    b.price = "42";
    assert.deepEqual(b.bids, ["100.10", "1.5", "100.00", "2"]);
    assert.deepEqual(c.bids, ["100.10", "1.5", "100.00", "2"]);
    assert.deepEqual(c.asks, ["100.20", "0.7"]);
    assert.equal(c.price, "");
    const s = dispatcher.stats();
    assert.equal(s.clones, 3);
    assert.equal(s.enqueued, 3);
    assert.deepEqual(
      s.consumers.map((x) => [x.consumerId, x.enqueued]),
      [["a", 1], ["b", 1], ["c", 1]],
    );
  });
});

Deno.test("dispatcher releases the original only after every clone is enqueued", () => {
  const pool = eventPool();
  const routes = new RoutingTable();
  let original: CanonicalEvent | null = null;
  const seenInFlight: boolean[] = [];
  for (const id of ["a", "b", "c"]) {
    routes.addConsumer({
      id,
      enqueue: () => {
        seenInFlight.push(pool.isInFlight(original!));
        return true;
      },
    });
    routes.subscribe(id, BTC_BOOK);
  }
  const dispatcher = new Dispatcher({ routes, pool });
  original = bookEvent(pool);
  dispatcher.dispatch(original);
  assert.deepEqual(seenInFlight, [true, true, true]);
  assert.equal(pool.isInFlight(original), false);
  assert.equal(pool.stats().releases, 1);
});

Deno.test("dispatcher keeps the pool at zero in flight over many events", () => {
  const targets = [new RecordingTarget("a"), new RecordingTarget("b")];
  const { pool, dispatcher } = setup(targets);
  for (let seq = 1; seq <= 100; seq++) {
    dispatcher.dispatch(bookEvent(pool, seq));
    assert.equal(pool.inFlightCount(), 0);
  }
  assert.equal(pool.stats().releases, 100);
  assert.equal(pool.stats().acquires, 100);
  assert.deepEqual(targets[0].received.map((e) => e.seq), targets[1].received.map((e) => e.seq));
  assert.equal(targets[0].received.length, 100);
});

Deno.test("dispatcher refuses an event that is not in flight, before cloning", async (t) => {
  await t.step("dispatching the same event twice throws and delivers nothing more", () => {
    const a = new RecordingTarget("a");
    const { pool, dispatcher } = setup([a]);
    const ev = bookEvent(pool);
    dispatcher.dispatch(ev);
    assert.throws(() => dispatcher.dispatch(ev), /expected an event in flight in pool "canonical"/);
    assert.equal(a.received.length, 1);
    assert.equal(pool.stats().releases, 1);
  });

  await t.step("without debug the pool itself throws PoolMisuseError on the double release", () => {
    const pool = new BoundedPool<CanonicalEvent>({
      name: "plain",
      capacity: 2,
      create: () => new CanonicalEvent(),
    });
    const routes = new RoutingTable();
    const dispatcher = new Dispatcher({ routes, pool });
    const ev = bookEvent(pool);
    dispatcher.dispatch(ev);
    assert.throws(() => dispatcher.dispatch(ev), PoolMisuseError);
    assert.equal(pool.inFlightCount(), 0);
  });
});

Deno.test("a throwing subscriber neither leaks the event nor blocks the others", () => {
  const errors: [string, DeliveryErrorInfo][] = [];
  const a = new RecordingTarget("a");
  const boom = new ThrowingTarget("boom");
  const c = new RecordingTarget("c");
  const { pool, dispatcher } = setup<DeliveryTarget>([a, boom, c], {
    onError: (err, info) => errors.push([(err as Error).message, info]),
  });
  dispatcher.dispatch(bookEvent(pool));
  dispatcher.dispatch(bookEvent(pool, 2));
  assert.equal(pool.inFlightCount(), 0);
  assert.equal(pool.stats().releases, 2);
  assert.equal(a.received.length, 2);
  assert.equal(c.received.length, 2);
  assert.equal(boom.calls, 2);
  assert.equal(errors.length, 2);
  assert.deepEqual(errors[0], [
    "target boom exploded",
    { consumerId: "boom", provider: "binance", symbol: "BTC-USDT", kind: "book_update" },
  ]);
  const s = dispatcher.stats();
  assert.equal(s.failed, 2);
  assert.equal(s.enqueued, 4);
  assert.equal(s.clones, 6);
  assert.deepEqual(s.consumers.find((x) => x.consumerId === "boom"), {
    consumerId: "boom",
    enqueued: 0,
    rejected: 0,
    failed: 2,
  });
});

Deno.test("a throwing onError reporter does not stop delivery either", () => {
  const c = new RecordingTarget("c");
  const { pool, dispatcher } = setup<DeliveryTarget>([new ThrowingTarget("boom"), c], {
    onError: () => {
      throw new Error("reporter down");
    },
  });
  dispatcher.dispatch(bookEvent(pool));
  assert.equal(c.received.length, 1);
  assert.equal(pool.inFlightCount(), 0);
  assert.equal(dispatcher.stats().failed, 1);
});

Deno.test("dispatcher counts clones a subscriber refuses", () => {
  const full = new RecordingTarget("full", false);
  const ok = new RecordingTarget("ok");
  const { pool, dispatcher } = setup([full, ok]);
  dispatcher.dispatch(bookEvent(pool));
  const s = dispatcher.stats();
  assert.equal(s.rejected, 1);
  assert.equal(s.enqueued, 1);
  assert.equal(ok.received.length, 1);
  assert.equal(pool.inFlightCount(), 0);
});

Deno.test("a routing change during dispatch applies from the next event", () => {
  const pool = eventPool();
  const routes = new RoutingTable();
  const b = new RecordingTarget("b");
  // `a` unsubscribes b while the dispatcher is iterating the subscriber list.
  const a: DeliveryTarget = {
    id: "a",
    enqueue: () => {
      routes.unsubscribe("b", BTC_BOOK);
      return true;
    },
  };
  for (const t of [a, b]) {
    routes.addConsumer(t);
    routes.subscribe(t.id, BTC_BOOK);
  }
  const dispatcher = new Dispatcher({ routes, pool });
  dispatcher.dispatch(bookEvent(pool, 1));
  assert.deepEqual(b.received.map((e) => e.seq), [1], "the list being iterated is unchanged");
  dispatcher.dispatch(bookEvent(pool, 2));
  assert.deepEqual(b.received.map((e) => e.seq), [1], "the unsubscribe is effective next event");
  assert.equal(pool.inFlightCount(), 0);
});

Deno.test("dispatcher delivers an exact-plus-wildcard subscriber one clone", () => {
  const a = new RecordingTarget("a");
  const { pool, routes, dispatcher } = setup([a]);
  routes.subscribe("a", { ...BTC_BOOK, provider: "*" });
  dispatcher.dispatch(bookEvent(pool));
  assert.equal(a.received.length, 1);
  assert.equal(dispatcher.stats().clones, 1);
});

Deno.test("dispatcher stats forget consumers that were removed", () => {
  const a = new RecordingTarget("a");
  const b = new RecordingTarget("b");
  const { pool, routes, dispatcher } = setup([a, b]);
  dispatcher.dispatch(bookEvent(pool));
  assert.deepEqual(dispatcher.stats().consumers.map((x) => x.consumerId), ["a", "b"]);
  routes.removeConsumer("a");
  assert.deepEqual(dispatcher.stats().consumers.map((x) => x.consumerId), ["b"]);
  assert.equal(dispatcher.stats().enqueued, 2, "totals keep the history");
});

Deno.test("dispatcher delivers to registry consumers through the routing table", async () => {
  const pool = eventPool();
  const routes = new RoutingTable<Consumer>();
  const consumers = new ConsumerRegistry({ routes, queueEventsMax: 16 });
  const dispatcher = new Dispatcher({ routes, pool });
  const one = consumers.create("one");
  const two = consumers.create("two");
  one.subscribe(BTC_BOOK);
  two.subscribe(BTC_BOOK);
  for (let seq = 1; seq <= 3; seq++) dispatcher.dispatch(bookEvent(pool, seq));
  assert.equal(pool.inFlightCount(), 0);
  one.close();
  const seqs: number[] = [];
  const it = two.events();
  for (let i = 0; i < 3; i++) {
    const r = await it.next();
    assert.equal(r.done, false);
    seqs.push((r.value as CanonicalEventData).seq);
  }
  assert.deepEqual(seqs, [1, 2, 3]);
  dispatcher.dispatch(bookEvent(pool, 4));
  assert.equal(dispatcher.stats().unrouted, 0);
  assert.deepEqual(dispatcher.stats().consumers.map((x) => [x.consumerId, x.enqueued]), [
    ["two", 4],
  ]);
  consumers.closeAll();
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  dispatcher.dispatch(bookEvent(pool, 5));
  assert.equal(dispatcher.stats().unrouted, 1);
  assert.equal(pool.inFlightCount(), 0);
});

// ---------------------------------------------------------------------------------------------
// Per-stream ordering and de-duplication: the `ordering` option.

const BTC_TRADE: StreamKey = { provider: "binance", symbol: "BTC-USDT", kind: "trade" };

/** Acquires and fills a trade of `key`'s stream. */
function tradeEvent(
  pool: BoundedPool<CanonicalEvent>,
  seq: number,
  key = BTC_TRADE,
): CanonicalEvent {
  const ev = pool.tryAcquire();
  assert.ok(ev !== null, "expected a free event in the test pool");
  ev.kind = "trade";
  ev.provider = key.provider;
  ev.symbol = key.symbol;
  ev.seq = seq;
  ev.seqFirst = seq;
  ev.tradeId = String(seq);
  ev.price = "100.5";
  ev.qty = "0.25";
  ev.side = "sell";
  ev.exchangeTsMs = 1_700_000_000_000 + seq;
  ev.recvTsMs = 1_700_000_000_001 + seq;
  return ev;
}

/** A dispatcher with ordering on a manual clock, one recording subscriber per key given. */
function orderedSetup(opts: {
  keys?: StreamKey[];
  ordering?: Omit<StreamOrderingOptions, "clock">;
} = {}) {
  const clock = new ManualClock();
  const pool = eventPool(8);
  const routes = new RoutingTable<RecordingTarget>();
  const target = new RecordingTarget("ordered");
  routes.addConsumer(target);
  for (const key of opts.keys ?? [BTC_TRADE]) routes.subscribe(target.id, key);
  const late: LateEventInfo[] = [];
  const duplicates: DuplicateEventInfo[] = [];
  const dispatcher = new Dispatcher({
    routes,
    pool,
    ordering: {
      onLate: (info) => late.push(info),
      onDuplicate: (info) => duplicates.push(info),
      ...opts.ordering,
      clock,
    },
  });
  const seqs = () => target.received.map((e) => e.seq);
  return { clock, pool, routes, target, dispatcher, late, duplicates, seqs };
}

Deno.test("with ordering, in-order events are delivered at once with no timer", () => {
  const o = orderedSetup();
  for (let seq = 1; seq <= 20; seq++) {
    o.dispatcher.dispatch(tradeEvent(o.pool, seq));
    assert.equal(o.target.received.length, seq, "delivered inside dispatch");
    assert.equal(o.pool.inFlightCount(), 0);
  }
  assert.equal(o.clock.pendingTimers(), 0);
  const s = o.dispatcher.stats();
  assert.equal(s.dispatched, 20);
  assert.equal(s.clones, 20);
  assert.equal(s.ordering?.released, 20);
  assert.equal(s.ordering?.held, 0);
  o.dispatcher.close();
});

Deno.test("with ordering, a gap is held as a clone and the pooled original released at once", () => {
  const o = orderedSetup();
  o.dispatcher.dispatch(tradeEvent(o.pool, 1));
  o.dispatcher.dispatch(tradeEvent(o.pool, 3));
  o.dispatcher.dispatch(tradeEvent(o.pool, 4));
  assert.deepEqual(o.seqs(), [1]);
  assert.equal(o.pool.inFlightCount(), 0, "held events pin no pool capacity");
  assert.equal(o.pool.stats().releases, 3);
  assert.equal(o.dispatcher.stats().ordering?.held, 2);
  o.dispatcher.dispatch(tradeEvent(o.pool, 2));
  assert.deepEqual(o.seqs(), [1, 2, 3, 4]);
  assert.equal(o.pool.stats().releases, 4);
  assert.equal(o.pool.stats().acquires, 4);
  // The held copies arrive intact although their pooled originals were reset and poisoned.
  assert.equal(o.target.received[2].price, "100.5");
  assert.equal(o.target.received[3].tradeId, "4");
  assert.equal(o.dispatcher.stats().ordering?.reordered, 2);
  o.dispatcher.close();
});

Deno.test("late events go to onLate, never to consumers, and are released to the pool once", () => {
  const seenDuringCallback: [number, boolean][] = [];
  const pool = eventPool(8);
  const clock = new ManualClock();
  const routes = new RoutingTable<RecordingTarget>();
  const target = new RecordingTarget("late-check");
  routes.addConsumer(target);
  routes.subscribe(target.id, BTC_TRADE);
  const dispatcher = new Dispatcher({
    routes,
    pool,
    ordering: {
      clock,
      onLate: (info) => {
        const original = info.event as CanonicalEvent;
        seenDuringCallback.push([info.event.seq, pool.isInFlight(original)]);
      },
    },
  });
  dispatcher.dispatch(tradeEvent(pool, 1));
  dispatcher.dispatch(tradeEvent(pool, 3));
  clock.advance(200); // 2 given up, 3 delivered
  dispatcher.dispatch(tradeEvent(pool, 2));
  assert.deepEqual(target.received.map((e) => e.seq), [1, 3]);
  assert.deepEqual(seenDuringCallback, [[2, true]], "the callback borrows the pooled event");
  assert.equal(pool.inFlightCount(), 0);
  assert.equal(pool.stats().releases, 3);
  const s = dispatcher.stats().ordering;
  assert.equal(s?.lateDropped, 1);
  assert.equal(s?.gapsSkipped, 1);
  assert.equal(s?.releasedOnTimeout, 1);
  dispatcher.close();
});

Deno.test("duplicates are dropped, reported through onDuplicate and released once", () => {
  const o = orderedSetup();
  for (const seq of [1, 2, 2, 4, 4, 3, 1]) o.dispatcher.dispatch(tradeEvent(o.pool, seq));
  assert.deepEqual(o.seqs(), [1, 2, 3, 4]);
  assert.deepEqual(o.duplicates.map((d) => [d.seq, d.original]), [
    [2, "released"],
    [4, "held"],
    [1, "released"],
  ]);
  assert.equal(o.pool.inFlightCount(), 0);
  assert.equal(o.pool.stats().releases, 7);
  assert.equal(o.dispatcher.stats().ordering?.duplicatesDropped, 3);
  o.dispatcher.close();
});

Deno.test("the lateness sweep runs on the injected clock; close delivers the rest and clears it", () => {
  const o = orderedSetup({ ordering: { latenessMs: 150, flushIntervalMs: 50 } });
  o.dispatcher.dispatch(tradeEvent(o.pool, 1));
  o.dispatcher.dispatch(tradeEvent(o.pool, 3));
  o.clock.advance(100);
  o.dispatcher.tick(); // nothing has waited 150 ms yet
  assert.deepEqual(o.seqs(), [1]);
  o.clock.advance(100);
  assert.deepEqual(o.seqs(), [1, 3]);
  assert.equal(o.clock.pendingTimers(), 0);
  o.dispatcher.dispatch(tradeEvent(o.pool, 6));
  assert.equal(o.clock.pendingTimers(), 1);
  o.dispatcher.close();
  assert.deepEqual(o.seqs(), [1, 3, 6]);
  assert.equal(o.clock.pendingTimers(), 0);
  o.dispatcher.close(); // idempotent
  o.dispatcher.dispatch(tradeEvent(o.pool, 9)); // after close: gap skipped at once
  o.dispatcher.dispatch(tradeEvent(o.pool, 8)); // late
  assert.deepEqual(o.seqs(), [1, 3, 6, 9]);
  assert.equal(o.pool.inFlightCount(), 0);
  assert.equal(o.clock.pendingTimers(), 0);
});

Deno.test("with the system clock a held event is delivered after >= latenessMs", async () => {
  const pool = eventPool(8);
  const routes = new RoutingTable();
  const got: number[] = [];
  let onDelivered = () => {};
  const delivered = new Promise<void>((resolve) => onDelivered = resolve);
  routes.addConsumer({
    id: "timed",
    enqueue: (ev) => {
      got.push(ev.seq);
      if (ev.seq === 3) onDelivered();
      return true;
    },
  });
  routes.subscribe("timed", BTC_TRADE);
  const dispatcher = new Dispatcher({
    routes,
    pool,
    ordering: { latenessMs: 30, flushIntervalMs: 10 },
  });
  try {
    dispatcher.dispatch(tradeEvent(pool, 1));
    const heldAt = performance.now();
    dispatcher.dispatch(tradeEvent(pool, 3));
    await delivered;
    assert.ok(performance.now() - heldAt >= 29, "waited the lateness window");
    assert.deepEqual(got, [1, 3]);
    dispatcher.dispatch(tradeEvent(pool, 5)); // held again: close must clear the live timer
  } finally {
    dispatcher.close();
  }
  assert.deepEqual(got, [1, 3, 5]);
});

Deno.test("ordering stats: totals in stats(), buffer use per stream, resetStream", () => {
  const eth: StreamKey = { ...BTC_TRADE, symbol: "ETH-USDT" };
  const o = orderedSetup({ keys: [BTC_TRADE, eth] });
  o.dispatcher.dispatch(tradeEvent(o.pool, 1));
  o.dispatcher.dispatch(tradeEvent(o.pool, 3));
  o.dispatcher.dispatch(tradeEvent(o.pool, 4));
  o.dispatcher.dispatch(tradeEvent(o.pool, 50, eth));
  const streams = o.dispatcher.streamStats();
  assert.deepEqual(
    streams.map((s) => [s.symbol, s.kind, s.mode, s.held, s.heldMax, s.released]),
    [["ETH-USDT", "trade", "contiguous", 0, 0, 1], ["BTC-USDT", "trade", "contiguous", 2, 2, 1]],
  );
  assert.equal(o.dispatcher.stats().ordering?.streams, 2);
  assert.equal(o.dispatcher.resetStream(BTC_TRADE), true, "held events delivered, state gone");
  assert.deepEqual(o.seqs(), [1, 50, 3, 4]);
  o.dispatcher.dispatch(tradeEvent(o.pool, 1)); // a restarted sequence starts afresh
  assert.deepEqual(o.seqs(), [1, 50, 3, 4, 1]);
  const totals = o.dispatcher.stats().ordering;
  assert.equal(totals?.gapsSkipped, 1);
  assert.equal(totals?.releasedOnFlush, 2);
  assert.equal(totals?.released, 5);
  o.dispatcher.close();
});

Deno.test("without ordering the dispatcher fans out in arrival order, as before", () => {
  const a = new RecordingTarget("a");
  const pool = eventPool();
  const routes = new RoutingTable<RecordingTarget>();
  routes.addConsumer(a);
  routes.subscribe("a", BTC_TRADE);
  const dispatcher = new Dispatcher({ routes, pool });
  for (const seq of [3, 1, 1, 2]) dispatcher.dispatch(tradeEvent(pool, seq));
  assert.deepEqual(a.received.map((e) => e.seq), [3, 1, 1, 2]);
  assert.equal(dispatcher.stats().ordering, null);
  assert.deepEqual(dispatcher.streamStats(), []);
  assert.equal(dispatcher.resetStream(BTC_TRADE), false);
  dispatcher.tick();
  dispatcher.close();
});

Deno.test("property: interleaved streams permuted within the window reach consumers in order", () => {
  const keys: StreamKey[] = [
    BTC_TRADE,
    { ...BTC_TRADE, symbol: "ETH-USDT" },
    { ...BTC_TRADE, provider: "okx" },
  ];
  const arrival = fc.record({
    stream: fc.integer({ min: 0, max: keys.length - 1 }),
    delayMs: fc.integer({ min: 0, max: 149 }),
    duplicate: fc.boolean(),
  });
  fc.assert(
    fc.property(
      fc.array(arrival, { maxLength: 150 }),
      fc.integer({ min: 0, max: 20 }),
      (plan, spacingMs) => {
        const o = orderedSetup({ keys, ordering: { latenessMs: 150, flushIntervalMs: 50 } });
        // Each stream starts with an in-order baseline (seq 100), then its events 101, 102, ...
        const next = keys.map(() => 101);
        const arrivals: { stream: number; seq: number; atMs: number; i: number }[] = [];
        plan.forEach((p, i) => {
          const seq = next[p.stream]++;
          const atMs = 1 + i * spacingMs + p.delayMs;
          arrivals.push({ stream: p.stream, seq, atMs, i });
          if (p.duplicate) arrivals.push({ stream: p.stream, seq, atMs: atMs + p.delayMs, i });
        });
        arrivals.sort((a, b) => a.atMs - b.atMs || a.i - b.i);
        keys.forEach((key) => o.dispatcher.dispatch(tradeEvent(o.pool, 100, key)));
        for (const a of arrivals) {
          o.clock.advance(a.atMs - o.clock.nowMs());
          o.dispatcher.dispatch(tradeEvent(o.pool, a.seq, keys[a.stream]));
          assert.equal(o.pool.inFlightCount(), 0);
        }
        o.clock.advance(1_000);
        o.dispatcher.close();
        keys.forEach((key, k) => {
          const got = o.target.received
            .filter((e) => e.provider === key.provider && e.symbol === key.symbol)
            .map((e) => e.seq);
          assert.deepEqual(got, Array.from({ length: next[k] - 100 }, (_, i) => 100 + i));
        });
        assert.equal(o.late.length, 0);
        assert.equal(o.duplicates.length, plan.filter((p) => p.duplicate).length);
        assert.equal(o.pool.stats().acquires, o.pool.stats().releases);
        assert.equal(o.clock.pendingTimers(), 0);
      },
    ),
    { numRuns: 200 },
  );
});
