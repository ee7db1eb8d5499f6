import assert from "node:assert/strict";
import {
  OkxAdapter,
  type OkxAdapterOptions,
  type OkxBookStats,
} from "../../src/adapter/okx/mod.ts";
import type { BookResyncEvent, BookStateChange } from "../../src/adapter/shared/mod.ts";
import { PoolManager } from "../../src/pool/mod.ts";
import { createSchemaPools } from "../../src/schema/mod.ts";
import { type OkxSim, type OkxSimOptions, startOkxSim } from "../../src/sim/okx/mod.ts";

const SYMBOLS = ["BTC-USDT", "ETH-USDT"] as const;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<number> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) {
      throw new Error(`expected ${what} within ${timeoutMs} ms, found it still false`);
    }
    await sleep(5);
  }
  return performance.now() - start;
}

interface Harness {
  sim: OkxSim;
  adapter: OkxAdapter;
  byKind: Record<string, number>;
  resyncs: (BookResyncEvent & { atMs: number })[];
  stateChanges: BookStateChange[];
  book(symbol: string): OkxBookStats;
  allLive(timeoutMs?: number): Promise<number>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A simulator plus an adapter on it; `start()` starts the adapter (so faults can be armed first). */
async function createHarness(
  opts: { sim?: OkxSimOptions; adapter?: Partial<OkxAdapterOptions> } = {},
): Promise<Harness> {
  const sim = await startOkxSim({
    seed: 7,
    eventsPerSecond: 2000,
    symbols: SYMBOLS,
    booksMode: "no-snapshot",
    ...opts.sim,
  });
  const poolManager = new PoolManager({ debug: true });
  const pools = createSchemaPools(poolManager, { CanonicalEvent: 2000 });
  const byKind: Record<string, number> = {};
  const resyncs: (BookResyncEvent & { atMs: number })[] = [];
  const stateChanges: BookStateChange[] = [];
  const adapter = new OkxAdapter({
    tickIntervalMs: 20,
    restTimeoutMs: 3000,
    connection: {
      backoff: { initialMs: 50, maxMs: 400 },
      connectTimeoutMs: 3000,
      closeTimeoutMs: 500,
      switchoverTimeoutMs: 1000,
    },
    bootstrap: "rest",
    book: { snapshotTimeoutMs: 2000, bootstrapWaitMs: 300, restRetryDelayMs: 50 },
    ...opts.adapter,
    restUrl: sim.restUrl,
    wsUrl: sim.wsUrl,
    businessWsUrl: sim.businessWsUrl,
    symbols: SYMBOLS,
    pools,
    sink: (ev) => {
      byKind[ev.kind] = (byKind[ev.kind] ?? 0) + 1;
      pools.canonicalEvent.release(ev);
    },
    onResync: (e) => resyncs.push({ ...e, atMs: performance.now() }),
    onStateChange: (c) => stateChanges.push(c),
  });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await adapter.close();
      await sim.close();
      assert.equal(poolManager.totalInFlight(), 0, "pooled objects left in flight");
    })();
    return closing;
  };
  const book = (symbol: string) => adapter.books().find((b) => b.symbol === symbol)!;
  return {
    sim,
    adapter,
    byKind,
    resyncs,
    stateChanges,
    book,
    allLive: (timeoutMs = 5000) =>
      waitFor("every book LIVE", () => {
        const books = adapter.books();
        return books.length === SYMBOLS.length && books.every((b) => b.state === "LIVE");
      }, timeoutMs),
    start: async () => {
      try {
        await adapter.start();
      } catch (err) {
        await close();
        throw err;
      }
    },
    close,
  };
}

async function startHarness(
  opts: { sim?: OkxSimOptions; adapter?: Partial<OkxAdapterOptions> } = {},
): Promise<Harness> {
  const h = await createHarness(opts);
  await h.start();
  return h;
}

/** Pauses the simulator and waits until the adapter holds exactly the simulator's books. */
async function assertBooksEqualSim(h: Harness): Promise<void> {
  h.sim.pause();
  for (const symbol of SYMBOLS) {
    const expected = h.sim.bookSnapshot(symbol);
    await waitFor(`${symbol} at seqId ${expected.seqId}`, () => {
      const b = h.book(symbol);
      return b?.state === "LIVE" && b.seqId === expected.seqId;
    });
    const view = h.adapter.bookView(symbol, 400)!;
    assert.ok(view.bids.length > 10, `${symbol} has a deep book`);
    assert.deepEqual(view.bids, expected.bids.map((l) => [l[0], l[1]]), `${symbol} bids`);
    assert.deepEqual(view.asks, expected.asks.map((l) => [l[0], l[1]]), `${symbol} asks`);
  }
  h.sim.resume();
}

Deno.test("okx rest bootstrap: books go LIVE from REST with no WS snapshot and equal the simulator", async () => {
  const h = await startHarness();
  try {
    await h.allLive();
    for (const symbol of SYMBOLS) {
      const b = h.book(symbol);
      assert.equal(b.syncSource, "rest", symbol);
      assert.equal(b.restSnapshots, 1, symbol);
      assert.equal(b.snapshots, 0, `${symbol}: no WS snapshot was sent`);
    }
    await waitFor("book updates", () => (h.byKind.book_update ?? 0) > 20);
    await assertBooksEqualSim(h);
    assert.equal(h.byKind.book_snapshot, SYMBOLS.length);
    assert.equal(h.resyncs.length, 0);
    const rest = h.adapter.stats().rest!;
    assert.ok(rest.requests >= SYMBOLS.length);
    assert.ok(rest.inFlightPeak <= 2, `at most 2 requests in flight, found ${rest.inFlightPeak}`);
    assert.equal(rest.rateLimited, 0);
  } finally {
    await h.close();
  }
});

Deno.test("okx rest bootstrap: a snapshot older than the first buffered update is fetched again", async () => {
  const h = await createHarness();
  try {
    const frozen = h.sim.bookSnapshot("BTC-USDT").seqId;
    h.sim.faults.staleRestBook("BTC-USDT", 2);
    // The chain moves past the captured book before the adapter subscribes, so the stale
    // answers' seqId S is below the first prevSeqId the adapter buffers.
    await waitFor("the chain to move on", () => h.sim.bookSnapshot("BTC-USDT").seqId > frozen);
    await h.start();
    await h.allLive();
    const btc = h.book("BTC-USDT");
    assert.equal(h.sim.stats().staleRestBooks, 2);
    assert.equal(btc.snapshotRetries, 2, "one re-fetch per stale answer");
    assert.equal(btc.restSnapshots, 1);
    assert.ok(btc.seqId > frozen);
    assert.equal(h.book("ETH-USDT").snapshotRetries, 0);
    assert.equal(h.resyncs.length, 0, "retries within the bound are not resyncs");
    await assertBooksEqualSim(h);
  } finally {
    await h.close();
  }
});

Deno.test("okx rest bootstrap: too many stale snapshots end in a snapshot_behind resync, then LIVE", async () => {
  const h = await createHarness({ adapter: { book: { snapshotBehindAttemptsMax: 2 } } });
  try {
    const frozen = h.sim.bookSnapshot("ETH-USDT").seqId;
    h.sim.faults.staleRestBook("ETH-USDT", 3);
    await waitFor("the chain to move on", () => h.sim.bookSnapshot("ETH-USDT").seqId > frozen);
    await h.start();
    await h.allLive();
    assert.deepEqual(
      h.resyncs.map((r) => [r.symbol, r.reason]),
      [["ETH-USDT", "snapshot_behind"]],
    );
    assert.equal(h.book("ETH-USDT").snapshotRetries, 3);
    await assertBooksEqualSim(h);
  } finally {
    await h.close();
  }
});

Deno.test("okx rest bootstrap: a gap resyncs that book through REST within 5 s, the other stays LIVE", async () => {
  const h = await startHarness();
  try {
    await h.allLive();
    const acksBefore = h.adapter.stats().subscribeAcks;
    const ethChangesBefore = h.stateChanges.filter((c) => c.symbol === "ETH-USDT").length;
    h.sim.faults.gap("BTC-USDT");
    await waitFor("a gap resync", () => h.resyncs.some((r) => r.reason === "gap"));
    const resync = h.resyncs.find((r) => r.reason === "gap")!;
    assert.equal(resync.symbol, "BTC-USDT");
    await waitFor("BTC-USDT LIVE from a second REST snapshot", () => {
      const b = h.book("BTC-USDT");
      return b.state === "LIVE" && b.restSnapshots === 2;
    });
    assert.ok(performance.now() - resync.atMs < 5000, "resynced within 5 s");
    assert.ok(h.resyncs.every((r) => r.symbol === "BTC-USDT"));
    const eth = h.book("ETH-USDT");
    assert.equal(eth.state, "LIVE");
    assert.equal(eth.restSnapshots, 1, "ETH-USDT was not re-fetched");
    assert.equal(
      h.stateChanges.filter((c) => c.symbol === "ETH-USDT").length,
      ethChangesBefore,
      "ETH-USDT never left LIVE",
    );
    const stats = h.adapter.stats();
    assert.equal(stats.connection?.connects, 1, "resynced without reconnecting");
    assert.equal(stats.subscribeAcks, acksBefore, "resynced without resubscribing");
    await assertBooksEqualSim(h);
  } finally {
    await h.close();
  }
});

Deno.test("okx rest bootstrap: a reconnect rebuilds every book through REST", async () => {
  const h = await startHarness();
  try {
    await h.allLive();
    assert.equal(h.sim.faults.disconnect(), 1);
    await waitFor(
      "reconnect resyncs",
      () => h.resyncs.filter((r) => r.reason === "reconnect").length === 2,
    );
    await waitFor(
      "books LIVE from REST again",
      () => h.adapter.books().every((b) => b.state === "LIVE" && b.restSnapshots === 2),
    );
    await assertBooksEqualSim(h);
  } finally {
    await h.close();
  }
});

Deno.test("okx rest bootstrap: a sequence reset is accepted without resync", async () => {
  const h = await startHarness();
  try {
    await h.allLive();
    h.sim.faults.resetSequence("BTC-USDT");
    await waitFor("a reset", () => h.book("BTC-USDT").sequenceResets > 0);
    await assertBooksEqualSim(h);
    assert.equal(h.resyncs.length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("okx bootstrap modes against both venue behaviours", async (t) => {
  await t.step("rest ignores WS snapshots when the venue still sends them", async () => {
    const h = await startHarness({ sim: { booksMode: "snapshot" } });
    try {
      await h.allLive();
      for (const symbol of SYMBOLS) {
        const b = h.book(symbol);
        assert.equal(b.syncSource, "rest");
        assert.equal(b.wsSnapshotsIgnored, 1);
      }
      await assertBooksEqualSim(h);
    } finally {
      await h.close();
    }
  });
  await t.step("auto uses the WS snapshot when one arrives (no REST book request)", async () => {
    const h = await startHarness({
      sim: { booksMode: "snapshot" },
      adapter: { bootstrap: "auto" },
    });
    try {
      await h.allLive();
      for (const symbol of SYMBOLS) assert.equal(h.book(symbol).syncSource, "ws");
      await sleep(400); // past bootstrapWaitMs: the REST fallback must stay unused
      assert.equal(h.adapter.stats().rest!.requests, 0);
      await assertBooksEqualSim(h);
    } finally {
      await h.close();
    }
  });
  await t.step(
    "auto falls back to REST when no WS snapshot comes, and resyncs via REST",
    async () => {
      const h = await startHarness({ adapter: { bootstrap: "auto" } });
      try {
        const waitedMs = await h.allLive();
        assert.ok(
          waitedMs >= 250,
          `waited for a WS snapshot first, found LIVE after ${waitedMs} ms`,
        );
        for (const symbol of SYMBOLS) assert.equal(h.book(symbol).syncSource, "rest");
        const acksBefore = h.adapter.stats().subscribeAcks;
        h.sim.faults.gap("ETH-USDT");
        await waitFor("ETH-USDT LIVE again", () => {
          const b = h.book("ETH-USDT");
          return b.state === "LIVE" && b.restSnapshots === 2;
        });
        assert.equal(h.adapter.stats().subscribeAcks, acksBefore, "no resubscribe");
        await assertBooksEqualSim(h);
      } finally {
        await h.close();
      }
    },
  );
});
