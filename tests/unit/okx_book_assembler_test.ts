import assert from "node:assert/strict";
import { OkxBookAssembler, okxBookChecksum } from "../../src/adapter/okx/mod.ts";
import type { BookResyncEvent, BookStateChange } from "../../src/adapter/shared/mod.ts";
import { OrderBook } from "../../src/adapter/shared/mod.ts";
import { PoolManager } from "../../src/pool/mod.ts";
import type { CanonicalEvent } from "../../src/schema/canonical_event.ts";
import { createSchemaPools } from "../../src/schema/mod.ts";

function setup() {
  const manager = new PoolManager({ debug: true });
  const pools = createSchemaPools(manager, { CanonicalEvent: 16 });
  const emitted: { kind: string; seq: number; seqFirst: number; bids: string[] }[] = [];
  const resyncs: BookResyncEvent[] = [];
  const states: BookStateChange[] = [];
  const resubscribed: string[] = [];
  const assembler = new OkxBookAssembler({
    instId: "BTC-USDT",
    canonicalSymbol: "BTC-USDT",
    eventPool: pools.canonicalEvent,
    emit: (ev: CanonicalEvent) => {
      emitted.push({ kind: ev.kind, seq: ev.seq, seqFirst: ev.seqFirst, bids: ev.clone().bids });
      pools.canonicalEvent.release(ev);
    },
    resubscribe: (instId) => resubscribed.push(instId),
    onResync: (e) => resyncs.push(e),
    onStateChange: (c) => states.push(c),
  });
  return { manager, pools, assembler, emitted, resyncs, states, resubscribed };
}

const SNAPSHOT = {
  bids: [["100.0", "2", "0", "1"], ["99.5", "1", "0", "1"]],
  asks: [["100.5", "3", "0", "2"], ["101", "1.0", "0", "1"]],
  ts: "1767225600000",
  checksum: 0,
  prevSeqId: -1,
  seqId: 10,
};

Deno.test("okx book assembler follows the seqId chain, keep-alives and resets", () => {
  const s = setup();
  s.assembler.onBooks("update", { bids: [], asks: [], seqId: 5, prevSeqId: 4 }, 1);
  assert.equal(s.assembler.stats().droppedWhileSyncing, 1);
  s.assembler.onBooks("snapshot", SNAPSHOT, 1);
  assert.equal(s.assembler.state, "LIVE");
  s.assembler.onBooks("update", {
    bids: [["100.0", "0", "0", "0"], ["100.2", "0.5", "0", "1"]],
    asks: [],
    seqId: 15,
    prevSeqId: 10,
  }, 2);
  s.assembler.onBooks("update", { bids: [], asks: [], seqId: 15, prevSeqId: 15 }, 3);
  s.assembler.onBooks("update", {
    bids: [["99.5", "4", "0", "1"]],
    asks: [],
    seqId: 3,
    prevSeqId: 15,
  }, 4);
  s.assembler.onBooks("update", {
    bids: [],
    asks: [["100.5", "1", "0", "1"]],
    seqId: 5,
    prevSeqId: 3,
  }, 5);
  assert.deepEqual(s.emitted.map((e) => [e.kind, e.seqFirst, e.seq]), [
    ["book_snapshot", 10, 10],
    ["book_update", 11, 15],
    ["book_update", 3, 3],
    ["book_update", 4, 5],
  ]);
  const st = s.assembler.stats();
  assert.equal(st.keepAlives, 1);
  assert.equal(st.sequenceResets, 1);
  assert.equal(st.seqId, 5);
  assert.deepEqual(s.assembler.book.top(2).bids, [["100.2", "0.5"], ["99.5", "4"]]);
  assert.equal(s.resyncs.length, 0);
  assert.equal(s.pools.canonicalEvent.stats().inFlight, 0);
});

Deno.test("okx book assembler resyncs one instrument on a gap", () => {
  const s = setup();
  s.assembler.onBooks("snapshot", SNAPSHOT, 1);
  s.assembler.onBooks("update", {
    bids: [],
    asks: [["100.5", "1", "0", "1"]],
    seqId: 30,
    prevSeqId: 20,
  }, 2);
  assert.deepEqual(s.resyncs.map((r) => r.reason), ["gap"]);
  assert.deepEqual(s.resubscribed, ["BTC-USDT"]);
  assert.equal(s.assembler.state, "RESYNCING");
  s.assembler.onBooks("update", { bids: [], asks: [], seqId: 31, prevSeqId: 30 }, 3);
  assert.equal(s.emitted.length, 1);
  s.assembler.onBooks("snapshot", { ...SNAPSHOT, seqId: 40 }, 4);
  assert.equal(s.assembler.state, "LIVE");
  assert.deepEqual(s.states.map((c) => `${c.from}>${c.to}:${c.cause}`), [
    "SYNCING>LIVE:synced",
    "LIVE>RESYNCING:gap",
    "RESYNCING>LIVE:synced",
  ]);
});

Deno.test("okx book assembler verifies a non-zero legacy checksum", async (t) => {
  const reference = new OrderBook();
  reference.loadSnapshot(["100.0", "2", "99.5", "1"], ["100.5", "3", "101", "1.0"]);
  const good = okxBookChecksum(reference);
  await t.step("a matching checksum keeps the book live", () => {
    const s = setup();
    s.assembler.onBooks("snapshot", { ...SNAPSHOT, checksum: good }, 1);
    assert.equal(s.assembler.state, "LIVE");
    assert.equal(s.assembler.stats().checksumsVerified, 1);
  });
  await t.step("a wrong checksum on an update resyncs with checksum_mismatch", () => {
    const s = setup();
    s.assembler.onBooks("snapshot", { ...SNAPSHOT, checksum: good }, 1);
    s.assembler.onBooks("update", {
      bids: [["100.0", "5", "0", "1"]],
      asks: [],
      seqId: 11,
      prevSeqId: 10,
      checksum: good ^ 1,
    }, 2);
    assert.deepEqual(s.resyncs.map((r) => r.reason), ["checksum_mismatch"]);
    assert.equal(s.emitted.length, 1);
    assert.equal(s.pools.canonicalEvent.stats().inFlight, 0);
  });
});

Deno.test("okx book assembler resubscribes when the snapshot is overdue", () => {
  const s = setup();
  s.assembler.expectSnapshot(0);
  s.assembler.tick(1000);
  assert.equal(s.resyncs.length, 0);
  s.assembler.tick(5000);
  assert.deepEqual(s.resyncs.map((r) => r.reason), ["snapshot_failed"]);
  assert.deepEqual(s.resubscribed, ["BTC-USDT"]);
});
