import assert from "node:assert/strict";
import {
  BinanceBookAssembler,
  type BinanceBookAssemblerOptions,
  type BinanceDepthSnapshot,
  type FetchSnapshotOptions,
} from "../../src/adapter/binance/book_assembler.ts";
import type { BookSyncState, ResyncReason } from "../../src/adapter/shared/book_sync_state.ts";
import { BoundedPool, ManualClock } from "../../src/pool/mod.ts";
import { CanonicalEvent, validateCanonicalEvent } from "../../src/schema/canonical_event.ts";

/** One snapshot request the test answers by hand. */
interface PendingFetch {
  symbol: string;
  signal: AbortSignal;
  resolve: (snapshot: BinanceDepthSnapshot) => void;
  reject: (error: unknown) => void;
}

interface HarnessOptions extends Partial<BinanceBookAssemblerOptions> {
  capacity?: number;
  clock?: ManualClock;
}

/**
 * An assembler wired to a real pool of CanonicalEvent (small capacity), a hand-answered snapshot
 * source and recorders for emitted events, resyncs and state changes.
 */
function harness(opts: HarnessOptions = {}) {
  const { capacity = 16, clock, ...rest } = opts;
  const pool = new BoundedPool<CanonicalEvent>({
    name: "events",
    capacity,
    create: () => new CanonicalEvent(),
    clock,
  });
  const emitted: CanonicalEvent[] = [];
  const resyncs: ResyncReason[] = [];
  const states: BookSyncState[] = [];
  const fetches: PendingFetch[] = [];
  const assembler = new BinanceBookAssembler({
    symbol: "BTCUSDT",
    canonicalSymbol: "BTC-USDT",
    eventPool: pool,
    fetchSnapshot: (symbol: string, { signal }: FetchSnapshotOptions) => {
      const { promise, resolve, reject } = Promise.withResolvers<BinanceDepthSnapshot>();
      fetches.push({ symbol, signal, resolve, reject });
      return promise;
    },
    emit: (ev) => emitted.push(ev),
    onResync: (r) => {
      assert.equal(r.provider, "binance");
      assert.equal(r.symbol, "BTC-USDT");
      resyncs.push(r.reason);
    },
    onStateChange: (c) => {
      assert.equal(c.provider, "binance");
      assert.notEqual(c.from, c.to);
      states.push(c.to);
    },
    random: () => 0.5,
    staleAfterMs: 1_000,
    ...rest,
  });

  /** Acquires a diff `U..u` from the pool and hands it (and its ownership) to the assembler. */
  function diff(U: number, u: number, bids: string[] = [], asks: string[] = []): CanonicalEvent {
    const ev = pool.tryAcquire();
    assert.ok(ev !== null, "test pool exhausted");
    ev.kind = "book_update";
    ev.provider = "binance";
    ev.symbol = "BTC-USDT";
    ev.seqFirst = U;
    ev.seq = u;
    ev.exchangeTsMs = 1_700_000_000_000 + u;
    ev.recvTsMs = 1_700_000_000_000.5 + u;
    ev.setBids(bids);
    ev.setAsks(asks);
    assembler.onDiff(ev);
    return ev;
  }

  /** Answers the oldest pending snapshot request and waits until the assembler handled it. */
  async function serve(
    lastUpdateId: number,
    bids: string[][] | string[] = [["100.00", "1"]],
    asks: string[][] | string[] = [["101.00", "1"]],
  ): Promise<void> {
    const f = fetches.shift();
    assert.ok(f !== undefined, "expected a pending snapshot request, found none");
    assert.equal(f.symbol, "BTCUSDT");
    f.resolve({ lastUpdateId, bids, asks });
    await assembler.whenSettled();
  }

  async function fail(error: unknown): Promise<void> {
    const f = fetches.shift();
    assert.ok(f !== undefined, "expected a pending snapshot request, found none");
    f.reject(error);
    await assembler.whenSettled();
  }

  /** Pool balance: everything in flight is what the test still holds (the emitted events). */
  function assertBalanced(): void {
    assert.equal(
      pool.inFlightCount(),
      emitted.length + assembler.stats().buffered,
      "every acquired event is emitted, buffered or back in the pool",
    );
  }

  /** Releases everything emitted (the test played downstream) and checks the pool is whole. */
  function finish(): void {
    assertBalanced();
    for (const ev of emitted) pool.release(ev);
    emitted.length = 0;
    assembler.close();
    assert.equal(pool.inFlightCount(), 0, "no event leaked");
  }

  return { pool, assembler, emitted, resyncs, states, fetches, diff, serve, fail, finish };
}

/** Syncs a harness to a live book at id `L` with the default one-level sides. */
async function goLive(h: ReturnType<typeof harness>, L = 100): Promise<void> {
  h.diff(L - 1, L);
  await h.serve(L);
  assert.equal(h.assembler.state, "LIVE");
}

Deno.test("syncs from buffered diffs and a snapshot, then forwards live diffs", async () => {
  const h = harness();
  assert.equal(h.assembler.state, "SYNCING");
  assert.equal(h.fetches.length, 0, "no snapshot before the first diff is buffered");
  h.diff(100, 102, ["99.00", "5"]);
  assert.equal(h.fetches.length, 1, "the first buffered diff starts the snapshot request");
  h.diff(103, 105, ["100.00", "2"], ["101.00", "0"]);
  h.diff(106, 107, [], ["102.00", "3"]);
  assert.equal(h.fetches.length, 1, "one request at a time");
  assert.equal(h.emitted.length, 0, "nothing emitted while syncing");

  await h.serve(104, [["100.00", "1"], ["98.00", "4"]], [["101.00", "1"], ["103.00", "6"]]);
  const s = h.assembler.stats();
  assert.equal(s.state, "LIVE");
  assert.equal(s.dropped, 1, "100..102 is covered by the snapshot (u <= L)");
  assert.equal(s.applied, 2, "103..105 (U <= L+1 <= u) and 106..107");
  assert.equal(s.bookId, 107);
  assert.equal(s.buffered, 0);
  assert.deepEqual(h.states, ["LIVE"]);

  assert.equal(h.emitted.length, 1);
  const snap = h.emitted[0];
  assert.equal(snap.kind, "book_snapshot");
  assert.equal(snap.provider, "binance");
  assert.equal(snap.symbol, "BTC-USDT");
  assert.equal(snap.seq, 107, "seq is the book id after the buffered diffs");
  assert.equal(snap.seqFirst, 107);
  assert.deepEqual(
    snap.clone().bids,
    ["100.00", "2", "98.00", "4"],
    "99.00 came from a dropped diff",
  );
  assert.deepEqual(snap.clone().asks, ["102.00", "3", "103.00", "6"], "101.00 removed by qty 0");
  assert.equal(snap.exchangeTsMs, 1_700_000_000_107);
  assert.equal(validateCanonicalEvent(snap), null);

  const live = h.diff(108, 110, ["100.50", "1"]);
  assert.equal(h.emitted.length, 2);
  assert.equal(h.emitted[1], live, "the very pooled event is passed through");
  assert.equal(live.kind, "book_update");
  assert.equal(h.assembler.bookId, 110);
  assert.equal(h.assembler.book.bestPrice("bid"), "100.50");
  assert.equal(validateCanonicalEvent(live), null);
  assert.equal(h.assembler.stats().lastUpdateExchangeTsMs, 1_700_000_000_110);
  h.finish();
});

Deno.test("first-event rule: U <= L+1 <= u+1 at every boundary", async (t) => {
  await t.step("L = U-1 (snapshot ends just before the first kept diff)", async () => {
    const h = harness();
    h.diff(95, 99);
    h.diff(100, 105, ["100.10", "1"]);
    await h.serve(99);
    const s = h.assembler.stats();
    assert.deepEqual([s.state, s.dropped, s.applied, s.bookId], ["LIVE", 1, 1, 105]);
    assert.equal(h.assembler.book.bestPrice("bid"), "100.10");
    h.finish();
  });
  await t.step("L = firstU-1 (snapshot just before every buffered diff) is bridged", async () => {
    const h = harness();
    h.diff(100, 105, ["100.10", "1"]);
    await h.serve(99);
    const s = h.assembler.stats();
    assert.deepEqual([s.state, s.dropped, s.applied, s.bookId, s.snapshotsBehind], [
      "LIVE",
      0,
      1,
      105,
      0,
    ]);
    h.finish();
  });
  await t.step("L in the middle of U..u", async () => {
    const h = harness();
    h.diff(100, 105, ["100.10", "1"]);
    await h.serve(102);
    const s = h.assembler.stats();
    assert.deepEqual([s.state, s.dropped, s.applied, s.bookId], ["LIVE", 0, 1, 105]);
    h.finish();
  });
  await t.step("L = u (the diff is dropped, the next one starts at L+1)", async () => {
    const h = harness();
    h.diff(100, 105, ["100.10", "1"]);
    h.diff(106, 108, ["100.20", "1"]);
    await h.serve(105);
    const s = h.assembler.stats();
    assert.deepEqual([s.state, s.dropped, s.applied, s.bookId], ["LIVE", 1, 1, 108]);
    assert.equal(h.assembler.book.bestPrice("bid"), "100.20");
    assert.equal(h.assembler.book.depth("bid"), 2, "100.10 was never applied");
    h.finish();
  });
  await t.step("L beyond every buffered diff: all dropped, live rule takes over", async () => {
    const h = harness();
    h.diff(100, 105);
    h.diff(106, 108);
    await h.serve(110);
    const s = h.assembler.stats();
    assert.deepEqual([s.state, s.dropped, s.applied, s.bookId], ["LIVE", 2, 0, 110]);
    assert.equal(h.emitted[0].seq, 110);
    h.diff(109, 111, ["100.30", "1"]);
    assert.equal(h.assembler.bookId, 111, "U <= id+1 <= u+1: applied");
    h.diff(111, 112);
    assert.equal(h.assembler.bookId, 112, "an overlapping diff (U == id) is applied too");
    assert.equal(h.emitted.length, 3);
    h.finish();
  });
});

Deno.test("a snapshot older than the first buffered diff is fetched again", async (t) => {
  await t.step("re-fetch after backoff, then sync", async () => {
    const h = harness();
    h.assembler.tick(0);
    h.diff(100, 102);
    await h.serve(98); // 99 is missing between the snapshot and the first buffered diff
    assert.equal(h.emitted.length, 0);
    assert.equal(h.assembler.stats().snapshotsBehind, 1);
    assert.equal(h.fetches.length, 0, "waits out the backoff");
    h.assembler.tick(10);
    h.assembler.tick(10 + 187);
    assert.equal(h.fetches.length, 0, "first backoff with jitter 0.5 at random 0.5: 187.5 ms");
    h.assembler.tick(10 + 188);
    assert.equal(h.fetches.length, 1);
    await h.serve(101);
    assert.equal(h.assembler.state, "LIVE");
    assert.equal(h.emitted[0].seq, 102);
    assert.deepEqual(h.resyncs, [], "a re-fetch is part of the sync, not a resync");
    h.finish();
  });
  await t.step("bounded: after snapshotBehindAttemptsMax the sync restarts", async () => {
    const h = harness({ snapshotBehindAttemptsMax: 2 });
    h.assembler.tick(0);
    h.diff(100, 102);
    await h.serve(50);
    h.assembler.tick(1);
    h.assembler.tick(1_000);
    await h.serve(60);
    assert.deepEqual(h.resyncs, ["snapshot_behind"]);
    assert.equal(h.assembler.stats().buffered, 0, "the old buffer is released");
    assert.equal(h.fetches.length, 0, "waits for a fresh first diff");
    h.diff(103, 104);
    assert.equal(h.fetches.length, 1);
    await h.serve(103);
    assert.equal(h.assembler.state, "LIVE");
    assert.equal(h.assembler.bookId, 104);
    h.finish();
  });
});

Deno.test("a stale live diff (u < id) is dropped and released", async () => {
  const h = harness();
  await goLive(h, 100);
  const droppedAtSync = h.assembler.stats().dropped;
  h.diff(95, 99, ["1.00", "1"]);
  assert.equal(h.emitted.length, 1, "only the snapshot");
  assert.equal(h.assembler.stats().dropped, droppedAtSync + 1);
  assert.equal(h.assembler.bookId, 100);
  assert.equal(h.assembler.book.depth("bid"), 1);
  h.diff(101, 101);
  assert.equal(h.emitted.length, 2);
  h.finish();
});

Deno.test("a diff covered by the snapshot is dropped whether it arrives before or after it", async () => {
  // Step 4 drops buffered diffs with u <= L; one that arrives just after the snapshot response
  // with u == L is the same diff, so the counts do not depend on the response's timing.
  const before = harness();
  before.diff(96, 98);
  before.diff(99, 100, ["100.00", "7"]);
  await before.serve(100);
  const after = harness();
  after.diff(96, 98);
  await after.serve(100);
  after.diff(99, 100, ["100.00", "7"]);
  for (const h of [before, after]) {
    const s = h.assembler.stats();
    assert.deepEqual([s.state, s.dropped, s.applied, s.bookId], ["LIVE", 2, 0, 100]);
    assert.equal(h.emitted.length, 1, "only the snapshot: the covered diff is not forwarded");
    assert.equal(h.assembler.book.bestQty("bid"), "1", "the snapshot's own quantity");
    h.finish();
  }
});

Deno.test("a gap resyncs at once; the new buffer starts with the diff after the gap", async () => {
  const h = harness();
  await goLive(h, 100);
  h.diff(101, 103);
  assert.equal(h.fetches.length, 0);
  const afterGap = h.diff(110, 112, ["100.50", "2"]);
  assert.deepEqual(h.resyncs, ["gap"]);
  assert.equal(h.assembler.state, "RESYNCING");
  assert.equal(h.fetches.length, 1, "the snapshot request starts inside onDiff, no tick needed");
  assert.equal(h.assembler.stats().buffered, 1);
  assert.equal(h.emitted.includes(afterGap), false, "the gap diff is not forwarded");
  h.diff(113, 114);
  await h.serve(111);
  assert.equal(h.assembler.state, "LIVE");
  assert.equal(h.emitted.length, 3, "snapshot, live diff, new snapshot");
  const snap = h.emitted[2];
  assert.equal(snap.kind, "book_snapshot");
  assert.equal(snap.seq, 114);
  assert.deepEqual(snap.clone().bids, ["100.50", "2", "100.00", "1"]);
  assert.deepEqual(h.states, ["LIVE", "RESYNCING", "LIVE"]);
  h.finish();
});

Deno.test("recovers from a gap within 5 s even when the first snapshot is behind", async () => {
  // Stream at 100 ms, REST answers 300 ms after each request, ticks every 100 ms.
  const h = harness({ capacity: 128, staleAfterMs: 60_000 });
  let u = 100;
  h.assembler.tick(0);
  h.diff(u, u);
  await h.serve(u);
  for (let t = 100; t < 1_000; t += 100) {
    u++;
    h.diff(u, u);
    h.assembler.tick(t);
  }
  const gapAtMs = 1_000;
  u += 5; // five updates never arrive
  const asked: number[] = [0]; // the initial request, answered above
  let liveAtMs = -1;
  let answers = 0;
  for (let t = gapAtMs; t <= gapAtMs + 10_000 && liveAtMs < 0; t += 100) {
    u++;
    h.diff(u, u);
    h.assembler.tick(t);
    while (asked.length < h.assembler.stats().snapshotsRequested) asked.push(t);
    if (h.fetches.length > 0 && t - asked[asked.length - 1] >= 300) {
      // The first answer predates the gap diff (too old); the next is current.
      await h.serve(answers++ === 0 ? u - 10 : u - 1);
    }
    if (h.assembler.state === "LIVE") liveAtMs = t;
  }
  assert.deepEqual(h.resyncs, ["gap"]);
  assert.equal(asked[1], gapAtMs, "the first request went out with the gap diff");
  assert.ok(
    liveAtMs > 0 && liveAtMs - gapAtMs < 5_000,
    `live again after ${liveAtMs - gapAtMs} ms`,
  );
  assert.equal(h.assembler.bookId, u);
  h.finish();
});

Deno.test("a gap inside the buffer restarts the buffer with the diff after it", async () => {
  const h = harness();
  h.diff(100, 101);
  h.diff(102, 103);
  h.diff(106, 107);
  assert.deepEqual(h.resyncs, ["gap"]);
  assert.equal(h.assembler.state, "SYNCING", "never live yet");
  assert.equal(h.assembler.stats().buffered, 1);
  assert.equal(h.fetches.length, 1, "the request under way serves the new buffer");
  h.diff(107, 107);
  assert.equal(h.assembler.stats().dropped, 1, "not newer than the buffer's last diff");
  await h.serve(101);
  assert.equal(h.emitted.length, 0, "snapshot older than the new firstU: re-fetched");
  h.assembler.tick(0);
  h.assembler.tick(1_000);
  await h.serve(106);
  assert.equal(h.assembler.state, "LIVE");
  assert.equal(h.assembler.bookId, 107);
  h.finish();
});

Deno.test("quantity zero removes a level; removing an absent level is normal", async () => {
  const h = harness();
  h.diff(100, 100);
  await h.serve(100, [["100.00", "1"], ["99.00", "2"]], [["101.00", "1"], ["102.00", "2"]]);
  h.diff(101, 101, ["100.00", "0.00000000", "50.00", "0.00000000"], ["102.00", "0"]);
  const book = h.assembler.book;
  assert.deepEqual(book.top(5), { bids: [["99.00", "2"]], asks: [["101.00", "1"]] });
  assert.equal(h.emitted.length, 2);
  assert.equal(h.assembler.stats().resyncs.gap, 0);
  h.finish();
});

Deno.test("crossed-book guard: a crossed book is never emitted, it resyncs", async (t) => {
  await t.step("a live diff that crosses the book", async () => {
    const h = harness();
    await goLive(h, 100);
    const crossing = h.diff(101, 101, ["101.50", "1"]);
    assert.deepEqual(h.resyncs, ["crossed_book"]);
    assert.equal(h.emitted.length, 1, "only the first snapshot");
    assert.equal(h.emitted.includes(crossing), false);
    assert.equal(h.assembler.state, "RESYNCING");
    assert.equal(h.fetches.length, 1);
    assert.equal(h.assembler.stats().buffered, 1, "the crossing diff opens the new buffer");
    await h.serve(101, [["101.50", "1"]], [["101.60", "1"]]);
    assert.equal(h.assembler.state, "LIVE");
    assert.equal(h.emitted[1].kind, "book_snapshot");
    assert.equal(h.assembler.book.isCrossed(), false);
    h.finish();
  });
  await t.step("a crossed snapshot", async () => {
    const h = harness();
    h.diff(100, 100);
    await h.serve(100, [["102.00", "1"]], [["101.00", "1"]]);
    assert.deepEqual(h.resyncs, ["crossed_book"]);
    assert.equal(h.emitted.length, 0);
    assert.equal(h.assembler.state, "SYNCING");
    assert.equal(h.fetches.length, 1, "re-snapshot at once");
    await h.serve(101);
    assert.equal(h.assembler.state, "LIVE");
    h.finish();
  });
  await t.step("a buffered diff that crosses the snapshot", async () => {
    const h = harness();
    h.diff(100, 101, ["105.00", "1"]);
    await h.serve(100);
    assert.deepEqual(h.resyncs, ["crossed_book"]);
    assert.equal(h.emitted.length, 0);
    h.finish();
  });
});

Deno.test("staleness: no diff within staleAfterMs marks the book STALE and re-snapshots", async () => {
  const h = harness({ staleAfterMs: 1_000, capacity: 32 });
  h.assembler.tick(0);
  await goLive(h, 100);
  for (let t = 100; t <= 2_000; t += 100) {
    h.diff(100 + t / 100, 100 + t / 100);
    h.assembler.tick(t);
  }
  assert.equal(h.assembler.state, "LIVE", "diffs keep the book fresh");
  h.assembler.tick(2_999);
  assert.equal(h.assembler.state, "LIVE");
  h.assembler.tick(3_000);
  assert.equal(h.assembler.state, "STALE");
  assert.deepEqual(h.resyncs, ["stale"]);
  assert.equal(h.assembler.book.depth("bid"), 0, "a stale book is thrown away");
  assert.equal(h.fetches.length, 1, "quiet stream: re-snapshot at once");
  h.assembler.tick(3_500);
  await h.serve(500);
  assert.equal(h.assembler.state, "LIVE", "the update rule checks the next diff");
  assert.deepEqual(h.states, ["LIVE", "STALE", "LIVE"]);
  h.diff(501, 502);
  assert.equal(h.assembler.bookId, 502);
  h.diff(510, 511);
  assert.deepEqual(h.resyncs, ["stale", "gap"]);
  h.finish();
});

Deno.test("periodic refresh: re-snapshot at a random time within the range", async (t) => {
  for (const [random, dueMs] of [[0, 120_000], [0.5, 210_000], [0.999, 299_820]] as const) {
    await t.step(`random ${random} -> after ${dueMs} ms`, async () => {
      const h = harness({ random: () => random, staleAfterMs: 10_000_000 });
      await goLive(h, 100);
      h.assembler.tick(1_000);
      h.assembler.tick(1_000 + dueMs - 1);
      assert.equal(h.assembler.state, "LIVE");
      assert.equal(h.fetches.length, 0);
      h.assembler.tick(1_000 + dueMs);
      assert.deepEqual(h.resyncs, ["periodic_refresh"]);
      assert.equal(h.assembler.state, "RESYNCING");
      assert.equal(h.fetches.length, 1);
      h.diff(150, 151);
      await h.serve(150);
      assert.equal(h.assembler.state, "LIVE");
      assert.equal(h.emitted.length, 2);
      assert.equal(h.emitted[1].seq, 151);
      h.finish();
    });
  }
});

Deno.test("buffer overflow releases the buffer and resyncs", async () => {
  const h = harness({ bufferEventsMax: 3 });
  h.diff(1, 1);
  h.diff(2, 2);
  h.diff(3, 3);
  assert.equal(h.assembler.stats().buffered, 3);
  assert.equal(h.pool.inFlightCount(), 3);
  h.diff(4, 4);
  assert.deepEqual(h.resyncs, ["buffer_overflow"]);
  assert.equal(h.assembler.stats().buffered, 1, "the newest diff opens the new buffer");
  assert.equal(h.pool.inFlightCount(), 1, "the three buffered diffs went back to the pool");
  await h.serve(4);
  assert.equal(h.assembler.state, "LIVE");
  h.finish();
});

Deno.test("snapshot failures are retried with backoff until one succeeds", async (t) => {
  await t.step("rejected request, then success", async () => {
    const h = harness();
    h.assembler.tick(0);
    h.diff(100, 101);
    await h.fail(new Error("http 503 from /api/v3/depth"));
    assert.deepEqual(h.resyncs, ["snapshot_failed"]);
    assert.equal(h.assembler.stats().lastSnapshotError, "http 503 from /api/v3/depth");
    assert.equal(h.assembler.stats().buffered, 1, "the buffer stays valid");
    h.diff(102, 102);
    assert.equal(h.fetches.length, 0, "no request while the backoff runs");
    h.assembler.tick(100);
    h.assembler.tick(100 + 188);
    assert.equal(h.fetches.length, 1);
    await h.fail("network down");
    h.assembler.tick(300);
    h.assembler.tick(300 + 374);
    assert.equal(h.fetches.length, 0, "second backoff doubles: 375 ms");
    h.assembler.tick(300 + 375);
    assert.equal(h.fetches.length, 1);
    await h.serve(101);
    assert.equal(h.assembler.state, "LIVE");
    assert.equal(h.assembler.bookId, 102);
    assert.deepEqual(h.resyncs, ["snapshot_failed", "snapshot_failed"]);
    h.finish();
  });
  await t.step("a Retry-After on the error outlasts the backoff", async () => {
    const h = harness();
    h.assembler.tick(0);
    h.diff(100, 101);
    await h.fail(Object.assign(new Error("HTTP 429 code -1003"), { retryAfterMs: 2000 }));
    h.assembler.tick(100);
    h.assembler.tick(100 + 1999);
    assert.equal(h.fetches.length, 0, "nothing is asked inside the exchange's Retry-After");
    h.assembler.tick(100 + 2000);
    assert.equal(h.fetches.length, 1);
    await h.serve(101);
    assert.equal(h.assembler.state, "LIVE");
    h.finish();
  });
  await t.step("malformed snapshots count as failures", async () => {
    const h = harness();
    h.assembler.tick(0);
    h.diff(100, 101);
    const f = h.fetches.shift()!;
    f.resolve({ lastUpdateId: "100" as unknown as number, bids: [], asks: [] });
    await h.assembler.whenSettled();
    assert.match(h.assembler.stats().lastSnapshotError, /expected lastUpdateId/);
    h.assembler.tick(1);
    h.assembler.tick(1_000);
    await h.serve(100, [["1.0", "x"]], []);
    assert.match(h.assembler.stats().lastSnapshotError, /plain decimal/);
    assert.equal(h.assembler.stats().buffered, 1, "nothing consumed by a failed load");
    h.assembler.tick(2_000);
    h.assembler.tick(3_000);
    await h.serve(100, ["100.0", "1", "99.0", "2"], ["101.0", "1"]);
    assert.equal(h.assembler.state, "LIVE");
    assert.deepEqual(
      h.emitted[0].clone().bids,
      ["100.0", "1", "99.0", "2"],
      "flat levels accepted",
    );
    assert.deepEqual(h.resyncs, ["snapshot_failed", "snapshot_failed"]);
    h.finish();
  });
  await t.step("a request that hangs is abandoned after snapshotTimeoutMs", async () => {
    const h = harness({ snapshotTimeoutMs: 2_000, staleAfterMs: 100_000 });
    h.assembler.tick(0);
    h.diff(100, 101);
    const hung = h.fetches.shift()!;
    h.assembler.tick(100);
    h.assembler.tick(2_099);
    assert.equal(hung.signal.aborted, false);
    h.assembler.tick(2_100);
    assert.equal(hung.signal.aborted, true, "the request is aborted");
    assert.deepEqual(h.resyncs, ["snapshot_failed"]);
    assert.match(h.assembler.stats().lastSnapshotError, /timed out after 2000 ms/);
    hung.resolve({ lastUpdateId: 100, bids: [], asks: [] });
    await h.assembler.whenSettled();
    assert.equal(h.emitted.length, 0, "a late answer is ignored");
    h.assembler.tick(2_200);
    h.assembler.tick(3_000);
    await h.serve(100);
    assert.equal(h.assembler.state, "LIVE");
    h.finish();
  });
});

Deno.test("an exhausted pool delays the snapshot event, or retries after the pool's wait", async (t) => {
  await t.step("a release during the wait hands the event over", async () => {
    const clock = new ManualClock();
    const h = harness({ capacity: 2, clock });
    h.diff(100, 100);
    const f = h.fetches.shift()!;
    const blocker = h.pool.tryAcquire()!;
    assert.equal(h.pool.inFlightCount(), 2);
    f.resolve({ lastUpdateId: 100, bids: [["1.0", "1"]], asks: [["2.0", "1"]] });
    await Promise.resolve();
    await Promise.resolve();
    h.pool.release(blocker);
    await h.assembler.whenSettled();
    assert.equal(h.assembler.state, "LIVE");
    assert.equal(h.emitted.length, 1);
    h.finish();
  });
  await t.step("no release within the wait: counted and retried", async () => {
    const clock = new ManualClock();
    const h = harness({ capacity: 2, clock });
    h.assembler.tick(0);
    h.diff(100, 100);
    const f = h.fetches.shift()!;
    const blocker = h.pool.tryAcquire()!;
    f.resolve({ lastUpdateId: 100, bids: [["1.0", "1"]], asks: [["2.0", "1"]] });
    for (let i = 0; i < 5; i++) await Promise.resolve();
    clock.advance(100);
    await h.assembler.whenSettled();
    assert.deepEqual(h.resyncs, ["pool_exhausted"]);
    h.pool.release(blocker);
    h.assembler.tick(1);
    h.assembler.tick(1_000);
    await h.serve(100);
    assert.equal(h.assembler.state, "LIVE");
    h.finish();
  });
});

Deno.test("malformed diffs resync; a wrong kind or symbol is a wiring bug", async () => {
  const h = harness();
  await goLive(h, 100);
  h.diff(105, 104);
  assert.deepEqual(h.resyncs, ["invalid_event"], "U > u");
  assert.equal(h.assembler.state, "RESYNCING");
  await h.serve(110);
  h.diff(111, 111, ["abc", "1"]);
  assert.deepEqual(h.resyncs, ["invalid_event", "invalid_event"], "a malformed level");
  await h.serve(112);
  assert.equal(h.assembler.state, "LIVE");

  const trade = h.pool.tryAcquire()!;
  trade.kind = "trade";
  assert.throws(() => h.assembler.onDiff(trade), /expected a book_update of this symbol/);
  const other = h.pool.tryAcquire()!;
  other.kind = "book_update";
  other.symbol = "ETH-USDT";
  assert.throws(() => h.assembler.onDiff(other), /found book_update ETH-USDT/);
  h.finish();
});

Deno.test("requestResync re-snapshots; close releases the buffer and ignores late answers", async () => {
  const h = harness();
  await goLive(h, 100);
  h.assembler.requestResync("reconnect");
  assert.deepEqual(h.resyncs, ["reconnect"]);
  assert.equal(h.fetches.length, 1);
  h.diff(101, 101);
  h.diff(102, 102);
  const pending = h.fetches.shift()!;
  h.assembler.close();
  assert.equal(pending.signal.aborted, true);
  assert.equal(h.pool.inFlightCount(), 1, "only the emitted snapshot is still out");
  pending.resolve({ lastUpdateId: 101, bids: [], asks: [] });
  await h.assembler.whenSettled();
  h.diff(103, 103);
  assert.equal(h.emitted.length, 1, "a closed assembler emits nothing");
  h.finish();
});

Deno.test("assemblers are independent: a resync of one symbol leaves others alone", async () => {
  const pool = new BoundedPool<CanonicalEvent>({
    name: "events",
    capacity: 8,
    create: () => new CanonicalEvent(),
  });
  const emitted: CanonicalEvent[] = [];
  const answers = new Map<string, (s: BinanceDepthSnapshot) => void>();
  const make = (symbol: string, canonicalSymbol: string) =>
    new BinanceBookAssembler({
      symbol,
      canonicalSymbol,
      eventPool: pool,
      fetchSnapshot: (s) => new Promise((resolve) => answers.set(s, resolve)),
      emit: (ev) => emitted.push(ev),
    });
  const btc = make("BTCUSDT", "BTC-USDT");
  const eth = make("ETHUSDT", "ETH-USDT");
  const feed = (a: BinanceBookAssembler, sym: string, U: number, u: number) => {
    const ev = pool.tryAcquire()!;
    ev.kind = "book_update";
    ev.symbol = sym;
    ev.seqFirst = U;
    ev.seq = u;
    a.onDiff(ev);
  };
  feed(btc, "BTC-USDT", 10, 10);
  feed(eth, "ETH-USDT", 50, 50);
  answers.get("BTCUSDT")!({ lastUpdateId: 10, bids: [["1", "1"]], asks: [["2", "1"]] });
  answers.get("ETHUSDT")!({ lastUpdateId: 50, bids: [["3", "1"]], asks: [["4", "1"]] });
  await Promise.all([btc.whenSettled(), eth.whenSettled()]);
  assert.equal(btc.state, "LIVE");
  assert.equal(eth.state, "LIVE");
  feed(btc, "BTC-USDT", 20, 21);
  assert.equal(btc.state, "RESYNCING");
  assert.equal(eth.state, "LIVE");
  feed(eth, "ETH-USDT", 51, 51);
  assert.equal(eth.bookId, 51);
  assert.equal(eth.book.bestPrice("bid"), "3");
  assert.equal(emitted.length, 3);
  assert.equal(emitted[2].symbol, "ETH-USDT");
  for (const ev of emitted) pool.release(ev);
  btc.close();
  eth.close();
  assert.equal(pool.inFlightCount(), 0);
});

Deno.test("options are validated with clear messages", () => {
  const pool = new BoundedPool<CanonicalEvent>({
    name: "events",
    capacity: 1,
    create: () => new CanonicalEvent(),
  });
  const base: BinanceBookAssemblerOptions = {
    symbol: "BTCUSDT",
    canonicalSymbol: "BTC-USDT",
    eventPool: pool,
    fetchSnapshot: () => Promise.reject(new Error("unused")),
    emit: () => {},
  };
  assert.throws(
    () => new BinanceBookAssembler({ ...base, bufferEventsMax: 0 }),
    /expected bufferEventsMax as an integer >= 1, found 0/,
  );
  assert.throws(
    () =>
      new BinanceBookAssembler({
        ...base,
        refreshIntervalMsMin: 300_000,
        refreshIntervalMsMax: 120_000,
      }),
    /expected refreshIntervalMsMax >= refreshIntervalMsMin/,
  );
  assert.throws(() => new BinanceBookAssembler({ ...base, symbol: "" }), /exchange symbol/);
  const a = new BinanceBookAssembler(base);
  assert.throws(() => a.tick(NaN), /expected a finite nowMs/);
});
