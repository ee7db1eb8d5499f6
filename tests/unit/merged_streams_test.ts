import assert from "node:assert/strict";
import {
  Conductor,
  type EventSink,
  MergedStreams,
  type MergeSuppressed,
} from "../../src/conductor/mod.ts";
import {
  type ConsumerMessage,
  ConsumerRegistry,
  type MergedMessage,
  type MergedTarget,
} from "../../src/consumer/mod.ts";
import { MergedDispatcher, MergeIdDedup, RoutingTable } from "../../src/dispatcher/mod.ts";
import { BoundedPool, ManualClock } from "../../src/pool/mod.ts";
import { CanonicalEvent } from "../../src/schema/canonical_event.ts";
import { MergedEvent, type MergedEventData } from "../../src/schema/merged_event.ts";

const EPOCH_MS = 1_700_000_000_000;

class ReleasingSink implements EventSink {
  constructor(private readonly pool: BoundedPool<CanonicalEvent>) {}
  dispatch(ev: CanonicalEvent): void {
    this.pool.release(ev);
  }
}

/** A registry over a real conductor, pools in debug mode and a manual clock. */
class Harness {
  readonly clock = new ManualClock();
  readonly events = new BoundedPool<CanonicalEvent>({
    name: "canonical",
    capacity: 16,
    create: () => new CanonicalEvent(),
    debug: true,
  });
  readonly mergedPool = new BoundedPool<MergedEvent>({
    name: "merged",
    capacity: 4,
    create: () => new MergedEvent(),
    debug: true,
  });
  readonly routes = new RoutingTable();
  readonly conductor = new Conductor({ sink: new ReleasingSink(this.events) });
  readonly suppressed: MergeSuppressed[] = [];
  readonly merged = new MergedStreams({
    conductor: this.conductor,
    pool: this.mergedPool,
    versions: this.routes,
    clock: this.clock,
    epochOffsetMs: EPOCH_MS,
    onSuppressed: (info) => this.suppressed.push(info),
  });
  readonly consumers = new ConsumerRegistry({
    routes: this.routes,
    merged: this.merged,
    clock: this.clock,
  });
  seq = 0;

  feed(provider: string, symbol = "BTC-USDT"): void {
    const ev = this.events.tryAcquire();
    assert.ok(ev !== null);
    ev.kind = "trade";
    ev.provider = provider;
    ev.symbol = symbol;
    ev.seq = ++this.seq;
    ev.seqFirst = ev.seq;
    ev.recvTsMs = EPOCH_MS + this.clock.nowMs();
    ev.exchangeTsMs = ev.recvTsMs;
    ev.tradeId = String(ev.seq);
    ev.price = "100";
    ev.qty = "1";
    ev.side = "buy";
    this.conductor.ingest(ev);
  }

  close(): void {
    this.merged.close();
    this.consumers.close();
    assert.equal(this.events.inFlightCount(), 0, "canonical pool balanced");
    assert.equal(this.mergedPool.inFlightCount(), 0, "merged pool balanced");
  }
}

function drain(poll: () => ConsumerMessage | undefined): MergedMessage[] {
  const out: MergedMessage[] = [];
  for (let m = poll(); m !== undefined; m = poll()) if (m.type === "merged") out.push(m);
  return out;
}

const SPEC = {
  symbol: "BTC-USDT",
  kind: "trade" as const,
  providers: ["okx", "binance"],
  windowMs: 100,
  maxEvents: 50,
};

Deno.test("identical merged specs share one window and each consumer gets its own clone", () => {
  const h = new Harness();
  const a = h.consumers.create("a");
  const b = h.consumers.create("b");
  const v0 = h.routes.version;
  const ra = a.mergedSubscribe(SPEC);
  assert.ok(ra.ok && ra.changed);
  assert.equal(ra.version, v0 + 1, "a merged subscription bumps the routing version");
  // Same market, providers in another order: the same stream.
  const rb = b.mergedSubscribe({ ...SPEC, providers: ["binance", "okx"] });
  assert.ok(rb.ok && rb.changed);
  assert.equal(h.merged.size, 1);
  assert.equal(h.conductor.stats().mergeStages, 1);
  const again = a.mergedSubscribe(SPEC);
  assert.ok(again.ok && !again.changed, "the same spec again is a no-op");

  h.feed("binance");
  h.feed("okx");
  h.clock.advance(100);
  const ma = drain(() => a.poll());
  const mb = drain(() => b.poll());
  assert.equal(ma.length, 1);
  assert.equal(mb.length, 1);
  assert.notEqual(ma[0], mb[0], "no two consumers share an object");
  assert.notEqual(ma[0].fragments, mb[0].fragments);
  assert.deepEqual(ma[0].providers, ["binance", "okx"]);
  assert.deepEqual(ma[0].fragments.map((f) => f.provider), ["binance", "okx"]);
  assert.equal(ma[0].mergeId, mb[0].mergeId);
  assert.equal(h.mergedPool.inFlightCount(), 0, "the pooled merged event was released");
  const ds = h.merged.dispatcher.stats();
  assert.equal(ds.dispatched, 1);
  assert.equal(ds.clones, 2);
  assert.equal(ds.enqueued, 2);
  h.close();
});

Deno.test("different specs get separate windows that do not interfere", () => {
  const h = new Harness();
  const a = h.consumers.create("a");
  const b = h.consumers.create("b");
  assert.ok(a.mergedSubscribe(SPEC).ok);
  assert.ok(b.mergedSubscribe({ ...SPEC, windowMs: 300 }).ok);
  assert.equal(h.merged.size, 2);
  h.feed("binance");
  h.feed("okx");
  h.clock.advance(100);
  assert.equal(drain(() => a.poll()).length, 1);
  assert.equal(drain(() => b.poll()).length, 0, "the 300 ms window is still open");
  h.clock.advance(200);
  const mb = drain(() => b.poll());
  assert.equal(mb.length, 1);
  assert.equal(drain(() => a.poll()).length, 0);
  h.close();
});

Deno.test("a partial window is suppressed and reported", () => {
  const h = new Harness();
  const a = h.consumers.create("a");
  assert.ok(a.mergedSubscribe(SPEC).ok);
  h.feed("binance");
  h.clock.advance(100);
  assert.equal(drain(() => a.poll()).length, 0);
  assert.equal(h.suppressed.length, 1);
  assert.deepEqual(h.suppressed[0].missing_providers, ["okx"]);
  h.close();
});

Deno.test("the last unsubscriber removes and closes the window", async (t) => {
  const h = new Harness();
  const a = h.consumers.create("a");
  const b = h.consumers.create("b");
  assert.ok(a.mergedSubscribe(SPEC).ok);
  assert.ok(b.mergedSubscribe(SPEC).ok);
  await t.step("one unsubscriber leaves the other subscribed", () => {
    const r = a.mergedUnsubscribe({ symbol: "BTC-USDT", kind: "trade", providers: SPEC.providers });
    assert.ok(r.ok && r.changed);
    assert.equal(h.merged.size, 1);
    h.feed("binance");
    h.feed("okx");
    h.clock.advance(100);
    assert.equal(drain(() => a.poll()).length, 0);
    assert.equal(drain(() => b.poll()).length, 1);
  });
  await t.step("closing the last subscriber closes the window and its timer", () => {
    h.feed("binance"); // opens a window (a timer is armed)
    assert.equal(h.clock.pendingTimers(), 1);
    b.close();
    assert.equal(h.merged.size, 0);
    assert.equal(h.conductor.stats().mergeStages, 0);
    assert.equal(h.clock.pendingTimers(), 0);
    const r = a.mergedUnsubscribe({ symbol: "BTC-USDT", kind: "trade", providers: ["okx"] });
    assert.ok(r.ok && !r.changed, "absent subscription: ok, unchanged");
  });
  h.close();
});

Deno.test("a new window for the same market replaces the consumer's earlier one", () => {
  const h = new Harness();
  const a = h.consumers.create("a");
  assert.ok(a.mergedSubscribe(SPEC).ok);
  assert.ok(a.mergedSubscribe({ ...SPEC, windowMs: 200 }).ok);
  assert.equal(h.merged.size, 1);
  assert.deepEqual(a.mergedSubscriptions().map((s) => s.windowMs), [200]);
  h.close();
});

Deno.test("an invalid spec is refused without a version step", () => {
  const h = new Harness();
  const a = h.consumers.create("a");
  const v = h.routes.version;
  const r = a.mergedSubscribe({ ...SPEC, providers: ["okx", "okx"] });
  assert.equal(r.ok, false);
  assert.equal(r.version, v);
  assert.equal(h.merged.size, 0);
  h.close();
});

Deno.test("merged dispatch releases once, drops a repeated merge id, survives a throwing target", () => {
  const pool = new BoundedPool<MergedEvent>({
    name: "merged",
    capacity: 2,
    create: () => new MergedEvent(),
    debug: true,
  });
  const got: MergedEventData[] = [];
  const ok: MergedTarget = { id: "ok", enqueueMerged: (m) => got.push(m) > 0 };
  const bad: MergedTarget = {
    id: "bad",
    enqueueMerged: () => {
      throw new Error("boom");
    },
  };
  const errors: string[] = [];
  const dispatcher = new MergedDispatcher({
    pool,
    dedup: new MergeIdDedup({ idsMax: 8 }),
    onError: (_err, id) => errors.push(id),
  });
  const make = (id: string): MergedEvent => {
    const m = pool.tryAcquire()!;
    m.mergeId = id;
    m.kind = "trade";
    m.symbol = "BTC-USDT";
    m.closeReason = "time";
    return m;
  };
  dispatcher.dispatchMerged(make("m1"), [bad, ok]);
  assert.equal(pool.inFlightCount(), 0);
  assert.equal(got.length, 1);
  assert.deepEqual(errors, ["bad"]);
  dispatcher.dispatchMerged(make("m1"), [ok]);
  assert.equal(pool.inFlightCount(), 0, "a duplicate is released too");
  assert.equal(got.length, 1, "a duplicate is not delivered");
  dispatcher.dispatchMerged(make("m2"), []);
  assert.equal(pool.inFlightCount(), 0);
  assert.deepEqual(dispatcher.stats(), {
    dispatched: 3,
    duplicates: 1,
    unrouted: 1,
    clones: 2,
    enqueued: 1,
    rejected: 0,
    failed: 1,
  });
  assert.ok(!(got[0] instanceof MergedEvent), "targets get plain clones");
});

Deno.test("a consumer's merged queue is bounded and counts drops", () => {
  const h = new Harness();
  const c = h.consumers.create("c");
  const data: MergedEventData = {
    mergeId: "x",
    routingVersion: 1,
    kind: "trade",
    symbol: "BTC-USDT",
    providers: ["a"],
    missing: [],
    windowOpenMs: 1,
    windowCloseMs: 2,
    closeReason: "time",
    fragments: [],
  };
  for (let i = 0; i < 64; i++) assert.ok(c.enqueueMerged({ ...data, mergeId: `x${i}` }));
  assert.equal(c.enqueueMerged(data), false);
  assert.equal(c.mergedStats().dropped, 1);
  assert.equal(c.mergedStats().queued, 64);
  const first = c.poll();
  assert.equal(first?.type, "merged");
  assert.equal(c.mergedStats().delivered, 1);
  h.close();
});
