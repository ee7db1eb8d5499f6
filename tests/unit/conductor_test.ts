import assert from "node:assert/strict";
import { Conductor, type EventSink, type MergeStage } from "../../src/conductor/mod.ts";
import { type Consumer, ConsumerRegistry } from "../../src/consumer/mod.ts";
import { Dispatcher, RoutingTable } from "../../src/dispatcher/mod.ts";
import { BoundedPool } from "../../src/pool/mod.ts";
import {
  CanonicalEvent,
  type CanonicalEventData,
  cloneCanonicalEventData,
} from "../../src/schema/canonical_event.ts";
import type { MarketEventKind } from "../../src/schema/event_kind.ts";
import { POISON_STRING } from "../../src/schema/poison.ts";

function eventPool(): BoundedPool<CanonicalEvent> {
  return new BoundedPool<CanonicalEvent>({
    name: "canonical",
    capacity: 8,
    create: () => new CanonicalEvent(),
    debug: true,
  });
}

function tradeEvent(
  pool: BoundedPool<CanonicalEvent>,
  provider: string,
  opts?: { symbol?: string; kind?: MarketEventKind; seq?: number },
): CanonicalEvent {
  const ev = pool.tryAcquire();
  assert.ok(ev !== null, "expected a free event in the test pool");
  ev.kind = opts?.kind ?? "trade";
  ev.provider = provider;
  ev.symbol = opts?.symbol ?? "BTC-USDT";
  ev.seq = opts?.seq ?? 1;
  ev.seqFirst = ev.seq;
  ev.price = "100.5";
  ev.qty = "0.25";
  ev.side = "buy";
  return ev;
}

/** A sink that records identities and releases like the dispatcher does. */
class ReleasingSink implements EventSink {
  readonly seen: CanonicalEvent[] = [];
  constructor(private readonly pool: BoundedPool<CanonicalEvent>) {}
  dispatch(ev: CanonicalEvent): void {
    this.seen.push(ev);
    this.pool.release(ev);
  }
}

/** A merge stage that copies fragments, as the windowed merge will. */
class CopyingStage implements MergeStage {
  readonly fragments: CanonicalEventData[] = [];
  constructor(
    readonly id: string,
    readonly providers: readonly string[],
    readonly symbol = "BTC-USDT",
    readonly kind: MarketEventKind = "trade",
  ) {}
  observe(ev: CanonicalEvent): void {
    this.fragments.push(cloneCanonicalEventData(ev));
  }
}

Deno.test("conductor passes single-provider events straight to the dispatcher", () => {
  const pool = eventPool();
  const sink = new ReleasingSink(pool);
  const conductor = new Conductor({ sink });
  const ev = tradeEvent(pool, "binance");
  conductor.ingest(ev);
  assert.equal(sink.seen.length, 1);
  assert.equal(sink.seen[0], ev, "the same pooled object: ownership passes on, no copy");
  assert.equal(pool.inFlightCount(), 0);
  assert.deepEqual(conductor.stats(), {
    ingested: 1,
    mergeObservations: 0,
    mergeStageErrors: 0,
    mergeStages: 0,
  });
});

Deno.test("conductor -> dispatcher -> consumer end to end", async () => {
  const pool = eventPool();
  const routes = new RoutingTable<Consumer>();
  const dispatcher = new Dispatcher({ routes, pool });
  const conductor = new Conductor({ sink: dispatcher });
  const consumers = new ConsumerRegistry({ routes });
  const c = consumers.create("strategy");
  c.subscribe({ provider: "binance", symbol: "BTC-USDT", kind: "trade" });
  conductor.ingest(tradeEvent(pool, "binance", { seq: 1 }));
  conductor.ingest(tradeEvent(pool, "okx", { seq: 2 }));
  conductor.ingest(tradeEvent(pool, "binance", { seq: 3 }));
  assert.equal(pool.inFlightCount(), 0);
  const got: number[] = [];
  for await (const ev of c.events()) {
    if (ev.type !== undefined) continue; // market events only
    got.push(ev.seq);
    if (got.length === 2) c.close();
  }
  assert.deepEqual(got, [1, 3]);
  assert.equal(dispatcher.stats().unrouted, 1);
  assert.equal(consumers.size, 0);
});

Deno.test("conductor shows events to matching merge stages, then passes them through", async (t) => {
  const pool = eventPool();
  const sink = new ReleasingSink(pool);
  const conductor = new Conductor({ sink });
  const stage = new CopyingStage("m1", ["binance", "okx"]);
  conductor.addMergeStage(stage);

  await t.step("matching symbol, kind and provider: observed and passed through", () => {
    conductor.ingest(tradeEvent(pool, "binance", { seq: 1 }));
    conductor.ingest(tradeEvent(pool, "okx", { seq: 2 }));
    assert.deepEqual(stage.fragments.map((f) => [f.provider, f.seq]), [["binance", 1], [
      "okx",
      2,
    ]]);
    assert.equal(sink.seen.length, 2);
  });

  await t.step("a provider, symbol or kind outside the stage is passed through only", () => {
    conductor.ingest(tradeEvent(pool, "kraken", { seq: 3 }));
    conductor.ingest(tradeEvent(pool, "binance", { seq: 4, symbol: "ETH-USDT" }));
    conductor.ingest(tradeEvent(pool, "binance", { seq: 5, kind: "ticker" }));
    assert.equal(stage.fragments.length, 2);
    assert.equal(sink.seen.length, 5);
  });

  await t.step("fragments are copies that outlive the released pooled events", () => {
    assert.equal(pool.inFlightCount(), 0);
    assert.equal(sink.seen[0].provider, POISON_STRING, "the pooled event was released");
    assert.equal(stage.fragments[0].provider, "binance");
    assert.equal(stage.fragments[0].price, "100.5");
  });

  await t.step("stats and removal", () => {
    assert.deepEqual(conductor.stats(), {
      ingested: 5,
      mergeObservations: 2,
      mergeStageErrors: 0,
      mergeStages: 1,
    });
    assert.equal(conductor.removeMergeStage("m1"), true);
    assert.equal(conductor.removeMergeStage("m1"), false);
    conductor.ingest(tradeEvent(pool, "binance", { seq: 6 }));
    assert.equal(stage.fragments.length, 2);
    assert.equal(conductor.stats().mergeStages, 0);
  });
});

Deno.test("a failing merge stage does not stop passthrough or leak the event", () => {
  const pool = eventPool();
  const sink = new ReleasingSink(pool);
  const errors: string[] = [];
  const conductor = new Conductor({
    sink,
    onError: (err, stageId) => errors.push(`${stageId}: ${(err as Error).message}`),
  });
  const broken: MergeStage = {
    id: "broken",
    symbol: "BTC-USDT",
    kind: "trade",
    providers: ["binance"],
    observe: () => {
      throw new Error("window state corrupt");
    },
  };
  const healthy = new CopyingStage("healthy", ["binance"]);
  conductor.addMergeStage(broken);
  conductor.addMergeStage(healthy);
  conductor.ingest(tradeEvent(pool, "binance"));
  assert.equal(sink.seen.length, 1);
  assert.equal(healthy.fragments.length, 1);
  assert.equal(pool.inFlightCount(), 0);
  assert.deepEqual(errors, ["broken: window state corrupt"]);
  assert.equal(conductor.stats().mergeStageErrors, 1);
  assert.equal(conductor.stats().mergeObservations, 1);
});

Deno.test("conductor refuses duplicate merge stage ids and enforces its bound", () => {
  const pool = eventPool();
  const conductor = new Conductor({ sink: new ReleasingSink(pool), mergeStagesMax: 2 });
  conductor.addMergeStage(new CopyingStage("a", ["binance"]));
  assert.throws(
    () => conductor.addMergeStage(new CopyingStage("a", ["okx"])),
    /expected a new merge stage id, found "a" already registered/,
  );
  conductor.addMergeStage(new CopyingStage("b", ["okx"], "ETH-USDT"));
  assert.throws(
    () => conductor.addMergeStage(new CopyingStage("c", ["okx"])),
    /expected at most 2 merge stages, found 2 registered/,
  );
  assert.equal(conductor.stats().mergeStages, 2);
});
