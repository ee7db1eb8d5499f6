import assert from "node:assert/strict";
import {
  ANY_PROVIDER,
  Consumer,
  type ConsumerMessage,
  ConsumerRegistry,
  type ConsumerRoutes,
  EventRing,
  type StreamKey,
  validateStreamKey,
} from "../../src/consumer/mod.ts";
import { RoutingTable } from "../../src/dispatcher/mod.ts";
import { CanonicalEvent, type CanonicalEventData } from "../../src/schema/canonical_event.ts";
import type { MarketEventKind } from "../../src/schema/event_kind.ts";

const BTC_TRADES: StreamKey = { provider: "binance", symbol: "BTC-USDT", kind: "trade" };

/** A plain event clone, as the dispatcher hands to consumers. */
function clone(
  seq: number,
  provider = "binance",
  kind: MarketEventKind = "trade",
): CanonicalEventData {
  const ev = new CanonicalEvent();
  ev.kind = kind;
  ev.provider = provider;
  ev.symbol = "BTC-USDT";
  ev.seq = seq;
  ev.seqFirst = seq;
  ev.price = "100";
  ev.qty = "1";
  ev.side = "sell";
  return ev.clone();
}

/** The provider sequence of a market event message (fails on a gap marker or exec report). */
function seqOf(msg: ConsumerMessage | undefined): number {
  assert.ok(
    msg !== undefined && msg.type === undefined,
    `expected a market event, found ${JSON.stringify(msg)}`,
  );
  return msg.seq;
}

function setup(opts?: { queueEventsMax?: number; onError?: (err: unknown, id: string) => void }) {
  const routes = new RoutingTable<Consumer>();
  const registry = new ConsumerRegistry({ routes, ...opts });
  return { routes, registry };
}

/** Lets queued microtasks and promise reactions run (a real 0 ms timer, always fired). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("the routing table fulfils the consumer routes contract", () => {
  // Compile-time check that the two modules agree, plus a run-time smoke test.
  const routes: ConsumerRoutes = new RoutingTable<Consumer>();
  assert.equal(routes.version, 0);
});

Deno.test("registry creates, finds and removes consumers", async (t) => {
  const { routes, registry } = setup();

  await t.step("create registers with the routing table", () => {
    const a = registry.create("strategy-a");
    assert.equal(registry.get("strategy-a"), a);
    assert.equal(registry.size, 1);
    assert.equal(routes.hasConsumer("strategy-a"), true);
    assert.equal(a.queueEventsMax, 4096);
    const b = registry.create("strategy.b:2", { queueEventsMax: 8 });
    assert.equal(b.queueEventsMax, 8);
    assert.deepEqual(registry.list().map((c) => c.id), ["strategy-a", "strategy.b:2"]);
  });

  await t.step("bad and duplicate ids throw", () => {
    assert.throws(
      () => registry.create("strategy-a"),
      /expected a new consumer id, found "strategy-a"/,
    );
    assert.throws(() => registry.create("white space"), /expected a consumer id of 1\.\.64/);
    assert.throws(() => registry.create(""), /expected a consumer id/);
    assert.throws(
      () => registry.create("c", { queueEventsMax: 0 }),
      /expected an integer queueEventsMax in 1\.\.1048576, found 0/,
    );
    assert.equal(registry.get("c"), undefined);
    assert.equal(routes.hasConsumer("c"), false);
  });

  await t.step("removal unsubscribes everything and closes the consumer", () => {
    const a = registry.get("strategy-a")!;
    const b = registry.get("strategy.b:2")!;
    a.subscribe(BTC_TRADES);
    a.subscribe({ provider: ANY_PROVIDER, symbol: "ETH-USDT", kind: "ticker" });
    b.subscribe(BTC_TRADES);
    const before = routes.version;
    assert.equal(registry.remove("strategy-a"), true);
    assert.equal(routes.version, before + 1);
    assert.equal(a.closed, true);
    assert.equal(registry.get("strategy-a"), undefined);
    assert.equal(routes.hasConsumer("strategy-a"), false);
    assert.deepEqual(routes.lookup("binance", "BTC-USDT", "trade"), [b]);
    assert.equal(routes.lookup("okx", "ETH-USDT", "ticker").length, 0);
    assert.equal(registry.remove("strategy-a"), false);
  });

  await t.step("closing a consumer directly also removes it; the id can be reused", () => {
    registry.get("strategy.b:2")!.close();
    assert.equal(registry.size, 0);
    assert.equal(routes.snapshot().consumers.length, 0);
    const again = registry.create("strategy-a");
    assert.deepEqual(again.subscriptions(), []);
    registry.closeAll();
    assert.equal(registry.size, 0);
  });
});

Deno.test("registry refuses consumers beyond the routing table's bound", () => {
  const routes = new RoutingTable<Consumer>({ consumersMax: 1 });
  const registry = new ConsumerRegistry({ routes });
  registry.create("one");
  assert.throws(() => registry.create("two"), /expected at most 1 consumers, found 1 registered/);
  assert.equal(registry.size, 1);
});

Deno.test("a stale consumer closing late does not unregister a newer one with its id", () => {
  const { routes, registry } = setup();
  const current = registry.create("c");
  current.subscribe(BTC_TRADES);
  // Same id, never registered (as a consumer left over from an earlier session would be).
  const stale = new Consumer({ id: "c", routes });
  stale.close();
  assert.equal(routes.targetOf("c"), current);
  assert.deepEqual(routes.lookup("binance", "BTC-USDT", "trade"), [current]);
  assert.equal(registry.get("c"), current);
  current.close();
  assert.equal(routes.hasConsumer("c"), false);
});

Deno.test("consumer subscribe and unsubscribe delegate to the routing table", () => {
  const { routes, registry } = setup();
  const c = registry.create("c");
  const v = routes.version;
  assert.deepEqual(c.subscribe(BTC_TRADES), { ok: true, changed: true, version: v + 1 });
  assert.deepEqual(c.subscribe(BTC_TRADES), { ok: true, changed: false, version: v + 1 });
  assert.deepEqual(c.subscriptions(), [BTC_TRADES]);
  assert.deepEqual(routes.lookup("binance", "BTC-USDT", "trade"), [c]);
  const bad = c.subscribe({ provider: "binance", symbol: "btc", kind: "trade" });
  assert.equal(bad.ok, false);
  assert.deepEqual(c.unsubscribe(BTC_TRADES), { ok: true, changed: true, version: v + 2 });
  assert.deepEqual(c.unsubscribe(BTC_TRADES), { ok: true, changed: false, version: v + 2 });
  c.close();
  const closed = c.subscribe(BTC_TRADES);
  assert.equal(closed.ok, false);
  assert.match(!closed.ok ? closed.error : "", /consumer "c": expected an open consumer/);
});

Deno.test("async iterator preserves delivery order", async (t) => {
  await t.step("events queued before reading", async () => {
    const { registry } = setup();
    const c = registry.create("c");
    for (let seq = 1; seq <= 50; seq++) assert.equal(c.enqueue(clone(seq)), true);
    const got: number[] = [];
    for await (const ev of c.events()) {
      got.push(seqOf(ev));
      if (got.length === 50) break;
    }
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i + 1));
    c.close();
  });

  await t.step("events arriving while the reader waits, mixed with queued ones", async () => {
    const { registry } = setup();
    const c = registry.create("c");
    const got: number[] = [];
    const reading = (async () => {
      for await (const ev of c.events()) got.push(seqOf(ev));
    })();
    let seq = 0;
    for (let round = 0; round < 20; round++) {
      // Bursts of 1..3 events, then let the reader catch up (or not) before the next burst.
      for (let i = 0; i <= round % 3; i++) c.enqueue(clone(++seq));
      if (round % 2 === 0) await settle();
    }
    await settle();
    c.close();
    await reading;
    assert.deepEqual(got, Array.from({ length: seq }, (_, i) => i + 1));
    assert.equal(c.stats().delivered, seq);
  });
});

Deno.test("close ends the iterator and discards what is queued", async () => {
  const { registry } = setup();
  const c = registry.create("c");
  const it = c.events();
  const pending = it.next();
  c.close();
  assert.deepEqual(await pending, { value: undefined, done: true });
  assert.deepEqual(await it.next(), { value: undefined, done: true });

  const d = registry.create("d");
  d.enqueue(clone(1));
  d.enqueue(clone(2));
  d.close();
  assert.equal(d.enqueue(clone(3)), false);
  const s = d.stats();
  assert.equal(s.discardedOnClose, 2);
  assert.equal(s.droppedAfterClose, 1);
  assert.equal(s.queued, 0);
  let count = 0;
  for await (const _ of d.events()) count++;
  assert.equal(count, 0, "iterating a closed consumer ends at once");
});

Deno.test("a full queue drops new events and counts them per stream", () => {
  const { registry } = setup();
  const c = registry.create("c", { queueEventsMax: 3 });
  assert.equal(c.enqueue(clone(1)), true);
  assert.equal(c.enqueue(clone(2)), true);
  assert.equal(c.enqueue(clone(3)), true);
  assert.equal(c.enqueue(clone(4)), false);
  assert.equal(c.enqueue(clone(5, "okx")), false);
  assert.equal(c.enqueue(clone(6)), false);
  const s = c.stats();
  assert.equal(s.queued, 3);
  assert.equal(s.enqueued, 3);
  assert.equal(s.dropped, 3);
  assert.deepEqual(
    s.droppedByStream.map((x) => [x.provider, x.symbol, x.kind, x.count]),
    [["binance", "BTC-USDT", "trade", 2], ["okx", "BTC-USDT", "trade", 1]],
  );
  c.close();
});

Deno.test("the oldest events survive overflow; a gap marker stands for the rest, in order", async () => {
  const { registry } = setup();
  const c = registry.create("c", { queueEventsMax: 2 });
  for (let seq = 1; seq <= 5; seq++) c.enqueue(clone(seq));
  const it = c.events();
  assert.equal(seqOf((await it.next()).value), 1);
  // One lossless event left (the resume mark, half of 2): the gap is closed behind it.
  c.enqueue(clone(6));
  assert.equal(seqOf((await it.next()).value), 2);
  assert.deepEqual((await it.next()).value, {
    type: "gap",
    provider: "binance",
    symbol: "BTC-USDT",
    kind: "trade",
    fromSeq: 3,
    toSeq: 5,
    count: 3,
  });
  assert.equal(seqOf((await it.next()).value), 6);
  c.close();
});

Deno.test("one reader at a time", async (t) => {
  const { registry } = setup();
  const c = registry.create("c");

  await t.step("a second iterator or a handler beside an iterator throws", () => {
    const it = c.events();
    assert.throws(
      () => c.events(),
      /expected no other reader, found an events\(\) iterator active/,
    );
    assert.throws(() => c.onEvent(() => {}), /found an events\(\) iterator active/);
    void it.return!();
  });

  await t.step("breaking out of for-await detaches; the next reader gets what queued", async () => {
    c.enqueue(clone(1));
    for await (const ev of c.events()) {
      assert.equal(seqOf(ev), 1);
      break;
    }
    c.enqueue(clone(2));
    assert.equal(c.closed, false);
    const r = await c.events().next();
    assert.equal(seqOf(r.value), 2);
  });

  await t.step("an iterator beside a handler throws", () => {
    const d = registry.create("d");
    d.onEvent(() => {});
    assert.throws(() => d.events(), /expected no other reader, found an onEvent handler attached/);
    d.onEvent(null);
    void d.events().return!();
    d.close();
  });
  c.close();
});

Deno.test("onEvent delivers in order, after enqueue returns", async () => {
  const { registry } = setup();
  const c = registry.create("c");
  const got: number[] = [];
  c.onEvent((ev) => {
    got.push(seqOf(ev));
  });
  for (let seq = 1; seq <= 10; seq++) c.enqueue(clone(seq));
  assert.deepEqual(got, [], "no consumer code runs inside enqueue (the dispatcher's call)");
  await settle();
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  c.enqueue(clone(11));
  await settle();
  assert.deepEqual(got.at(-1), 11);
  assert.equal(c.stats().delivered, 11);
  c.close();
});

Deno.test("onEvent picks up events queued before it was attached", async () => {
  const { registry } = setup();
  const c = registry.create("c");
  c.enqueue(clone(1));
  c.enqueue(clone(2));
  const got: number[] = [];
  c.onEvent((ev) => {
    got.push(seqOf(ev));
  });
  await settle();
  assert.deepEqual(got, [1, 2]);
  c.close();
});

Deno.test("an async onEvent handler sees one event at a time", async () => {
  const { registry } = setup();
  const c = registry.create("c");
  const got: number[] = [];
  let running = 0;
  let runningMax = 0;
  c.onEvent(async (ev) => {
    running++;
    runningMax = Math.max(runningMax, running);
    await settle();
    got.push(seqOf(ev));
    running--;
  });
  for (let seq = 1; seq <= 5; seq++) c.enqueue(clone(seq));
  while (got.length < 5) await settle();
  c.enqueue(clone(6));
  while (got.length < 6) await settle();
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
  assert.equal(runningMax, 1);
  c.close();
});

Deno.test("a throwing onEvent handler is counted and reported, and delivery goes on", async () => {
  const reported: string[] = [];
  const { registry } = setup({
    onError: (err, id) => reported.push(`${id}: ${(err as Error).message}`),
  });
  const c = registry.create("c");
  const got: number[] = [];
  c.onEvent((ev) => {
    if (seqOf(ev) === 2) throw new Error("bad strategy");
    if (seqOf(ev) === 4) return Promise.reject(new Error("bad async strategy"));
    got.push(seqOf(ev));
  });
  for (let seq = 1; seq <= 5; seq++) c.enqueue(clone(seq));
  await settle();
  assert.deepEqual(got, [1, 3, 5]);
  assert.deepEqual(reported, ["c: bad strategy", "c: bad async strategy"]);
  assert.equal(c.stats().handlerErrors, 2);
  c.close();
});

Deno.test("closing from inside the handler stops delivery", async () => {
  const { registry } = setup();
  const c = registry.create("c");
  const got: number[] = [];
  c.onEvent((ev) => {
    got.push(seqOf(ev));
    if (seqOf(ev) === 2) c.close();
  });
  for (let seq = 1; seq <= 4; seq++) c.enqueue(clone(seq));
  await settle();
  assert.deepEqual(got, [1, 2]);
  assert.equal(c.stats().discardedOnClose, 2);
  assert.equal(registry.size, 0);
});

Deno.test("stream keys are validated with clear messages", () => {
  assert.equal(validateStreamKey(BTC_TRADES), null);
  assert.equal(validateStreamKey({ ...BTC_TRADES, provider: ANY_PROVIDER }), null);
  assert.match(
    validateStreamKey({ ...BTC_TRADES, provider: "BINANCE" })!,
    /^expected a provider name or "\*", found "BINANCE"$/,
  );
  assert.match(
    validateStreamKey({ ...BTC_TRADES, symbol: "BTCUSDT" })!,
    /^expected a BASE-QUOTE symbol, found "BTCUSDT"$/,
  );
  assert.match(
    validateStreamKey({ ...BTC_TRADES, kind: "candles" as MarketEventKind })!,
    /^expected a market event kind, found "candles"$/,
  );
  assert.match(validateStreamKey(null as unknown as StreamKey)!, /found null$/);
});

Deno.test("event ring is a bounded FIFO across wrap-around", () => {
  const ring = new EventRing<number>(3);
  assert.equal(ring.shift(), undefined);
  for (let round = 0; round < 5; round++) {
    assert.equal(ring.push(round * 10 + 1), true);
    assert.equal(ring.push(round * 10 + 2), true);
    assert.equal(ring.shift(), round * 10 + 1);
    assert.equal(ring.push(round * 10 + 3), true);
    assert.equal(ring.push(round * 10 + 4), true);
    assert.equal(ring.push(99), false, "full at 3");
    assert.equal(ring.length, 3);
    assert.equal(ring.shift(), round * 10 + 2);
    assert.equal(ring.shift(), round * 10 + 3);
    assert.equal(ring.shift(), round * 10 + 4);
    assert.equal(ring.length, 0);
  }
  ring.push(1);
  ring.push(2);
  assert.equal(ring.clear(), 2);
  assert.equal(ring.length, 0);
  assert.throws(() => new EventRing(0), /expected an integer ring capacity >= 1, found 0/);
});
