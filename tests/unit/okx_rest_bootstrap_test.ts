import assert from "node:assert/strict";
import {
  OkxBookAssembler,
  type OkxBookAssemblerOptions,
  OkxRestError,
  type OkxSnapshotForBootstrap,
} from "../../src/adapter/okx/mod.ts";
import type { BookResyncEvent } from "../../src/adapter/shared/mod.ts";
import { PoolManager } from "../../src/pool/mod.ts";
import type { CanonicalEvent } from "../../src/schema/canonical_event.ts";
import { createSchemaPools } from "../../src/schema/mod.ts";

type Level = [string, string, string, string];

function lv(px: string, sz: string): Level {
  return [px, sz, "0", "1"];
}

/** An assembler in REST mode whose snapshot requests the test answers by hand. */
function setup(overrides: Partial<OkxBookAssemblerOptions> = {}) {
  const manager = new PoolManager({ debug: true });
  const pools = createSchemaPools(manager, { CanonicalEvent: 16 });
  const emitted: { kind: string; seq: number; seqFirst: number; bids: string[] }[] = [];
  const resyncs: BookResyncEvent[] = [];
  const resubscribed: string[] = [];
  const requests: PromiseWithResolvers<OkxSnapshotForBootstrap>[] = [];
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
    bootstrap: "rest",
    bootstrapWaitMs: 1000,
    restRetryDelayMs: 100,
    fetchSnapshot: () => {
      const request = Promise.withResolvers<OkxSnapshotForBootstrap>();
      requests.push(request);
      return request.promise;
    },
    ...overrides,
  });
  /** Answers the latest request and waits until the assembler has processed it. */
  const answer = async (snapshot: OkxSnapshotForBootstrap | Error): Promise<void> => {
    const request = requests[requests.length - 1];
    if (snapshot instanceof Error) request.reject(snapshot);
    else request.resolve(snapshot);
    await assembler.settled();
  };
  const update = (prevSeqId: number, seqId: number, bids: Level[] = [], asks: Level[] = []) =>
    assembler.onBooks("update", { prevSeqId, seqId, bids, asks, checksum: 0, ts: "1" }, 1);
  return { pools, assembler, emitted, resyncs, resubscribed, requests, answer, update };
}

function snapshot(seqId: number): OkxSnapshotForBootstrap {
  return { seqId, bids: ["100.0", "1", "99.0", "2"], asks: ["101.0", "1", "102.0", "2"], tsMs: 1 };
}

Deno.test("okx rest bootstrap drops covered updates and bridges with prevSeqId <= S < seqId", async () => {
  const s = setup();
  s.assembler.expectSnapshot(performance.now());
  s.update(100, 110, [lv("99.0", "5")]);
  assert.equal(s.requests.length, 1, "the first buffered update starts the request");
  s.update(110, 120, [lv("100.0", "3")]);
  s.update(120, 130, [], [lv("101.0", "0")]);
  // S = 115 falls inside the second update (OKX's REST cache is finer than the 100 ms pushes).
  await s.answer(snapshot(115));
  assert.equal(s.assembler.state, "LIVE");
  const st = s.assembler.stats();
  assert.equal(st.droppedCovered, 1, "seqId 110 <= S dropped");
  assert.equal(st.seqId, 130);
  assert.equal(st.syncSource, "rest");
  assert.deepEqual(s.emitted.map((e) => [e.kind, e.seq]), [["book_snapshot", 130]]);
  assert.deepEqual(s.assembler.book.top(5), {
    bids: [["100.0", "3"], ["99.0", "2"]],
    asks: [["102.0", "2"]],
  });
  s.update(130, 131, [lv("98.0", "1")]);
  assert.deepEqual(s.emitted.map((e) => [e.kind, e.seqFirst, e.seq]).at(-1), [
    "book_update",
    131,
    131,
  ]);
  assert.equal(s.resyncs.length, 0);
  assert.equal(s.pools.canonicalEvent.stats().inFlight, 0);
});

Deno.test("okx rest bootstrap fetches again while S < the first buffered prevSeqId", async () => {
  const s = setup();
  s.assembler.expectSnapshot(performance.now());
  s.update(200, 210);
  s.update(210, 220, [lv("100.0", "4")]);
  await s.answer(snapshot(199));
  assert.equal(s.assembler.state, "SYNCING");
  assert.equal(s.assembler.stats().snapshotRetries, 1);
  s.assembler.tick(performance.now());
  assert.equal(s.requests.length, 1, "the re-fetch waits restRetryDelayMs");
  s.assembler.tick(performance.now() + 150);
  assert.equal(s.requests.length, 2);
  await s.answer(snapshot(200));
  assert.equal(s.assembler.state, "LIVE");
  assert.equal(s.assembler.seqId, 220);
  assert.equal(s.resyncs.length, 0);
});

Deno.test("okx rest bootstrap with nothing buffered goes LIVE at S and bridges the first live update", async (t) => {
  const s = setup();
  const start = performance.now();
  s.assembler.expectSnapshot(start);
  s.assembler.tick(start + 500);
  assert.equal(s.requests.length, 0);
  s.assembler.tick(start + 1000);
  assert.equal(s.requests.length, 1, "an idle book is fetched after bootstrapWaitMs");
  await s.answer(snapshot(50));
  assert.equal(s.assembler.state, "LIVE");
  await t.step("an update the snapshot already covers is dropped", () => {
    s.update(40, 50, [lv("99.0", "7")]);
    assert.equal(s.assembler.stats().droppedCovered, 1);
    assert.equal(s.emitted.length, 1);
  });
  await t.step("prevSeqId <= S < seqId bridges; then the chain rule holds", () => {
    s.update(45, 60, [lv("99.5", "1")]);
    s.update(60, 70, [lv("99.6", "1")]);
    assert.deepEqual(s.emitted.map((e) => e.seq), [50, 60, 70]);
    assert.equal(s.resyncs.length, 0);
  });
  await t.step("a chain break resyncs through REST, without resubscribing", () => {
    s.update(80, 90);
    assert.deepEqual(s.resyncs.map((r) => r.reason), ["gap"]);
    assert.deepEqual(s.resubscribed, []);
    assert.equal(s.assembler.state, "RESYNCING");
    s.update(90, 95);
    assert.equal(s.requests.length, 2);
  });
});

Deno.test("okx rest bootstrap: a live update beyond S without a bridge is a gap", async () => {
  const s = setup();
  const start = performance.now();
  s.assembler.expectSnapshot(start);
  s.assembler.tick(start + 1000);
  await s.answer(snapshot(50));
  s.update(60, 70);
  assert.deepEqual(s.resyncs.map((r) => r.reason), ["gap"]);
});

Deno.test("okx rest bootstrap restarts its buffer on a hole or a sequence reset", async () => {
  const s = setup();
  s.assembler.expectSnapshot(performance.now());
  s.update(10, 20);
  s.update(30, 40); // hole: 20 -> 30 missing
  assert.equal(s.assembler.stats().bufferRestarts, 1);
  await s.answer(snapshot(25));
  assert.equal(s.assembler.stats().snapshotRetries, 1, "S=25 < 30, the new first prevSeqId");
  s.update(40, 5); // maintenance reset
  assert.equal(s.assembler.stats().bufferRestarts, 2);
  s.assembler.tick(performance.now() + 150);
  s.update(5, 8);
  await s.answer(snapshot(6));
  assert.equal(s.assembler.state, "LIVE");
  assert.equal(s.assembler.seqId, 8);
});

Deno.test("okx rest bootstrap honours a rate limit's Retry-After and keeps its buffer", async () => {
  const s = setup();
  s.assembler.expectSnapshot(performance.now());
  s.update(10, 20);
  await s.answer(new OkxRestError("HTTP 429", "/api/v5/market/books", 429, "50011", 2000));
  assert.equal(s.assembler.stats().restFailures, 1);
  assert.deepEqual(s.resyncs.map((r) => r.reason), ["snapshot_failed"]);
  s.assembler.tick(performance.now() + 1500);
  assert.equal(s.requests.length, 1, "no request inside the Retry-After");
  s.assembler.tick(performance.now() + 2100);
  assert.equal(s.requests.length, 2);
  await s.answer(snapshot(15));
  assert.equal(s.assembler.state, "LIVE");
  assert.equal(s.assembler.seqId, 20);
});

Deno.test("okx rest bootstrap: close aborts the request in flight", async () => {
  let aborted = false;
  const s = setup({
    fetchSnapshot: (_instId, { signal }) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener("abort", () => {
          aborted = true;
          reject(signal.reason);
        });
      }),
  });
  s.assembler.expectSnapshot(performance.now());
  s.update(1, 2);
  s.assembler.close();
  await s.assembler.settled();
  assert.ok(aborted);
  assert.equal(s.resyncs.length, 0);
});
