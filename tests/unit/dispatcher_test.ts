import assert from "node:assert/strict";
import { type Consumer, ConsumerRegistry, type StreamKey } from "../../src/consumer/mod.ts";
import {
  type DeliveryErrorInfo,
  type DeliveryTarget,
  Dispatcher,
  RoutingTable,
} from "../../src/dispatcher/mod.ts";
import { BoundedPool, PoolMisuseError } from "../../src/pool/mod.ts";
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
  ev.bids.push("100.10", "1.5", "100.00", "2");
  ev.asks.push("100.20", "0.7");
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
