import assert from "node:assert/strict";
import {
  Conductor,
  type EventSink,
  type MergeLateDrop,
  type MergePoolExhausted,
  type MergeSuppressed,
  MergeWindow,
  type MergeWindowSpec,
} from "../../src/conductor/mod.ts";
import { BoundedPool, ManualClock } from "../../src/pool/mod.ts";
import { CanonicalEvent } from "../../src/schema/canonical_event.ts";
import { MergedEvent, validateMergedEvent } from "../../src/schema/merged_event.ts";

/** Epoch ms at manual clock 0: turns the manual clock into realistic receive timestamps. */
const EPOCH_MS = 1_700_000_000_000;

function canonicalPool(): BoundedPool<CanonicalEvent> {
  return new BoundedPool<CanonicalEvent>({
    name: "canonical",
    capacity: 16,
    create: () => new CanonicalEvent(),
    debug: true,
  });
}

function mergedPool(capacity = 8): BoundedPool<MergedEvent> {
  return new BoundedPool<MergedEvent>({
    name: "merged",
    capacity,
    create: () => new MergedEvent(),
    debug: true,
  });
}

/** Releases like the dispatcher does. */
class ReleasingSink implements EventSink {
  dispatched = 0;
  constructor(private readonly pool: BoundedPool<CanonicalEvent>) {}
  dispatch(ev: CanonicalEvent): void {
    this.dispatched++;
    this.pool.release(ev);
  }
}

/** A stage with its clock, pools and everything its callbacks reported. */
class Harness {
  readonly clock = new ManualClock();
  readonly events = canonicalPool();
  readonly merged: BoundedPool<MergedEvent>;
  readonly emitted: MergedEvent[] = [];
  readonly suppressed: MergeSuppressed[] = [];
  readonly late: MergeLateDrop[] = [];
  readonly exhausted: MergePoolExhausted[] = [];
  routingVersion = 7;
  seq = 0;

  constructor(mergedCapacity = 8) {
    this.merged = mergedPool(mergedCapacity);
  }

  stage(spec: Partial<MergeWindowSpec>, timer = true): MergeWindow {
    return new MergeWindow(
      { symbol: "BTC-USDT", kind: "trade", providers: ["a", "b", "c"], ...spec },
      {
        pool: this.merged,
        clock: this.clock,
        timer,
        epochOffsetMs: EPOCH_MS,
        mergeIdPrefix: "t",
        routingVersion: () => this.routingVersion,
        emit: (m) => this.emitted.push(m),
        onSuppressed: (info) => this.suppressed.push(info),
        onLateDrop: (info) => this.late.push(info),
        onPoolExhausted: (info) => this.exhausted.push(info),
      },
    );
  }

  /** A pooled trade received now (or at `recvClockMs` on the manual clock). */
  event(provider: string, recvClockMs = this.clock.nowMs(), symbol = "BTC-USDT"): CanonicalEvent {
    const ev = this.events.tryAcquire();
    assert.ok(ev !== null, "expected a free event in the test pool");
    ev.kind = "trade";
    ev.provider = provider;
    ev.symbol = symbol;
    ev.seq = ++this.seq;
    ev.seqFirst = ev.seq;
    ev.exchangeTsMs = EPOCH_MS + recvClockMs;
    ev.recvTsMs = EPOCH_MS + recvClockMs;
    ev.tradeId = String(ev.seq);
    ev.price = "100.5";
    ev.qty = "0.25";
    ev.side = "buy";
    return ev;
  }

  /** Shows a fresh event to `stage` and releases it, as the conductor and dispatcher would. */
  feed(stage: MergeWindow, provider: string, recvClockMs?: number): void {
    const ev = this.event(provider, recvClockMs);
    stage.observe(ev);
    this.events.release(ev);
  }

  releaseAll(): void {
    for (const m of this.emitted.splice(0)) this.merged.release(m);
  }
}

Deno.test("a window closes by count before its time runs out", () => {
  const h = new Harness();
  const stage = h.stage({ providers: ["a", "b"], maxEvents: 3 });
  h.feed(stage, "a");
  h.clock.advance(1);
  h.feed(stage, "b");
  assert.equal(stage.isOpen(), true);
  assert.equal(h.clock.pendingTimers(), 1, "one timer per open window");
  h.clock.advance(1);
  h.feed(stage, "a");
  assert.equal(stage.isOpen(), false);
  assert.equal(h.clock.pendingTimers(), 0, "the timer is cleared at a count close");
  assert.equal(h.emitted.length, 1);
  const m = h.emitted[0];
  assert.equal(m.closeReason, "count");
  assert.equal(m.fragments.length, 3);
  assert.equal(m.windowOpenMs, EPOCH_MS);
  assert.equal(m.windowCloseMs, EPOCH_MS + 2);
  assert.equal(validateMergedEvent(m), null);
  assert.equal(stage.stats().closedByCount, 1);
  h.clock.advance(20_000);
  assert.equal(h.emitted.length, 1, "nothing more fires after the close");
  h.releaseAll();
  stage.close();
});

Deno.test("a window closes by time", async (t) => {
  await t.step("on its own timer", () => {
    const h = new Harness();
    const stage = h.stage({ providers: ["a", "b"] });
    h.feed(stage, "a");
    h.clock.advance(4000);
    h.feed(stage, "b");
    h.clock.advance(5999);
    assert.equal(h.emitted.length, 0, "still open 1 ms before windowMs");
    h.clock.advance(1);
    assert.equal(h.emitted.length, 1);
    const m = h.emitted[0];
    assert.equal(m.closeReason, "time");
    assert.equal(m.windowOpenMs, EPOCH_MS);
    assert.equal(m.windowCloseMs, EPOCH_MS + 10_000);
    assert.equal(h.clock.pendingTimers(), 0);
    h.releaseAll();
    stage.close();
  });
  await t.step("by tick, with no timer", () => {
    const h = new Harness();
    const stage = h.stage({ providers: ["a"], windowMs: 500 }, false);
    h.feed(stage, "a");
    assert.equal(h.clock.pendingTimers(), 0);
    assert.equal(stage.tick(499), false);
    assert.equal(stage.tick(500), true);
    assert.equal(stage.tick(501), false, "no window open any more");
    assert.equal(h.emitted.length, 1);
    assert.equal(h.emitted[0].closeReason, "time");
    h.releaseAll();
    stage.close();
  });
  await t.step("by the next fragment when the window is overdue", () => {
    const h = new Harness();
    const stage = h.stage({ providers: ["a"], windowMs: 500 }, false);
    h.feed(stage, "a");
    h.clock.advance(800);
    h.feed(stage, "a"); // closes the overdue window, then opens the next
    assert.equal(h.emitted.length, 1);
    assert.equal(h.emitted[0].fragments.length, 1);
    assert.equal(h.emitted[0].windowCloseMs, EPOCH_MS + 500, "the span ends at the deadline");
    assert.equal(stage.isOpen(), true);
    assert.equal(stage.stats().windowsOpened, 2);
    h.releaseAll();
    stage.close();
  });
});

Deno.test("a fragment received before the last close is dropped as late", () => {
  const h = new Harness();
  const stage = h.stage({ providers: ["a", "b"], maxEvents: 2 });
  h.feed(stage, "a");
  h.clock.advance(5);
  const closedId = stage.currentMergeId();
  h.feed(stage, "b"); // count close at clock 5
  assert.equal(h.emitted.length, 1);
  assert.equal(h.emitted[0].mergeId, closedId);
  h.clock.advance(3);
  h.feed(stage, "a", 4); // received at 4, during the closed window, delivered at 8
  assert.deepEqual(h.late, [{
    symbol: "BTC-USDT",
    kind: "trade",
    provider: "a",
    merge_id: closedId,
  }]);
  assert.equal(stage.isOpen(), false, "a late fragment opens no window");
  assert.equal(stage.stats().lateDrops, 1);
  h.feed(stage, "b", 5); // received at the close instant: belongs to the next window
  assert.equal(stage.isOpen(), true);
  assert.equal(h.late.length, 1);
  h.feed(stage, "a", 0); // older than the closed window as well: late too
  assert.equal(h.late.length, 2);
  assert.equal(stage.stats().openFragments, 1);
  h.releaseAll();
  stage.close();
});

Deno.test("partial windows are suppressed and name the missing providers", async (t) => {
  await t.step("1 of 3 providers", () => {
    const h = new Harness();
    const stage = h.stage({ windowMs: 100 });
    const id = stage.currentMergeId();
    h.feed(stage, "b");
    h.feed(stage, "b");
    h.clock.advance(100);
    assert.equal(h.emitted.length, 0);
    assert.deepEqual(h.suppressed, [{
      symbol: "BTC-USDT",
      kind: "trade",
      missing_providers: ["a", "c"],
      merge_id: id,
    }]);
    assert.equal(h.merged.inFlightCount(), 0, "a suppressed window acquires nothing");
    stage.close();
  });
  await t.step("2 of 3 providers", () => {
    const h = new Harness();
    const stage = h.stage({ windowMs: 100 });
    h.feed(stage, "c");
    h.feed(stage, "a");
    h.clock.advance(100);
    assert.equal(h.emitted.length, 0);
    assert.equal(h.suppressed.length, 1);
    assert.deepEqual(h.suppressed[0].missing_providers, ["b"]);
    assert.equal(stage.stats().suppressed, 1);
    stage.close();
  });
});

Deno.test("a window with every provider is emitted with all fragments in arrival order", () => {
  const h = new Harness();
  const stage = h.stage({ windowMs: 100 });
  const id = stage.currentMergeId();
  assert.match(id, /^t\.[0-9a-z]+:BTC-USDT:trade:0$/);
  const order = ["c", "a", "a", "b", "c"];
  for (const p of order) {
    h.feed(stage, p);
    h.clock.advance(10);
  }
  h.routingVersion = 9; // read at close, not at open
  h.clock.advance(50);
  assert.equal(h.emitted.length, 1);
  const m = h.emitted[0];
  assert.equal(m.mergeId, id);
  assert.equal(m.routingVersion, 9);
  assert.deepEqual(m.providers, ["a", "b", "c"]);
  assert.deepEqual(m.missing, []);
  assert.deepEqual(m.fragments.map((f) => f.provider), order);
  assert.deepEqual(m.fragments.map((f) => f.seq), [1, 2, 3, 4, 5]);
  assert.equal(validateMergedEvent(m), null);
  assert.equal(m.fragments[0] instanceof CanonicalEvent, false, "fragments are plain clones");
  assert.notEqual(stage.currentMergeId(), id, "the next window gets a new id");
  h.releaseAll();
  stage.close();
});

Deno.test("overlapping merged subscriptions on one conductor are independent", () => {
  const h = new Harness();
  const sink = new ReleasingSink(h.events);
  const conductor = new Conductor({ sink });
  const pair = h.stage({ id: "pair", providers: ["a", "b"], windowMs: 1000 });
  const trio = h.stage({ id: "trio", providers: ["a", "b", "c"], windowMs: 5000 });
  conductor.addMergeStage(pair);
  conductor.addMergeStage(trio);
  conductor.ingest(h.event("a"));
  conductor.ingest(h.event("b"));
  conductor.ingest(h.event("c")); // only the trio expects c
  conductor.ingest(h.event("a", 0, "ETH-USDT")); // other market: neither stage sees it
  h.clock.advance(1000);
  assert.equal(h.emitted.length, 1, "the pair's window closed first");
  assert.deepEqual(h.emitted[0].providers, ["a", "b"]);
  assert.deepEqual(h.emitted[0].fragments.map((f) => f.provider), ["a", "b"]);
  conductor.ingest(h.event("a")); // opens the pair's second window; trio's still open
  h.clock.advance(4000);
  assert.equal(h.emitted.length, 2);
  const trioEvent = h.emitted[1];
  assert.deepEqual(trioEvent.providers, ["a", "b", "c"]);
  assert.deepEqual(trioEvent.fragments.map((f) => f.provider), ["a", "b", "c", "a"]);
  assert.notEqual(trioEvent.mergeId, h.emitted[0].mergeId, "merge ids differ across stages");
  assert.equal(h.suppressed.length, 1, "the pair's second window had no b");
  assert.deepEqual(h.suppressed[0].missing_providers, ["b"]);
  assert.equal(sink.dispatched, 5, "every event passed through");
  assert.equal(h.events.inFlightCount(), 0, "no stage kept a pooled event");
  h.releaseAll();
  pair.close();
  trio.close();
  assert.equal(h.clock.pendingTimers(), 0);
});

Deno.test("merged events in flight are accounted and an exhausted pool is reported", () => {
  const h = new Harness(2);
  const stage = h.stage({ providers: ["a"], maxEvents: 1 });
  h.feed(stage, "a");
  h.feed(stage, "a");
  assert.equal(h.merged.inFlightCount(), 2, "the emitted events are held by the test's emit");
  const lostId = stage.currentMergeId();
  h.feed(stage, "a");
  assert.equal(h.emitted.length, 2);
  assert.deepEqual(h.exhausted, [{
    symbol: "BTC-USDT",
    kind: "trade",
    merge_id: lostId,
    fragments: 1,
  }]);
  assert.equal(stage.stats().poolExhausted, 1);
  h.releaseAll();
  assert.equal(h.merged.inFlightCount(), 0);
  h.feed(stage, "a");
  assert.equal(h.emitted.length, 1, "emits again once released");
  h.releaseAll();
  const stats = h.merged.stats();
  assert.equal(stats.acquires, stats.releases);
  stage.close();
});

Deno.test("close() clears the timer, discards the open window and ignores later events", () => {
  const h = new Harness();
  const stage = h.stage({ providers: ["a", "b"] });
  h.feed(stage, "a");
  h.feed(stage, "b");
  assert.equal(h.clock.pendingTimers(), 1);
  stage.close();
  stage.close();
  assert.equal(h.clock.pendingTimers(), 0);
  assert.equal(stage.isOpen(), false);
  h.clock.advance(20_000);
  h.feed(stage, "a");
  assert.equal(h.emitted.length + h.suppressed.length, 0);
  assert.equal(stage.stats().ignored, 1);
  assert.equal(stage.stats().openFragments, 0);
  assert.equal(h.merged.inFlightCount(), 0);
});

Deno.test("events of another market or provider are ignored", () => {
  const h = new Harness();
  const stage = h.stage({ providers: ["a"] });
  const other = h.event("z");
  stage.observe(other);
  h.events.release(other);
  const wrongSymbol = h.event("a", 0, "ETH-USDT");
  stage.observe(wrongSymbol);
  h.events.release(wrongSymbol);
  assert.equal(stage.isOpen(), false);
  assert.equal(stage.stats().ignored, 2);
  stage.close();
});

Deno.test("invalid merged subscriptions are refused", () => {
  const h = new Harness();
  assert.throws(() => h.stage({ providers: [] }), /expected 1\.\.16 providers, found 0/);
  assert.throws(() => h.stage({ providers: ["a", "a"] }), /expected distinct providers/);
  assert.throws(() => h.stage({ windowMs: 0 }), /expected windowMs/);
  assert.throws(() => h.stage({ maxEvents: 1.5 }), /expected an integer maxEvents/);
});

Deno.test("merge ids stay within 64 characters for the longest symbols", () => {
  const h = new Harness();
  const symbol = `${"A".repeat(20)}-${"B".repeat(20)}`;
  const stage = h.stage({ symbol, kind: "book_snapshot" });
  assert.ok(stage.currentMergeId().length <= 64);
  stage.close();
});

Deno.test("with the system clock a window closes on its own timer and leaves none behind", async () => {
  const merged = mergedPool();
  const events = canonicalPool();
  const { promise, resolve } = Promise.withResolvers<MergedEvent>();
  const stage = new MergeWindow(
    { symbol: "BTC-USDT", kind: "trade", providers: ["a"], windowMs: 20 },
    { pool: merged, routingVersion: () => 1, emit: resolve },
  );
  const ev = events.tryAcquire()!;
  ev.kind = "trade";
  ev.provider = "a";
  ev.symbol = "BTC-USDT";
  ev.recvTsMs = Date.now();
  ev.price = "1";
  ev.qty = "1";
  ev.side = "sell";
  stage.observe(ev);
  events.release(ev);
  const m = await promise;
  assert.equal(m.closeReason, "time");
  assert.ok(m.windowCloseMs - m.windowOpenMs === 20);
  assert.ok(Math.abs(m.windowOpenMs - Date.now()) < 1000, "epoch timestamps by default");
  assert.equal(validateMergedEvent(m), null);
  merged.release(m);
  stage.close();
});
